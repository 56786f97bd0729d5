"""What DNS says a name holds, for the update-only providers: asked before an update (nothing is sent
when the name already holds the address) and after it (to verify).

The question goes to one server: the `resolver` option when set (a server that answers for the
name, such as the service's own name server or a resolver the user trusts), else the name's
authoritative servers, found through the system's resolver and asked directly, so that no
resolver cache answers with the address from before the last update.
"""

from __future__ import annotations

import traceback

from ..dns_query import ask, name_server_addresses
from ..errors import ProviderError
from .base import Lookup, Option
from .update_errors import UpdateDeferredError

try:
    import dns.exception
    import dns.rcode

    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()

LOOKUP_TIMEOUT = 5.0


def _check_resolver(value: object) -> str | None:
    try:
        parse_server(str(value))
    except ValueError as exc:
        return str(exc)
    return None


LOOKUP_OPTIONS = {
    "resolver": Option(
        str,
        description="DNS server (address, or address:port; [v6]:port) asked what a name holds before and after an "
        "update; default: the name's authoritative servers",
        check=_check_resolver,
    ),
}


def parse_server(text: str) -> tuple[str, int]:
    """(address, port) from `192.0.2.53`, `192.0.2.53:5353`, `2001:db8::53` or `[2001:db8::53]:5353`."""
    text = text.strip()
    host, port = text, 53
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r} is not address or [address]:port")
        port_text = rest[1:]
        if port_text:
            port = _port(port_text, text)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        port = _port(port_text, text)
    if not host:
        raise ValueError(f"{text!r} has no address")
    return host, port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{whole!r}: the port must be a number from 1 to 65535")
    return int(text)


def dns_lookup(resolver: str | None, timeout: float = LOOKUP_TIMEOUT) -> Lookup:
    """A lookup for set_addresses: (absolute name, A/AAAA) -> the addresses DNS gives now."""
    if not HAS_DNSPYTHON:
        raise ProviderError("looking names up needs the Python package 'dnspython'", "pip install dnspython")
    fixed = parse_server(resolver) if resolver else None

    def lookup(name: str, rtype: str) -> frozenset[str]:
        server = fixed or _authoritative(name, timeout)
        return _ask(server, name, rtype, timeout)

    return lookup


def _ask(server: tuple[str, int], name: str, rtype: str, timeout: float) -> frozenset[str]:
    where = f"{server[0]} port {server[1]}"
    try:
        reply = ask(server[0], server[1], name, rtype, timeout)
    except dns.exception.Timeout:
        raise UpdateDeferredError(
            f"no answer from {where} to the query for {name} {rtype}", "check resolver and the network", "dns"
        ) from None
    except (OSError, dns.exception.DNSException) as exc:
        raise UpdateDeferredError(f"the query for {name} {rtype} at {where} failed: {exc}", "", "dns") from None
    if reply.rcode == dns.rcode.NXDOMAIN:
        return frozenset()
    if reply.rcode != dns.rcode.NOERROR:
        raise UpdateDeferredError(
            f"{where} answered {dns.rcode.to_text(reply.rcode)} to the query for {name} {rtype}",
            "set resolver to a server that answers for the name",
            "dns",
        )
    return reply.values


def _authoritative(name: str, timeout: float) -> tuple[str, int]:
    """An address of one of the name's authoritative servers, through the system's resolver."""
    try:
        servers = name_server_addresses(name, lifetime=timeout)
    except dns.exception.DNSException as exc:
        raise UpdateDeferredError(
            f"could not find the authoritative servers of {name}: {exc}",
            "set the provider's resolver option to a DNS server that answers for the name",
            "dns",
        ) from None
    if servers:
        return servers[0]
    raise UpdateDeferredError(
        f"the authoritative servers of {name} have no address",
        "set the provider's resolver option to a DNS server that answers for the name",
        "dns",
    )


def provider_lookup(options: dict) -> Lookup:
    """The lookup an update-only provider entry asks for (its `resolver` option)."""
    resolver = options.get("resolver")
    return dns_lookup(str(resolver) if resolver else None)
