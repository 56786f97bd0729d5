"""The data side of the Alibaba Cloud DNS emulator: domains, their records and the rules the API
enforces on them.

Records are stored one per value with a numeric string id that never changes. A record is keyed by
RR, Type and Line: adding (or updating to) the same RR/Type/Line/Value as another record, or updating
a record to exactly the values it has, fails with DomainRecordDuplicate ("The DNS record already
exists."); a CNAME cannot share its RR and line with other records (DomainRecordConflict); an
unknown RecordId is DomainRecordNotBelongToUser; a domain not in the account is IncorrectDomainUser.
Listing is newest first (the API's default order) in pages of at most 500.

Codes the documentation this follows does not give exactly are chosen here and listed in
CHOSEN_CODES, so a reader can tell them apart; fleetdns relies on none of them.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

TYPES = ("A", "AAAA", "CAA", "CNAME", "MX", "NS", "SRV", "TXT", "REDIRECT_URL", "FORWARD_URL")
CHOSEN_CODES = {"InvalidRR.Format", "InvalidValue", "InvalidTTL", "InvalidType", "InvalidPageSize", "InvalidPriority"}
_RR = re.compile(
    r"^(?:@|(?:\*|[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*)$"
)
_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def missing(name: str) -> ApiError:
    return ApiError(400, f"Missing{name}", f"{name} is mandatory for this action.")


def duplicate() -> ApiError:
    return ApiError(400, "DomainRecordDuplicate", "The DNS record already exists.")


def not_yours() -> ApiError:
    return ApiError(400, "DomainRecordNotBelongToUser", "The DNS record does not belong to you.")


@dataclass
class Domain:
    name: str
    records: dict[str, dict] = field(default_factory=dict)  # id -> record, in creation order


class Store:
    def __init__(self) -> None:
        self.domains: dict[str, Domain] = {}
        self.lock = threading.RLock()
        self._ids = itertools.count(1_000_000_000_001)

    def add_domain(self, name: str) -> Domain:
        name = name.lower().rstrip(".")
        with self.lock:
            return self.domains.setdefault(name, Domain(name))

    def domain(self, name: object) -> Domain:
        if not name:
            raise missing("DomainName")
        found = self.domains.get(str(name).lower().rstrip("."))
        if found is None:
            raise ApiError(400, "IncorrectDomainUser", "The domain name does not belong to this user.")
        return found

    def find(self, record_id: object) -> tuple[Domain, dict]:
        if not record_id:
            raise missing("RecordId")
        for domain in self.domains.values():
            if str(record_id) in domain.records:
                return domain, domain.records[str(record_id)]
        raise not_yours()

    # ---- reads ------------------------------------------------------------------------------------------
    def list(self, params: dict[str, str]) -> dict:
        domain = self.domain(params.get("DomainName"))
        items = list(reversed(domain.records.values()))
        rr_word = params.get("RRKeyWord", "").lower()
        if rr_word:
            items = [r for r in items if rr_word in r["RR"].lower()]
        for key, field_name in (("TypeKeyWord", "Type"), ("Type", "Type")):
            if params.get(key):
                items = [r for r in items if r[field_name].upper() == params[key].upper()]
        if params.get("Line"):
            items = [r for r in items if r["Line"] == params["Line"]]
        return _page(items, params, default_size=20)

    def subdomain(self, params: dict[str, str]) -> dict:
        sub = params.get("SubDomain", "").lower().rstrip(".")
        if not sub:
            raise missing("SubDomain")
        domain = self.domain(params.get("DomainName") or self.main_domain(sub)[0])
        rr = "@" if sub == domain.name else sub[: -len(domain.name) - 1] if sub.endswith("." + domain.name) else sub
        items = [r for r in reversed(domain.records.values()) if r["RR"].lower() == rr]
        if params.get("Type"):
            items = [r for r in items if r["Type"] == params["Type"].upper()]
        if params.get("Line"):
            items = [r for r in items if r["Line"] == params["Line"]]
        return _page(items, params, default_size=20)

    def main_domain(self, text: str) -> tuple[str, str]:
        """(domain, RR): the longest domain of the account that holds `text`, else its last two labels."""
        text = text.lower().rstrip(".")
        for name in sorted(self.domains, key=len, reverse=True):
            if text == name or text.endswith("." + name):
                return name, "@" if text == name else text[: -len(name) - 1]
        labels = text.split(".")
        return ".".join(labels[-2:]), ".".join(labels[:-2]) or "@"

    # ---- writes -----------------------------------------------------------------------------------------
    def add(self, params: dict[str, str]) -> dict:
        domain = self.domain(params.get("DomainName"))
        record = self._build(domain, params)
        self._check_conflicts(domain, record, None)
        record["RecordId"] = str(next(self._ids))
        domain.records[record["RecordId"]] = record
        return record

    def update(self, params: dict[str, str]) -> dict:
        domain, record = self.find(params.get("RecordId"))
        if record.get("Locked"):
            raise ApiError(400, "DomainRecordLocked", "The DNS record is locked.")
        new = self._build(domain, params)
        same = all(record.get(k) == new.get(k) for k in ("RR", "Type", "Value", "TTL", "Line", "Priority"))
        if same:
            raise duplicate()
        self._check_conflicts(domain, new, record["RecordId"])
        for key in ("RR", "Type", "Value", "TTL", "Line", "Priority"):
            if key in new:
                record[key] = new[key]
            else:
                record.pop(key, None)
        record["UpdateTimestamp"] = _millis()
        return record

    def delete(self, record_id: object) -> dict:
        domain, record = self.find(record_id)
        if record.get("Locked"):
            raise ApiError(400, "DomainRecordLocked", "The DNS record is locked.")
        del domain.records[record["RecordId"]]
        return record

    def remark(self, record_id: object, remark: str | None) -> dict:
        _domain, record = self.find(record_id)
        if remark:
            record["Remark"] = remark
        else:
            record.pop("Remark", None)
        return record

    # ---- rules ------------------------------------------------------------------------------------------
    def _build(self, domain: Domain, params: dict[str, str]) -> dict:
        for name in ("RR", "Type", "Value"):
            if not params.get(name):
                raise missing(name)
        rr, rtype, value = params["RR"].strip().lower(), params["Type"].strip().upper(), params["Value"]
        if not _RR.match(rr):
            raise ApiError(400, "InvalidRR.Format", "The format of the host record is invalid.")
        if rtype not in TYPES:
            raise ApiError(400, "InvalidType", f"The DNS record type {rtype} is not supported.")
        try:
            ttl = int(params.get("TTL") or 600)
        except ValueError:
            raise ApiError(400, "InvalidTTL", "Specified parameter TTL is not valid.") from None
        if not 1 <= ttl <= 86400:
            raise ApiError(400, "InvalidTTL", "Specified parameter TTL is not valid.")
        _check_value(rtype, value)
        record: dict[str, Any] = {
            "DomainName": domain.name,
            "RR": rr,
            "Type": rtype,
            "Value": value,
            "TTL": ttl,
            "Line": params.get("Line") or "default",
            "Status": "ENABLE",
            "Locked": False,
            "Weight": 1,
            "CreateTimestamp": _millis(),
            "UpdateTimestamp": _millis(),
        }
        if rtype == "MX":
            try:
                priority = int(params.get("Priority") or 0)
            except ValueError:
                priority = 0
            if not 1 <= priority <= 50:
                raise ApiError(400, "InvalidPriority", "Specified parameter Priority is not valid (1-50 for MX).")
            record["Priority"] = priority
        return record

    def _check_conflicts(self, domain: Domain, record: dict, own_id: str | None) -> None:
        for other in domain.records.values():
            if other["RecordId"] == own_id or other["RR"] != record["RR"] or other["Line"] != record["Line"]:
                continue
            if other["Type"] == record["Type"] and other["Value"] == record["Value"]:
                raise duplicate()
            if "CNAME" in (other["Type"], record["Type"]) and other["Type"] != record["Type"]:
                raise ApiError(400, "DomainRecordConflict", "The DNS record conflicts with other records.")
            if other["Type"] == record["Type"] == "CNAME":
                raise ApiError(400, "DomainRecordConflict", "The DNS record conflicts with other records.")


def _check_value(rtype: str, value: str) -> None:
    bad = ApiError(400, "InvalidValue", f"The value of the {rtype} record is invalid.")
    try:
        if rtype == "A":
            ipaddress.IPv4Address(value)
        elif rtype == "AAAA":
            ipaddress.IPv6Address(value)
    except ValueError:
        raise bad from None
    if rtype in ("CNAME", "NS", "MX") and not _HOST.match(value):
        raise bad
    if rtype == "SRV":
        parts = value.split()
        if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]) or not _HOST.match(parts[3]):
            raise bad
    if rtype == "CAA" and not re.match(r'^\d{1,3} [a-z0-9]+ ".*"$', value):
        raise bad
    if len(value) > 4096:
        raise bad


def _millis() -> int:
    return int(time.time() * 1000)


def _page(items: list[dict], params: dict[str, str], default_size: int) -> dict:
    try:
        number = int(params.get("PageNumber") or 1)
        size = int(params.get("PageSize") or default_size)
    except ValueError:
        raise ApiError(400, "InvalidPageSize", "Specified parameter PageSize or PageNumber is not valid.") from None
    if number < 1 or not 1 <= size <= 500:
        raise ApiError(400, "InvalidPageSize", "Specified parameter PageSize or PageNumber is not valid.")
    chosen = items[(number - 1) * size : number * size]
    return {
        "TotalCount": len(items),
        "PageNumber": number,
        "PageSize": size,
        "DomainRecords": {"Record": [dict(r) for r in chosen]},
    }
