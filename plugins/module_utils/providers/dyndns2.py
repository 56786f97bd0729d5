"""The `dyndns2` update-only provider: No-IP, Dyn and every service that speaks their protocol.

One request per update: `GET <server><path>?hostname=<name>&myip=<ipv4>[,<ipv6>]` with HTTP Basic
auth and fleetdns's User-Agent (both services refuse clients that do not name themselves). The
answer is one line: `good <ip>` (changed) or `nochg <ip>` (already so) are success; every other code
is a refusal, mapped below to what the user has to do. The services ask clients never to resend
after a refusal without a person changing something, and to wait at least 30 minutes after `911`
or `dnserr`; repeated `nochg` answers get a host blocked, which is why set_addresses asks DNS first
and sends nothing when the name already holds the address.
"""

from __future__ import annotations

import ipaddress
from typing import ClassVar

from .base import Addresses, Option, UpdateAnswer
from .ddns_addresses import host_name, one_per_family
from .ddns_http import TRY_LATER, DdnsClient, DdnsProvider, address_service, http_options
from .update_errors import UpdateDeferredError, UpdateRefusedError

DEFAULT_SERVER = "https://dynupdate.no-ip.com"
ADDRESS_TYPES = ("A", "AAAA")
_CHECK_ACCOUNT = "check the provider's username and password (for No-IP: its DDNS key, or the account e-mail)"

# code -> (what it means, what to do); all of them are definitive.
REFUSALS = {
    "badauth": ("the username or password is wrong", _CHECK_ACCOUNT),
    "nohost": ("the host name does not exist in this account", "create it in the account, or fix the name"),
    "notfqdn": ("the host name is not a fully qualified domain name", "give the full name, like home.example.com"),
    "numhost": ("too many host names in one request", "this is a fleetdns bug: report it"),
    "!donator": ("the request needs a paid account feature", "remove the option, or upgrade the account"),
    "badagent": (
        "the service refused fleetdns's User-Agent",
        "the service blocked this client; ask its support before trying again",
    ),
    "abuse": (
        "the service blocked this host for abuse",
        "fleetdns stops updating it; unblock the host in the account, then run again",
    ),
    "badsys": ("the service refused the request's system parameter", "check server and path"),
    "!yours": ("the host name belongs to another account", "check the name and the username"),
    "!active": ("the host name's custom DNS domain is not active", "activate the domain in the account"),
}
DEFERRALS = {
    "911": "the service reports a problem on its side (maintenance or outage)",
    "dnserr": "the service reports a DNS error on its side",
}


class Dyndns2Provider(DdnsProvider):
    """No-IP, Dyn and compatibles through the dyndns2 protocol."""

    TYPE = "dyndns2"
    CAPABILITIES = address_service(ADDRESS_TYPES)
    OPTIONS: ClassVar[dict[str, Option]] = {
        "username": Option(
            str, required=True, description="account user name (No-IP: the DDNS key's username, or the e-mail)"
        ),
        "password": Option(str, required=True, secret=True, description="account password (No-IP: the DDNS key's)"),
        **http_options(DEFAULT_SERVER, "the dyndns2 service (No-IP's by default; Dyn: https://members.dyndns.org)"),
        "path": Option(str, default="/nic/update", description="path of the update URL (Dyn also serves /v3/update)"),
        "offline": Option(
            bool,
            default=False,
            description="when the name's addresses are removed, mark the host offline (offline=YES) instead of "
            "refusing; Dyn offers it, No-IP to paid accounts only",
        ),
    }

    def check_options(self) -> list[str]:
        path = str(self.options.get("path") or "")
        problems = [] if path.startswith("/") else [f"path {path!r} must start with /"]
        return problems + self.declared_problems(self.options)

    def open_client(self) -> DdnsClient:
        opts = self.options
        password = str(opts.get("password") or "")
        return DdnsClient(
            self.service, opts, [password], self.base_dir, auth=(str(opts.get("username") or ""), password)
        )

    def update(self, name: str, addresses: Addresses) -> UpdateAnswer:
        service = self.service
        wanted = one_per_family(service, name, addresses, ADDRESS_TYPES)
        if wanted and self.options.get("offline") and all(v is None for v in wanted.values()):
            return self._answer(name, [("hostname", host_name(name)), ("offline", "YES")])
        if not wanted or any(v is None for v in wanted.values()):
            raise UpdateRefusedError(
                f"{service} cannot remove the address of {name}: dyndns2 only sets addresses",
                "remove the record in the service's web interface",
                "config",
            )
        myip = ",".join(wanted[t] for t in ADDRESS_TYPES if wanted.get(t))  # IPv4 first, as ddclient sends
        return self._answer(name, [("hostname", host_name(name)), ("myip", str(myip))])

    def _answer(self, name: str, params: list[tuple[str, str]]) -> UpdateAnswer:
        """Send one update and map the service's answer."""
        service = self.service
        client = self.client
        reply = client.get(str(self.options.get("path") or "/nic/update"), params)
        shown = client.quote(reply.text)
        if reply.status == 401:
            raise UpdateRefusedError(
                f"{service}: the service refused the credentials (HTTP 401)", _CHECK_ACCOUNT, "badauth"
            )
        if reply.status == 404:
            raise UpdateRefusedError(
                f"{service}: no update URL at {client.scrub(client.server)}{self.options.get('path')} (HTTP 404)",
                "check server and path",
                "404",
            )
        line = next((x.strip() for x in reply.text.splitlines() if x.strip()), "")
        code, _sep, rest = line.partition(" ")
        if reply.status == 200 and code in ("good", "nochg"):
            return UpdateAnswer(code == "good", _reported(rest), client.scrub(line))
        if code in REFUSALS:
            meaning, fix = REFUSALS[code]
            raise UpdateRefusedError(f"{service}: {name}: the service answered '{code}': {meaning}", fix, code)
        if code in DEFERRALS:
            raise UpdateDeferredError(
                f"{service}: {name}: the service answered '{code}': {DEFERRALS[code]}",
                "fleetdns tries again in 30 minutes at the earliest, as the service asks",
                code,
                TRY_LATER,
            )
        raise UpdateDeferredError(
            f"{service}: {name}: unexpected answer (HTTP {reply.status}): {shown}",
            "check server and path point at a dyndns2 service; fleetdns tries again later",
            "unknown",
        )


def _reported(text: str) -> dict[str, frozenset[str]]:
    """The addresses a `good`/`nochg` line reports (No-IP lists IPv4 and IPv6 comma separated)."""
    found: dict[str, set[str]] = {}
    for part in text.replace(" ", ",").split(","):
        try:
            address = ipaddress.ip_address(part.strip())
        except ValueError:
            continue
        found.setdefault("A" if address.version == 4 else "AAAA", set()).add(str(address))
    return {rtype: frozenset(values) for rtype, values in found.items()}
