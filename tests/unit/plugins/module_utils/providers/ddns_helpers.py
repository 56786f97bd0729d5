"""What the DDNS provider tests share: the emulators' import, a stand-in for the DNS query the caller
gives set_addresses, and a log capture to prove secrets never reach a log record."""

from __future__ import annotations

from collections.abc import Callable

try:
    from emulators import duckdns, dyndns2, freedns, namecheap
except ImportError:  # under `ansible-test units` tests/ is part of the collection, not on sys.path
    from ansible_collections.fleetdns.ddns.tests.emulators import duckdns, dyndns2, freedns, namecheap

__all__ = ["assert_hidden", "duckdns", "dyndns2", "freedns", "namecheap", "state_lookup"]


def state_lookup(read: Callable[[str, str], str | None]) -> Callable[[str, str], frozenset[str]]:
    """A lookup answering from the service's own state, as its authoritative servers would: `read`
    gives (name, type) -> the address the emulator holds, or None."""

    def lookup(name: str, rtype: str) -> frozenset[str]:
        value = read(name, rtype)
        return frozenset({value}) if value else frozenset()

    return lookup


def assert_hidden(secret: str, *texts: str, caplog: object = None) -> None:
    """`secret` appears in none of `texts` nor in any log record captured (at DEBUG)."""
    for text in texts:
        assert secret not in text, text
    if caplog is not None:
        for record in caplog.records:  # type: ignore[attr-defined]
            assert secret not in record.getMessage(), record.getMessage()
