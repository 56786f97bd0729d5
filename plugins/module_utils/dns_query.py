"""Asking one DNS server directly what a name holds, and finding a zone's name servers: what the
agent (before an update and to verify it) and the update-only providers (before sending) share.

The question goes out without recursion, so a server answers from its own data, never from a
resolver's cache; a truncated UDP answer is asked again over TCP. Callers map failures (the
dnspython and socket errors this raises) and rcodes to their own kind of error.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

try:
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.query
    import dns.rcode
    import dns.rdatatype
    import dns.resolver

    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()


@dataclass(frozen=True)
class Reply:
    """What one server said: its rcode, whether it answered with authority, the values of the name
    and type asked (lower-case presentation texts)."""

    rcode: int
    authoritative: bool
    values: frozenset[str]


def ask(address: str, port: int, name: str, rtype: str, timeout: float) -> Reply:
    """One non-recursive question to the server at `address`; raises on timeouts and failures."""
    qname = dns.name.from_text(name)
    wanted = dns.rdatatype.from_text(rtype)
    query = dns.message.make_query(qname, wanted)
    query.flags &= ~dns.flags.RD
    response = dns.query.udp(query, address, timeout=timeout, port=port)
    if response.flags & dns.flags.TC:
        response = dns.query.tcp(query, address, timeout=timeout, port=port)
    values = {
        rdata.to_text().lower()
        for rrset in response.answer
        if rrset.name == qname and rrset.rdtype == wanted
        for rdata in rrset
    }
    return Reply(response.rcode(), bool(response.flags & dns.flags.AA), frozenset(values))


def name_server_addresses(name: str, zone: str | None = None, lifetime: float | None = None) -> list[tuple[str, int]]:
    """(address, 53) of every name server of `zone` (found from `name` when None), through the
    system's resolver: name servers in name order, each with its IPv4 then its IPv6 addresses.
    Raises dns.exception.DNSException when the resolver cannot tell."""
    found = dns.name.from_text(zone) if zone else dns.resolver.zone_for_name(name, lifetime=lifetime)
    servers = []
    for ns in sorted(r.target.to_text() for r in dns.resolver.resolve(found, "NS", lifetime=lifetime)):
        for rtype in ("A", "AAAA"):
            try:
                servers.extend(
                    (r.address, 53) for r in sorted(dns.resolver.resolve(ns, rtype, lifetime=lifetime), key=str)
                )
            except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
                continue
    return servers
