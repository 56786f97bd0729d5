"""The `namecheap` update-only provider: Namecheap's dynamic DNS for the hosts of one domain.

One request per update: `GET <server>/update?host=<label>&domain=<domain>&password=<password>&ip=<ipv4>`,
the label relative to the domain (`@` the apex, `*` the wildcard) and the password the domain's own
"Dynamic DNS Password" (not the account's). The answer is always HTTP 200 with an XML
`interface-response`: `<ErrCount>0</ErrCount>` is success (its `Done` is true on failure too), else
the messages under `<errors>` say what is wrong. The XML prolog may claim `utf-16` over UTF-8 bytes,
so the prolog is dropped before parsing. IPv4 only: IPv6 through this endpoint is not documented.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any, ClassVar

from ..names import InvalidNameError, normalize_zone
from .base import Addresses, Option, UpdateAnswer
from .ddns_addresses import host_name, one_per_family
from .ddns_http import DdnsClient, DdnsProvider, address_service, http_options
from .update_errors import UpdateDeferredError, UpdateRefusedError

DEFAULT_SERVER = "https://dynamicdns.park-your-domain.com"
ADDRESS_TYPES = ("A",)
_PROLOG = re.compile(r"^\s*<\?xml[^>]*\?>")

# A fragment of Namecheap's error text -> (code, what to do); matched case-insensitively.
REFUSALS = (
    (
        "passwords do not match",
        "badauth",
        "set password to the domain's Dynamic DNS password (Advanced DNS page of the domain), not the account's; "
        "check domain",
    ),
    (
        "record not found",
        "nohost",
        "add an A + Dynamic DNS record for this host on the domain's Advanced DNS page, or fix the name",
    ),
    ("invalid ip", "badip", "give an IPv4 address"),
    ("domain name not found", "nohost", "check domain: it must be a domain of the account with dynamic DNS on"),
)


def _check_domain(value: Any) -> str | None:
    try:
        normalize_zone(value)
    except InvalidNameError as exc:
        return str(exc)
    return None


class NamecheapProvider(DdnsProvider):
    """Namecheap dynamic DNS: one provider entry per domain (each has its own password)."""

    TYPE = "namecheap"
    CAPABILITIES = address_service(ADDRESS_TYPES)
    OPTIONS: ClassVar[dict[str, Option]] = {
        "domain": Option(
            str, required=True, description="the registered domain, like example.com", check=_check_domain
        ),
        "password": Option(
            str, required=True, secret=True, description="the domain's Dynamic DNS password (not the account's)"
        ),
        **http_options(DEFAULT_SERVER, "Namecheap's dynamic DNS"),
    }

    def open_client(self) -> DdnsClient:
        return DdnsClient(self.service, self.options, [str(self.options.get("password") or "")], self.base_dir)

    def update(self, name: str, addresses: Addresses) -> UpdateAnswer:
        wanted = one_per_family(self.service, name, addresses, ADDRESS_TYPES)
        if wanted.get("A") is None:
            raise UpdateRefusedError(
                f"{self.service}: Namecheap's dynamic DNS cannot remove the address of {name}",
                "remove the record on the domain's Advanced DNS page",
                "config",
            )
        domain = host_name(str(self.options.get("domain") or ""))
        host = self._label(name, domain)
        params = [
            ("host", host),
            ("domain", domain),
            ("password", str(self.options.get("password") or "")),
            ("ip", str(wanted["A"])),
        ]
        reply = self.client.get("/update", params)
        shown = self.client.quote(reply.text)
        try:
            root = ET.fromstring(_PROLOG.sub("", reply.text, count=1).strip())
        except ET.ParseError:
            root = None
        count = root.findtext("ErrCount") if root is not None else None
        if reply.status != 200 or root is None or count is None or not count.strip().isdigit():
            raise UpdateDeferredError(
                f"{self.service}: {name}: unexpected answer (HTTP {reply.status}): {shown}",
                "check that server points at Namecheap's dynamic DNS; fleetdns tries again later",
                "unknown",
            )
        if int(count) == 0:
            ip = (root.findtext("IP") or "").strip()
            return UpdateAnswer(None, {"A": frozenset({ip})} if ip else {}, self.client.scrub(f"ErrCount 0, IP {ip}"))
        errors = root.find("errors")
        messages = [(e.text or "").strip() for e in (errors if errors is not None else [])]
        text = self.client.quote("; ".join(m for m in messages if m) or reply.text)
        for fragment, code, fix in REFUSALS:
            if any(fragment in m.lower() for m in messages):
                raise UpdateRefusedError(f"{self.service}: {name}: Namecheap answered: {text}", fix, code)
        raise UpdateDeferredError(
            f"{self.service}: {name}: Namecheap answered: {text}", "fleetdns tries again later", "error"
        )

    def _label(self, name: str, domain: str) -> str:
        host = host_name(name)
        if host == domain:
            return "@"
        if host.endswith("." + domain):
            return host[: -len(domain) - 1]
        raise UpdateRefusedError(
            f"{self.service}: {name} is not in the domain {domain}",
            "give each Namecheap domain its own provider entry (each has its own Dynamic DNS password)",
            "config",
        )
