"""A strict DuckDNS on loopback: `GET /update?domains=&token=[&ip=][&ipv6=][&verbose=true][&clear=true][&txt=]`.

    with DuckDnsEmulator(tls_dir=tmp_path / "tls") as duck:
        duck.add_account(TOKEN, ["myhome"])
        ... the client calls duck.https_url + "/update?domains=myhome&token=...&ip=192.0.2.1" ...
        duck.state("myhome").ipv4 == "192.0.2.1"

As DuckDNS documents it:

- `domains` (required): comma separated sub names, `.duckdns.org` optional; `token` (required).
  A missing or unknown token, a missing `domains`, or any domain the token does not own → `KO`, and
  nothing changes. (The HTTP status of `KO` is not documented; 200 here, clients parse the body.)
- `ip`: IPv4 or IPv6 (an IPv6 one sets the AAAA); blank or absent → the caller's IPv4 address is
  detected (detection only works for IPv4). `ipv6`: sets the AAAA; when given, `ip` is not
  detected. An `ip`/`ipv6` that is no address (or the wrong family for `ipv6`) → `KO`.
- `clear=true` clears both addresses (the `ip` values are ignored).
- `txt=<value>` sets the TXT record instead of the addresses; `txt=` with `clear=true` clears it
  (the ACME DNS-01 use clients make of it).
- Answers: `OK` or `KO`, text/plain; with `verbose=true` an OK is four lines: `OK`, the current IPv4,
  the current IPv6 (either may be blank) and `UPDATED` or `NOCHANGE`. For a TXT update the verbose
  form is `OK`, the TXT value, `UPDATED`/`NOCHANGE` (DuckDNS does not document this form; it
  mirrors the address form).
- The path form for basic routers, `GET /update/<domain>/<token>[/<ip>]`, is the same update for a
  single domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .ddns_base import REDACTED, Answer, DdnsEmulator, Request, parse_address

SUFFIX = ".duckdns.org"


@dataclass
class Domain:
    """One DuckDNS sub name and its records."""

    name: str
    ipv4: str | None = None
    ipv6: str | None = None
    txt: str | None = None


class DuckDnsEmulator(DdnsEmulator):
    secret_params = frozenset({"token"})
    server_version = "duckdns"

    def __init__(self, tls_dir: str | Path | None = None) -> None:
        super().__init__(tls_dir)
        self.tokens: dict[str, set[str]] = {}
        self.domains: dict[str, Domain] = {}

    def add_account(self, token: str, domains: Sequence[str]) -> None:
        with self.lock:
            self.tokens[token] = {d.lower() for d in domains}
            for name in domains:
                self.domains.setdefault(name.lower(), Domain(name.lower()))

    def state(self, name: str) -> Domain:
        return self.domains[_sub(name)]

    def log_path(self, path: str) -> str:
        parts = path.split("/")
        if len(parts) >= 4 and parts[1] == "update":
            parts[3] = REDACTED
        return "/".join(parts)

    # ---- the protocol -------------------------------------------------------------------------------
    def answer(self, request: Request) -> Answer:
        params = dict(request.query)
        if request.path.startswith("/update/"):
            parts = request.path.split("/")[2:]
            if len(parts) not in (2, 3) or not all(parts):
                return Answer("KO")
            params = {"domains": parts[0], "token": parts[1]}
            if len(parts) == 3:
                params["ip"] = parts[2]
        elif request.path != "/update":
            return Answer("not found", 404, "text/html", endpoint="unknown")
        owned = self.tokens.get(params.get("token", ""))
        names = [_sub(n) for n in params.get("domains", "").split(",") if n.strip()]
        if owned is None or not names or any(n not in owned for n in names):
            return Answer("KO")
        verbose = params.get("verbose", "").lower() == "true"
        clear = params.get("clear", "").lower() == "true"
        if "txt" in params:
            return self._txt(names, params["txt"], clear, verbose)
        wanted = _wanted(params, request.client_ip, clear)
        if wanted is None:
            return Answer("KO")
        changed = False
        for name in names:
            domain = self.domains[name]
            for family, value in wanted.items():
                if getattr(domain, family) != value:
                    setattr(domain, family, value)
                    changed = True
        if not verbose:
            return Answer("OK")
        last = self.domains[names[-1]]
        lines = ["OK", last.ipv4 or "", last.ipv6 or "", "UPDATED" if changed else "NOCHANGE"]
        return Answer("\n".join(lines))

    def _txt(self, names: list[str], txt: str, clear: bool, verbose: bool) -> Answer:
        value = None if clear else txt
        changed = False
        for name in names:
            if self.domains[name].txt != value:
                self.domains[name].txt = value
                changed = True
        if not verbose:
            return Answer("OK")
        return Answer("\n".join(["OK", value or "", "UPDATED" if changed else "NOCHANGE"]))


def _sub(name: str) -> str:
    return name.strip().lower().removesuffix(".").removesuffix(SUFFIX)


def _wanted(params: dict[str, str], client_ip: str, clear: bool) -> dict[str, str | None] | None:
    """{"ipv4"/"ipv6": new value} to apply; None when an address given is not valid."""
    if clear:
        return {"ipv4": None, "ipv6": None}
    wanted: dict[str, str | None] = {}
    ip, ipv6 = params.get("ip", ""), params.get("ipv6", "")
    if ip:
        address = parse_address(ip)
        if address is None:
            return None
        wanted["ipv4" if address.version == 4 else "ipv6"] = str(address)
    if ipv6:
        address = parse_address(ipv6)
        if address is None or address.version != 6:
            return None
        wanted["ipv6"] = str(address)
    if not ip and not ipv6:
        detected = parse_address(client_ip)
        if detected is not None and detected.version == 4:
            wanted["ipv4"] = str(detected)
    return wanted
