"""A strict Namecheap dynamic DNS on loopback: `GET /update?host=&domain=&password=[&ip=]`.

    with NamecheapEmulator(tls_dir=tmp_path / "tls") as nc:
        nc.add_domain("example.test", "0123abcd...", hosts=["@", "home"])
        ... GET nc.https_url + "/update?host=home&domain=example.test&password=...&ip=192.0.2.1" ...
        nc.address("home", "example.test") == "192.0.2.1"

As documented: the answer is always HTTP 200 and an XML `interface-response`; success is
`<ErrCount>0</ErrCount>` with the address set in `<IP>` (`Done` is `true` even on failure). Errors
carry `ErrCount` ≥ 1, the messages in `<errors><Err1>…</Err1></errors>` and a `responses` block:

- a password that is not the domain's Dynamic DNS password (or a domain without dynamic DNS, which
  has none): `Passwords do not match` (304156, `Validation error; invalid ; password`);
- a host that has no record in the domain: `No Records updated. A record not Found;` (380091,
  `No updates; A record not Found;`).

`host` is the label (`@` the apex, `*` the wildcard); `ip` empty or absent means the caller's address.
Not documented, chosen here: an `ip` that is not an IPv4 address (IPv6 through this endpoint is
unconfirmed, so it is refused) answers `Invalid IP` (ResponseNumber 316153); a missing `host`,
`domain` or `password` answers the password error. The XML prolog declares `encoding="utf-16"` over
UTF-8 bytes, as the real service does (clients must cope), and the content type is `text/html`
(unconfirmed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .ddns_base import Answer, DdnsEmulator, Request, parse_address

_PROLOG = '<?xml version="1.0" encoding="utf-16"?>\r\n'
CONTENT_TYPE = "text/html; charset=utf-8"
PASSWORD_ERROR = ("Passwords do not match", 304156, "Validation error; invalid ; password")
NO_RECORD_ERROR = ("No Records updated. A record not Found;", 380091, "No updates; A record not Found;")
IP_ERROR = ("Invalid IP", 316153, "Validation error; invalid ; IP")


@dataclass
class DomainEntry:
    password: str
    hosts: dict[str, str | None] = field(default_factory=dict)  # label -> IPv4 address


class NamecheapEmulator(DdnsEmulator):
    secret_params = frozenset({"password"})
    server_version = "namecheap"

    def __init__(self, tls_dir: str | Path | None = None) -> None:
        super().__init__(tls_dir)
        self.domains: dict[str, DomainEntry] = {}

    def add_domain(self, domain: str, password: str, hosts: Sequence[str] = ("@",)) -> None:
        with self.lock:
            self.domains[domain.lower()] = DomainEntry(password, {h.lower(): None for h in hosts})

    def address(self, host: str, domain: str) -> str | None:
        return self.domains[domain.lower()].hosts[host.lower()]

    def answer(self, request: Request) -> Answer:
        if request.path != "/update":
            return Answer("not found", 404, "text/html", endpoint="unknown")
        host = request.query.get("host", "").lower()
        domain = self.domains.get(request.query.get("domain", "").lower())
        password = request.query.get("password", "")
        if domain is None or not host or not password or password != domain.password:
            return _failure(PASSWORD_ERROR)
        address = parse_address(request.query.get("ip") or request.client_ip)
        if address is None or address.version != 4:
            return _failure(IP_ERROR)
        if host not in domain.hosts:
            return _failure(NO_RECORD_ERROR)
        domain.hosts[host] = str(address)
        return _success(str(address))


def _success(ip: str) -> Answer:
    body = (
        _PROLOG + "<interface-response>\r\n"
        "  <Command>SETDNSHOST</Command>\r\n"
        "  <Language>eng</Language>\r\n"
        f"  <IP>{ip}</IP>\r\n"
        "  <ErrCount>0</ErrCount>\r\n"
        "  <errors />\r\n"
        "  <ResponseCount>0</ResponseCount>\r\n"
        "  <Done>true</Done>\r\n"
        "  <debug><![CDATA[]]></debug>\r\n"
        "</interface-response>"
    )
    return Answer(body, 200, CONTENT_TYPE)


def _failure(error: tuple[str, int, str]) -> Answer:
    message, number, string = error
    body = (
        _PROLOG + "<interface-response>"
        "<Command>SETDNSHOST</Command><Language>eng</Language>"
        f"<ErrCount>1</ErrCount><errors><Err1>{message}</Err1></errors>"
        "<ResponseCount>1</ResponseCount><responses><response>"
        f"<Description>{message}</Description><ResponseNumber>{number}</ResponseNumber>"
        f"<ResponseString>{string}</ResponseString>"
        "</response></responses><Done>true</Done><debug><![CDATA[]]></debug></interface-response>"
    )
    return Answer(body, 200, CONTENT_TYPE)
