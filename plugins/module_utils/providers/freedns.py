"""The `freedns` update-only provider: FreeDNS (afraid.org), by per-record token or by account.

Two ways in, as FreeDNS offers them:

- v2 tokens (preferred): each record has its own random update token, which needs no other
  authentication: `GET <server>/u/<token>/?myip=<address>`. `token` is the A record's, `ipv6_token`
  the AAAA record's. The answer names the host (`Updated <host> from <old> to <new>`, or
  `No IP change detected for <host> ...`); a host other than the name asked for means the token
  belongs to another record, a definitive refusal.
- the account (what ddclient uses, and the way to serve many hosts with one entry): `username` and
  `password` list the account's records with `GET <api_server>/api/?action=getdyndns&v=2&sha=
  <sha1(username|password)>` (lines `host|address|update URL`); the record's v1 update URL is then
  called with `&address=<address>`. Its answers: `Updated ...` or `ERROR: Address ... has not
  changed.` (already so). The listed URLs carry the record's key: they are secrets like the password.

`ERROR: Invalid update URL` (a token or key FreeDNS does not know) and `ERROR: Could not
authenticate.` are definitive refusals.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import ClassVar

from .base import Addresses, Option, UpdateAnswer
from .ddns_addresses import host_name, one_per_family
from .ddns_http import DdnsClient, DdnsProvider, Reply, address_service, check_server, http_options
from .update_errors import UpdateDeferredError, UpdateRefusedError

DEFAULT_SERVER = "https://sync.afraid.org"
DEFAULT_API_SERVER = "https://freedns.afraid.org"
ADDRESS_TYPES = ("A", "AAAA")
_TOKEN_HINT = "copy the record's update token from the FreeDNS 'Dynamic DNS' page (v2 interface)"


class FreeDnsProvider(DdnsProvider):
    """FreeDNS through its v2 token URLs, or its account listing and v1 update URLs."""

    TYPE = "freedns"
    CAPABILITIES = address_service(ADDRESS_TYPES)
    OPTIONS: ClassVar[dict[str, Option]] = {
        "token": Option(str, secret=True, description="the A record's v2 update token (one record per token)"),
        "ipv6_token": Option(str, secret=True, description="the AAAA record's v2 update token"),
        "username": Option(str, description="account login, to update any record of the account (with password)"),
        "password": Option(str, secret=True, description="account password (with username)"),
        **http_options(DEFAULT_SERVER, "FreeDNS's v2 token updates"),
        "api_server": Option(
            str,
            default=DEFAULT_API_SERVER,
            description="base URL of FreeDNS's account API (with username and password)",
            check=check_server,
        ),
    }

    def check_options(self) -> list[str]:
        opts = self.options
        tokens = bool(opts.get("token") or opts.get("ipv6_token"))
        account = (opts.get("username"), opts.get("password"))
        problems = []
        if tokens and any(account):
            problems.append("give either token/ipv6_token, or username with password, not both")
        elif not tokens and not all(account):
            if any(account):
                problems.append("username and password go together")
            else:
                problems.append("missing credentials: set token (and/or ipv6_token), or username with password")
        return problems + self.declared_problems(opts)

    def open_client(self) -> DdnsClient:
        secrets = [str(self.options.get(k) or "") for k in ("token", "ipv6_token", "password")]
        account = self.options.get("username"), self.options.get("password")
        if all(account):
            secrets.append(_sha(str(account[0]), str(account[1])))
        return DdnsClient(self.service, self.options, secrets, self.base_dir)

    def update(self, name: str, addresses: Addresses) -> UpdateAnswer:
        wanted = one_per_family(self.service, name, addresses, ADDRESS_TYPES)
        if not wanted or any(v is None for v in wanted.values()):
            raise UpdateRefusedError(
                f"{self.service}: FreeDNS cannot be told to remove the address of {name} through its update URLs",
                "remove the record on the FreeDNS web site",
                "config",
            )
        host = host_name(name)
        urls = self._account_urls(name, host, wanted) if self.options.get("username") else None
        changed = False
        texts = []
        for rtype, address in wanted.items():
            if urls is None:
                token = self.options.get("token" if rtype == "A" else "ipv6_token")
                if not token:
                    key = "token" if rtype == "A" else "ipv6_token"
                    raise UpdateRefusedError(
                        f"{self.service}: no {key} for the {rtype} record of {name}", f"set {key}", "config"
                    )
                reply = self.client.get(f"/u/{token}/", [("myip", str(address))])
            else:
                reply = self.client.get_url(urls[rtype], [("address", str(address))])
            changed = self._answer(name, host, str(address), reply) or changed
            texts.append(self.client.scrub(reply.text.strip()))
        return UpdateAnswer(changed, {t: frozenset({str(a)}) for t, a in wanted.items()}, "; ".join(texts))

    def _answer(self, name: str, host: str, address: str, reply: Reply) -> bool:
        """Whether the record changed; raises for every refusal."""
        text = reply.text.strip()
        lower = text.lower()
        shown = self.client.quote(text)
        if reply.status == 200 and (lower.startswith("updated ") or lower.startswith("no ip change detected")):
            named = text.split()[1] if lower.startswith("updated ") else _after(text, " for ")
            if named and named.lower().rstrip(".") != host:
                raise UpdateRefusedError(
                    f"{self.service}: the update token is the one of {named}, not of {name}",
                    "give each provider entry the tokens of its own host's records",
                    "wrong-host",
                )
            return lower.startswith("updated ")
        if reply.status == 200 and lower.startswith("error:") and "has not changed" in lower:
            return False
        if "invalid update url" in lower:
            raise UpdateRefusedError(
                f"{self.service}: {name}: FreeDNS does not know this update token or key: {shown}",
                _TOKEN_HINT if not self.options.get("username") else "check the record still exists in the account",
                "badtoken",
            )
        if lower.startswith("error:"):
            raise UpdateRefusedError(f"{self.service}: {name}: FreeDNS refused the update: {shown}", "", "error")
        raise UpdateDeferredError(
            f"{self.service}: {name}: unexpected answer (HTTP {reply.status}): {shown}",
            "check server points at FreeDNS; fleetdns tries again later",
            "unknown",
        )

    def _account_urls(self, name: str, host: str, wanted: dict[str, str | None]) -> dict[str, str]:
        """The v1 update URL of each wanted record of `host`, from the account listing."""
        opts = self.options
        sha = _sha(str(opts.get("username")), str(opts.get("password")))
        api = DdnsClient(
            self.service, {**opts, "server": opts.get("api_server") or DEFAULT_API_SERVER}, [sha], self.base_dir
        )
        try:
            reply = api.get("/api/", [("action", "getdyndns"), ("v", "2"), ("sha", sha)])
        finally:
            api.close()
        if "could not authenticate" in reply.text.lower():
            raise UpdateRefusedError(
                f"{self.service}: FreeDNS refused the account login: {api.quote(reply.text)}",
                "check the provider's username and password",
                "badauth",
            )
        listed: list[tuple[str | None, str]] = []  # (family of the listed address, update URL)
        for line in reply.text.splitlines():
            parts = line.strip().split("|")
            if len(parts) != 3 or parts[0].lower().rstrip(".") != host:
                continue
            self.client.hide(parts[2])
            listed.append((_family(parts[1]), parts[2]))
        urls: dict[str, str] = {}
        for rtype in wanted:
            matching = [url for family, url in listed if family == rtype] or [url for f, url in listed if f is None]
            if len(matching) != 1:
                raise UpdateRefusedError(
                    f"{self.service}: the FreeDNS account lists {'no' if not matching else 'several'} {rtype} "
                    f"record(s) for {name}",
                    "create the record on the FreeDNS web site (marked for dynamic DNS), or fix the name",
                    "nohost",
                )
            problem = check_server(matching[0])
            if problem:
                raise UpdateRefusedError(f"{self.service}: the listed update URL of {name}: {problem}", "", "config")
            urls[rtype] = matching[0]
        return urls


def _sha(username: str, password: str) -> str:
    return hashlib.sha1(f"{username}|{password}".encode()).hexdigest()


def _family(text: str) -> str | None:
    try:
        return "A" if ipaddress.ip_address(text.strip()).version == 4 else "AAAA"
    except ValueError:
        return None


def _after(text: str, marker: str) -> str:
    """The word after `marker` in `text`, or ''."""
    _head, sep, tail = text.partition(marker)
    return tail.split()[0] if sep and tail.split() else ""
