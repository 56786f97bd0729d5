"""A strict FreeDNS (afraid.org) on loopback: the v2 per-host token URL, and the API listing with the
legacy v1 update URLs it hands out (which ddclient's `freedns` protocol uses).

    with FreeDnsEmulator(tls_dir=tmp_path / "tls") as afraid:
        record = afraid.add_host("login", "password", "home.example.test", "192.0.2.1")
        ... GET afraid.https_url + f"/u/{record.token}/?myip=192.0.2.7"                  (v2)
        ... GET afraid.https_url + "/api/?action=getdyndns&v=2&sha=<sha1(login|password)>" (listing)
        afraid.address("home.example.test") == "192.0.2.7"

As documented and observed:

- v2: `GET /u/<token>/` — no authentication, the random token names one host. The address is
  `myip` when given (observed in third-party clients), else the caller's address. Answers (text):
  `Updated <host> from <old> to <new>`; unchanged: `No IP change detected for <host> with IP <ip>,
  skipping update` (only the leading `No IP change detected` is confirmed); an unknown token answers
  `ERROR: Invalid update URL (2)` (observed for v1 keys; chosen for v2 too, whose answer is unknown).
  A record may change family (the documented example goes from an IPv4 to an IPv6 address).
- listing: `GET /api/?action=getdyndns&v=2&sha=<sha1_hex(login|password)>` → one line per host of the
  account, `host|address|update_url`, the address `NULL` when unset; without `v=2` IPv6 records are
  left out. The update URL is this emulator's `/dynamic/update.php?<KEY>`, the v1 form (the key is the
  whole query). A wrong `sha` answers `ERROR: Could not authenticate.` (FreeDNS does not document this
  text; chosen here).
- v1: `GET /dynamic/update.php?<KEY>[&address=<ip>]` → the same `Updated … from … to …` answer (so
  ddclient's check `/Updated.*<host>.*to.*<ip>/` holds); unchanged → `ERROR: Address <ip> has not
  changed.` (observed to exist, exact words unconfirmed); a bad key → `ERROR: Invalid update URL (2)`.
- Everything answers 200 text/plain; an address that is not one answers `ERROR: Invalid address`
  (not documented) and changes nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from .ddns_base import REDACTED, Answer, DdnsEmulator, Request, parse_address

_V2 = re.compile(r"^/u/(?P<token>[A-Za-z0-9]+)/?$")
BAD_KEY = "ERROR: Invalid update URL (2)"


@dataclass
class Record:
    """One FreeDNS host: its v2 token, its v1 key, and its address (None when unset)."""

    host: str
    login: str
    address: str | None
    token: str
    key: str


class FreeDnsEmulator(DdnsEmulator):
    secret_params = frozenset({"sha"})
    server_version = "freedns"

    def __init__(self, tls_dir: str | Path | None = None) -> None:
        super().__init__(tls_dir)
        self.accounts: dict[str, str] = {}  # sha1(login|password) -> login
        self.records: dict[str, Record] = {}  # host -> record

    def add_host(self, login: str, password: str, host: str, address: str | None = None) -> Record:
        """A host of an account (made on first use) with fresh random v2 token and v1 key."""
        record = Record(host.lower(), login, address, secrets.token_hex(12), secrets.token_urlsafe(24))
        with self.lock:
            self.accounts[_sha(login, password)] = login
            self.records[record.host] = record
        return record

    def address(self, host: str) -> str | None:
        return self.records[host.lower()].address

    def update_url(self, record: Record) -> str:
        return f"{self.url}/dynamic/update.php?{record.key}"

    def log_path(self, path: str) -> str:
        return _V2.sub("/u/" + REDACTED + "/", path)

    def log_answer(self, body: str) -> str:
        return re.sub(r"update\.php\?[^\s|&]+", "update.php?" + REDACTED, body)  # listed v1 keys

    def log_query(self, request: Request) -> dict[str, str]:
        query = super().log_query(request)
        if request.path == "/dynamic/update.php":  # the v1 key is the first bare query item
            query.pop(request.raw_query.split("&", 1)[0], None)
            query["key"] = REDACTED
        return query

    def endpoint_of(self, request: Request) -> str:
        if request.path == "/api/":
            return "listing"
        return "update.v1" if request.path == "/dynamic/update.php" else "update.v2"

    # ---- the protocol -------------------------------------------------------------------------------
    def answer(self, request: Request) -> Answer:
        if request.path == "/api/":
            return Answer(self._listing(request))
        if request.path == "/dynamic/update.php":
            key = request.raw_query.split("&", 1)[0]
            record = next((r for r in self.records.values() if r.key == key), None)
            if record is None:
                return Answer(BAD_KEY)
            return Answer(self._set(record, request.query.get("address") or request.client_ip, v1=True))
        match = _V2.match(request.path)
        if match is None:
            return Answer("not found", 404, "text/html", endpoint="unknown")
        record = next((r for r in self.records.values() if r.token == match.group("token")), None)
        if record is None:
            return Answer(BAD_KEY)
        return Answer(self._set(record, request.query.get("myip") or request.client_ip, v1=False))

    def _listing(self, request: Request) -> str:
        login = self.accounts.get(request.query.get("sha", ""))
        if request.query.get("action") != "getdyndns" or login is None:
            return "ERROR: Could not authenticate."
        with_v6 = request.query.get("v") == "2"
        lines = []
        for record in self.records.values():
            if record.login != login:
                continue
            address = parse_address(record.address) if record.address else None
            if address is not None and address.version == 6 and not with_v6:
                continue
            lines.append(f"{record.host}|{record.address or 'NULL'}|{self.update_url(record)}")
        return "\n".join(lines) + "\n"

    def _set(self, record: Record, text: str, v1: bool) -> str:
        address = parse_address(text)
        if address is None:
            return "ERROR: Invalid address"
        new = str(address)
        if new == record.address:
            if v1:
                return f"ERROR: Address {new} has not changed."
            return f"No IP change detected for {record.host} with IP {new}, skipping update"
        old, record.address = record.address, new
        return f"Updated {record.host} from {old or 'NULL'} to {new}"


def _sha(login: str, password: str) -> str:
    return hashlib.sha1(f"{login}|{password}".encode()).hexdigest()
