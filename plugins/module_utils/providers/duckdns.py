"""The `duckdns` update-only provider: names `<sub>.duckdns.org` with the account's token.

One request per update: `GET <server>/update?domains=<sub>&token=<token>&ip=<ipv4>&ipv6=<ipv6>&verbose=true`
(only the families asked for; both emptied at once is `clear=true`, the one removal DuckDNS knows).
The verbose answer is four lines, `OK`, the IPv4, the IPv6, `UPDATED` or `NOCHANGE`; `KO` is all
DuckDNS says when anything is wrong (token, domain, address), a definitive refusal.

TXT for ACME DNS-01: set_txt / clear_txt use the same URL with `txt=` (and `clear=true`); DuckDNS
serves that one TXT value at every name under `<sub>.duckdns.org`, `_acme-challenge` included.
"""

from __future__ import annotations

from typing import ClassVar

from .base import Addresses, Option, UpdateAnswer
from .ddns_addresses import host_name, one_per_family
from .ddns_http import DdnsClient, DdnsProvider, Reply, address_service, http_options
from .update_errors import UpdateDeferredError, UpdateRefusedError

DEFAULT_SERVER = "https://www.duckdns.org"
SUFFIX = "duckdns.org"
ADDRESS_TYPES = ("A", "AAAA")


class DuckDnsProvider(DdnsProvider):
    """DuckDNS: one token per account, sub names of duckdns.org."""

    TYPE = "duckdns"
    CAPABILITIES = address_service(ADDRESS_TYPES)
    OPTIONS: ClassVar[dict[str, Option]] = {
        "token": Option(str, required=True, secret=True, description="the account's token (shown on duckdns.org)"),
        **http_options(DEFAULT_SERVER, "DuckDNS"),
    }

    def open_client(self) -> DdnsClient:
        return DdnsClient(self.service, self.options, [str(self.options.get("token") or "")], self.base_dir)

    def update(self, name: str, addresses: Addresses) -> UpdateAnswer:
        sub = self._sub(name, addresses_only=True)
        wanted = one_per_family(self.service, name, addresses, ADDRESS_TYPES)
        params = [("domains", sub), ("token", str(self.options.get("token") or ""))]
        if wanted and all(v is None for v in wanted.values()):
            if set(wanted) != set(ADDRESS_TYPES):
                raise UpdateRefusedError(
                    f"{self.service}: DuckDNS can only clear both addresses of {name} together",
                    "ask for A and AAAA to be removed together",
                    "config",
                )
            params.append(("clear", "true"))
        elif not wanted or any(v is None for v in wanted.values()):
            raise UpdateRefusedError(
                f"{self.service}: DuckDNS cannot remove one address of {name} and set the other",
                "set both, or remove both",
                "config",
            )
        else:
            if wanted.get("A"):
                params.append(("ip", str(wanted["A"])))
            if wanted.get("AAAA"):
                params.append(("ipv6", str(wanted["AAAA"])))
        params.append(("verbose", "true"))
        lines = self._answer(name, self.client.get("/update", params))
        if len(lines) < 4 or lines[3] not in ("UPDATED", "NOCHANGE"):
            raise UpdateDeferredError(
                f"{self.service}: {name}: unexpected answer to a verbose update: "
                + self.client.quote(" | ".join(lines)),
                "check that server points at DuckDNS; fleetdns tries again later",
                "unknown",
            )
        reported = {
            rtype: frozenset({value}) if value else frozenset()
            for rtype, value in (("A", lines[1]), ("AAAA", lines[2].lower()))
        }
        return UpdateAnswer(lines[3] == "UPDATED", reported, self.client.scrub(" ".join(lines)))

    def set_txt(self, name: str, value: str) -> bool:
        """Make DuckDNS serve TXT `value` under the name's sub (ACME DNS-01); True when it changed."""
        return self._txt(name, [("txt", value)])

    def clear_txt(self, name: str) -> bool:
        """Remove the TXT value; True when there was one."""
        return self._txt(name, [("txt", ""), ("clear", "true")])

    def _txt(self, name: str, extra: list[tuple[str, str]]) -> bool:
        params = [("domains", self._sub(name)), ("token", str(self.options.get("token") or "")), *extra]
        lines = self._answer(name, self.client.get("/update", [*params, ("verbose", "true")]))
        if lines[-1] not in ("UPDATED", "NOCHANGE"):
            raise UpdateDeferredError(
                f"{self.service}: {name}: unexpected answer to a TXT update: {self.client.quote(' | '.join(lines))}",
                "fleetdns tries again later",
                "unknown",
            )
        return lines[-1] == "UPDATED"

    def _answer(self, name: str, reply: Reply) -> list[str]:
        """The answer's lines when it is OK; raises for KO and anything else."""
        lines = [line.strip() for line in reply.text.strip().splitlines()]
        first = lines[0] if lines else ""
        if reply.status == 200 and first == "OK":
            return lines
        if first == "KO":
            raise UpdateRefusedError(
                f"{self.service}: {name}: DuckDNS answered KO: the token is wrong, the domain is not in the "
                "token's account, or DuckDNS refused the address",
                "check the provider's token and that the name's sub name is listed in the DuckDNS account",
                "KO",
            )
        raise UpdateDeferredError(
            f"{self.service}: {name}: unexpected answer (HTTP {reply.status}): {self.client.quote(reply.text)}",
            "check that server points at DuckDNS; fleetdns tries again later",
            "unknown",
        )

    def _sub(self, name: str, addresses_only: bool = False) -> str:
        """The sub name DuckDNS is asked about: the label just left of duckdns.org."""
        labels = host_name(name).split(".")
        if len(labels) < 3 or ".".join(labels[-2:]) != SUFFIX:
            raise UpdateRefusedError(
                f"{self.service}: {name} is not a name under {SUFFIX}",
                f"DuckDNS serves <sub>.{SUFFIX} only; give the name like home.{SUFFIX}",
                "config",
            )
        if addresses_only and len(labels) > 3:
            raise UpdateRefusedError(
                f"{self.service}: DuckDNS sets the addresses of {labels[-3]}.{SUFFIX}, not of {name}",
                f"give the name {labels[-3]}.{SUFFIX} (names below it answer with its addresses)",
                "config",
            )
        return labels[-3]
