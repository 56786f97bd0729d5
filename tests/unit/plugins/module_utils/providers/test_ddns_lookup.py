"""ddns_lookup: the `resolver` option's forms, and what a query against a real BIND gives (addresses,
nothing for a missing name, a deferral when nobody answers)."""

from __future__ import annotations

import socket

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.ddns_lookup import (
    LOOKUP_OPTIONS,
    dns_lookup,
    parse_server,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.update_errors import UpdateDeferredError


def test_resolver_forms() -> None:
    assert parse_server("192.0.2.53") == ("192.0.2.53", 53)
    assert parse_server("192.0.2.53:5353") == ("192.0.2.53", 5353)
    assert parse_server("2001:db8::53") == ("2001:db8::53", 53)
    assert parse_server("[2001:db8::53]:5353") == ("2001:db8::53", 5353)
    for bad in ("192.0.2.53:http", "192.0.2.53:0", "[2001:db8::53", ":53"):
        with pytest.raises(ValueError):
            parse_server(bad)
    check = LOOKUP_OPTIONS["resolver"].check
    assert check is not None and check("127.0.0.1:70000") and check("127.0.0.1:5353") is None


def test_queries_a_real_server(bind) -> None:
    bind.nsupdate("update add gw.example.test. 60 A 192.0.2.9\nupdate add gw.example.test. 60 AAAA 2001:DB8:0::9")
    lookup = dns_lookup(f"127.0.0.1:{bind.port}")
    assert lookup("gw.example.test.", "A") == frozenset({"192.0.2.9"})
    assert lookup("gw.example.test.", "AAAA") == frozenset({"2001:db8::9"})
    assert lookup("nothere.example.test.", "A") == frozenset()


def test_a_silent_server_defers() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        lookup = dns_lookup(f"127.0.0.1:{silent.getsockname()[1]}", timeout=0.3)
        with pytest.raises(UpdateDeferredError) as caught:
            lookup("gw.example.test.", "A")
    assert "no answer" in caught.value.message
