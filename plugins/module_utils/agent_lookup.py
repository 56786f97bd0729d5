"""What the authoritative servers answer for a name now: asked before an update (nothing is sent
when they already hold the address) and after it (verification).

Every server is asked directly, without recursion, so no resolver cache answers for them. The
lookup answers one set of values only when all servers agree; otherwise (or when one of them does
not answer) it answers a set holding DISAGREE or NO_ANSWER, which never equals a wanted set of
addresses, so the caller updates or keeps verifying.
"""

from __future__ import annotations

import ipaddress
import socket
import traceback

from .dns_query import ask, name_server_addresses
from .errors import ProviderError

try:
    import dns.exception
    import dns.rcode

    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()

DISAGREE = "(the authoritative servers disagree)"
NO_ANSWER = "(an authoritative server did not answer)"
QUERY_TIMEOUT = 3.0


class AuthoritativeLookup:
    """(name, A/AAAA) -> the addresses every one of `servers` answers, asked directly."""

    def __init__(self, servers: list[tuple[str, int]], timeout: float = QUERY_TIMEOUT) -> None:
        self.servers = list(servers)
        self.timeout = timeout
        self.queries = 0  # sent, for tests and the cost of an unchanged pass

    def answers(self, name: str, rtype: str) -> dict[str, frozenset[str] | str]:
        """Each server's answer: its values, or why it gave none."""
        result: dict[str, frozenset[str] | str] = {}
        for host, port in self.servers:
            label = f"{host}:{port}" if port != 53 else host
            result[label] = self._ask(host, port, name, rtype)
        return result

    def __call__(self, name: str, rtype: str) -> frozenset[str]:
        seen = list(self.answers(name, rtype).values())
        if not seen or any(isinstance(a, str) for a in seen):
            return frozenset({NO_ANSWER})
        first = seen[0]
        return first if all(a == first for a in seen) else frozenset({DISAGREE})  # type: ignore[return-value]

    def _ask(self, host: str, port: int, name: str, rtype: str) -> frozenset[str] | str:
        self.queries += 1
        try:
            reply = ask(_address(host), port, name, rtype, self.timeout)
        except dns.exception.Timeout:
            return f"no answer within {self.timeout:g} s"
        except (OSError, dns.exception.DNSException) as exc:
            return f"query failed ({exc})"
        if reply.rcode == dns.rcode.NXDOMAIN:
            return frozenset()
        if reply.rcode != dns.rcode.NOERROR:
            return f"answered {dns.rcode.to_text(reply.rcode)}"
        if not reply.authoritative:
            return "is not authoritative for the name"
        return frozenset(str(ipaddress.ip_address(value)) for value in reply.values)


def _address(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return str(socket.getaddrinfo(host, 53, proto=socket.IPPROTO_UDP)[0][4][0])


def zone_servers(name: str, zone: str | None) -> list[tuple[str, int]]:
    """The addresses of the name servers of `zone` (found from `name` when None), from the system
    resolver: the servers an update-only service's answers must reach."""
    try:
        servers = name_server_addresses(name, zone)
    except dns.exception.DNSException as exc:
        raise ProviderError(
            f"cannot find the authoritative servers of {zone or name} ({exc})",
            "set verify_servers for the provider, or check this host's resolver",
        ) from None
    if not servers:
        raise ProviderError(f"the name servers of {zone or name} have no address", "set verify_servers")
    return servers
