"""A strict dyndns2 service (No-IP and Dyn flavours) on loopback, for clients that speak `GET /nic/update`.

    with Dyndns2Emulator(tls_dir=tmp_path / "tls", flavour="noip") as noip:
        noip.add_account("user@example.test", "secret", hosts=["home.example.test"])
        ... the client sends Basic auth to noip.https_url + "/nic/update?hostname=...&myip=..." ...
        noip.address("home.example.test") == ("192.0.2.1", None)

The protocol as documented (the request, return codes and policies of Dyn and No-IP):

- `GET` (or `POST`) on `/nic/update`, and `/v3/update` for Dyn; anything else is 404.
- HTTP Basic auth. No `Authorization` header at all: 401 with `WWW-Authenticate: Basic` and the body
  `authentication required` (as ddclient's own dyndns2 test server answers; it is also what lets
  clients built on urllib's reactive Basic handler send their credentials). Credentials that do not
  match: 200 `badauth`, once — the services answer in the body.
- User-Agent: every client must send one naming itself and its version. None, an empty one, one
  without any digit (no version) or one of a bare HTTP library (`python-requests/…`, `curl/…`: it names
  no program) gets `badagent`, once; `blocked_agents` adds more.
- `hostname`: comma-separated, required: none → `notfqdn` once; more than 20 → `numhost` once. Per host,
  one line each in the order given: not a FQDN → `notfqdn`; not in the account → `nohost` (Dyn: `!yours`
  when another account holds it); blocked → `abuse`.
- `myip`: an IPv4 and/or an IPv6 address, comma separated (ddclient sends `myip=v4,v6`); absent or
  empty → the caller's address. Two of one family, or something that is no address, is refused with a
  400 `invalid myip` (the services document no code for it; no client may take it for success).
- `offline=YES` needs a paid account: `!donator` otherwise.
- Dyn's `system` must be `dyndns`, `statdns` or `custom` when sent (`badsys` otherwise).
- Success: `good <ip>` or `nochg <ip>`; with both families No-IP lists both, comma separated.
- Repeated `nochg` is abuse: after `nochg_limit` consecutive `nochg` answers for a host (the services
  publish no number; 5 here) the host is blocked and every later update of it answers `abuse`.

State per host: the IPv4 and IPv6 address (`address(host)`), offline flag, consecutive nochg count.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .ddns_base import Answer, DdnsEmulator, Request, is_fqdn, parse_address

MAX_HOSTS = 20
DEFAULT_NOCHG_LIMIT = 5
_LIBRARY_AGENTS = re.compile(r"^(python-requests|python-urllib|curl|wget|go-http-client|java|okhttp)/", re.IGNORECASE)
_DYN_SYSTEMS = {"dyndns", "statdns", "custom"}


@dataclass
class Host:
    """A host name of an account and what it holds."""

    name: str
    ipv4: str | None = None
    ipv6: str | None = None
    offline: bool = False
    nochg_streak: int = 0
    blocked: bool = False


@dataclass
class Account:
    username: str
    password: str
    donator: bool = False
    hosts: dict[str, Host] = field(default_factory=dict)


class Dyndns2Emulator(DdnsEmulator):
    """dyndns2 as No-IP (`flavour="noip"`) or Dyn (`flavour="dyn"`) answer it."""

    server_version = "dyndns2"

    def __init__(
        self,
        tls_dir: str | Path | None = None,
        flavour: str = "noip",
        nochg_limit: int = DEFAULT_NOCHG_LIMIT,
        blocked_agents: tuple[str, ...] = (),
    ) -> None:
        super().__init__(tls_dir)
        if flavour not in ("noip", "dyn"):
            raise ValueError(f"flavour must be 'noip' or 'dyn', not {flavour!r}")
        self.flavour = flavour
        self.nochg_limit = nochg_limit
        self.blocked_agents = blocked_agents
        self.accounts: dict[str, Account] = {}
        self.paths = {"/nic/update"} | ({"/v3/update"} if flavour == "dyn" else set())

    # ---- test controls ------------------------------------------------------------------------------
    def add_account(self, username: str, password: str, hosts: Sequence[str] = (), donator: bool = False) -> Account:
        account = Account(username, password, donator)
        for name in hosts:
            account.hosts[name.lower()] = Host(name.lower())
        with self.lock:
            self.accounts[username] = account
        return account

    def host(self, name: str) -> Host:
        with self.lock:
            for account in self.accounts.values():
                if name.lower() in account.hosts:
                    return account.hosts[name.lower()]
        raise KeyError(f"no host {name} in any account")

    def address(self, name: str) -> tuple[str | None, str | None]:
        """(IPv4, IPv6) the host holds now."""
        found = self.host(name)
        return found.ipv4, found.ipv6

    def set_address(self, name: str, ipv4: str | None = None, ipv6: str | None = None) -> None:
        found = self.host(name)
        with self.lock:
            found.ipv4, found.ipv6 = ipv4, ipv6

    def log_extra(self, request: Request) -> dict[str, Any]:
        credentials = _basic_credentials(request.header("Authorization"))
        return {"user": credentials[0] if credentials else None}

    # ---- the protocol -------------------------------------------------------------------------------
    def answer(self, request: Request) -> Answer:
        if request.path not in self.paths:
            return Answer("not found", 404, "text/html", endpoint="unknown")
        credentials = _basic_credentials(request.header("Authorization"))
        if credentials is None:
            return Answer(
                "authentication required",
                401,
                headers={"WWW-Authenticate": 'Basic realm="realm", charset="UTF-8"'},
            )
        if not self._agent_ok(request.header("User-Agent")):
            return Answer("badagent")
        account = self.accounts.get(credentials[0])
        if account is None or account.password != credentials[1]:
            return Answer("badauth")
        system = request.query.get("system")
        if self.flavour == "dyn" and system is not None and system not in _DYN_SYSTEMS:
            return Answer("badsys")
        names = [n.strip().lower() for n in request.query.get("hostname", "").split(",") if n.strip()]
        if not names:
            return Answer("notfqdn")
        if len(names) > MAX_HOSTS:
            return Answer("numhost")
        addresses = _addresses(request.query.get("myip", ""), request.client_ip)
        if addresses is None:
            return Answer("invalid myip", 400)
        offline = request.query.get("offline", "").upper() == "YES"
        if offline and not account.donator:
            return Answer("!donator")
        return Answer("\n".join(self._update(account, name, addresses, offline) for name in names))

    def _agent_ok(self, agent: str | None) -> bool:
        if agent is None or not agent.strip() or not any(c.isdigit() for c in agent):
            return False
        if _LIBRARY_AGENTS.match(agent.strip()):
            return False
        return not any(blocked in agent for blocked in self.blocked_agents)

    def _update(self, account: Account, name: str, addresses: tuple[str | None, str | None], offline: bool) -> str:
        if not is_fqdn(name):
            return "notfqdn"
        host = account.hosts.get(name)
        if host is None:
            owned_elsewhere = any(name in other.hosts for other in self.accounts.values())
            return "!yours" if self.flavour == "dyn" and owned_elsewhere else "nohost"
        if host.blocked:
            return "abuse"
        ipv4, ipv6 = addresses
        shown = ",".join(a for a in (ipv4, ipv6) if a) if self.flavour == "noip" else (ipv4 or ipv6 or "")
        changed = (ipv4 is not None and ipv4 != host.ipv4) or (ipv6 is not None and ipv6 != host.ipv6)
        changed = changed or offline != host.offline
        if not changed:
            host.nochg_streak += 1
            if host.nochg_streak > self.nochg_limit:
                host.blocked = True
                return "abuse"
            return f"nochg {shown}"
        host.nochg_streak = 0
        host.offline = offline
        if ipv4 is not None:
            host.ipv4 = ipv4
        if ipv6 is not None:
            host.ipv6 = ipv6
        return f"good {shown}"


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(username, password) from a Basic Authorization header; None when there is none or it is garbled."""
    if not header or not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def _addresses(myip: str, client_ip: str) -> tuple[str | None, str | None] | None:
    """(IPv4, IPv6) to set from `myip`, or from the caller's address when it is empty; None if invalid."""
    parts = [p.strip() for p in myip.split(",") if p.strip()] or [client_ip]
    ipv4 = ipv6 = None
    for part in parts:
        address = parse_address(part)
        if address is None:
            return None
        if address.version == 4:
            if ipv4 is not None:
                return None
            ipv4 = str(address)
        else:
            if ipv6 is not None:
                return None
            ipv6 = str(address)
    return ipv4, ipv6
