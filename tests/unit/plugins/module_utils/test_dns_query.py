"""dns_query.ask against a real BIND: the values of exactly the name and type asked, with authority,
and the rcode of a name that does not exist."""

from __future__ import annotations

import dns.rcode
from ansible_collections.fleetdns.ddns.plugins.module_utils.dns_query import ask


def test_ask_gives_the_values_with_authority_and_the_rcode(bind) -> None:
    bind.nsupdate('update add gw.example.test. 60 A 192.0.2.9\nupdate add gw.example.test. 60 TXT "Mixed Case"')
    reply = ask("127.0.0.1", bind.port, "gw.example.test.", "A", timeout=5)
    assert reply.rcode == dns.rcode.NOERROR and reply.authoritative and reply.values == frozenset({"192.0.2.9"})
    assert ask("127.0.0.1", bind.port, "gw.example.test.", "TXT", timeout=5).values == frozenset({'"mixed case"'})
    missing = ask("127.0.0.1", bind.port, "nothere.example.test.", "A", timeout=5)
    assert missing.rcode == dns.rcode.NXDOMAIN and missing.values == frozenset()
