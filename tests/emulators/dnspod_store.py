"""The data side of the DNSPod emulator: domains, records with stable numeric ids, and the API 3.0
actions fleetdns and other clients use, with DNSPod's parameter spellings and error codes.

- Record ids are numbers handed out in order and never reused; listing is in id order, so Offset/Limit
  pages are stable.
- Field names as the API spells them: `Subdomain` to filter DescribeRecordList, `SubDomain` to name a
  record in Create/ModifyRecord, `TTL` there but `Ttl` in ModifyDynamicDNS, the MX preference in `MX`.
- `DomainId` takes precedence over `Domain`; a domain that is not in the account is
  InvalidParameterValue.DomainNotExists.
- A new domain holds the two default NS records at `@` (DefaultNS true), as on the real service.
- An empty list (nothing matches) is the error ResourceNotFound.NoDataOfRecord, not an empty list.
- TTL between the plan's minimum (600 on the free plan) and 604800, else LimitExceeded.RecordTtlLimit;
  the record line must be one the service knows (InvalidParameter.RecordLineInvalid); a record equal
  to an existing one (name, type, line, value) is InvalidParameter.DomainRecordExist.
- `index_delay` (0 unless a test sets it): DNSPod documents that a new record can take up to about
  30 s to appear in DescribeRecordList; records younger than this are left out of lists.
- ModifyRecord without TTL resets it to 600, without Remark keeps the remark; ModifyDynamicDNS changes
  only Value and TTL (resetting the TTL to 600 when Ttl is left out).
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

LINES = {"默认": "0", "电信": "10=0", "联通": "10=1", "移动": "10=3", "境外": "3=0", "教育网": "10=2"}
TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA", "SPF")
DEFAULT_TTL = 600
_HOST = re.compile(
    r"^(\*|@|[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$"
)
_TARGET = re.compile(r"^([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)+[A-Za-z0-9-]{1,63}\.?$")


class ApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass
class Domain:
    id: int
    name: str
    min_ttl: int = DEFAULT_TTL
    records: dict[int, dict] = field(default_factory=dict)
    index: dict[tuple[str, str, str, str], int] = field(default_factory=dict)  # (name, type, line, value) -> id


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.domains: dict[str, Domain] = {}
        self._domain_ids = itertools.count(80_000_001)
        self._record_ids = itertools.count(1_500_000_001)
        self.index_delay = 0.0
        self._created: dict[int, float] = {}

    # ---- setup ---------------------------------------------------------------------------------------
    def add_domain(self, name: str, min_ttl: int = DEFAULT_TTL) -> Domain:
        with self.lock:
            domain = Domain(next(self._domain_ids), name.lower().rstrip("."), min_ttl)
            self.domains[domain.name] = domain
            for ns in ("f1g1ns1.dnspod.net.", "f1g1ns2.dnspod.net."):
                record = self._new(domain, "@", "NS", ns, "默认", 86400, None, "", None, "ENABLE")
                record["DefaultNS"] = True
            return domain

    def add_record(self, domain: Domain, **fields: Any) -> dict:
        """A record put in directly (checked like CreateRecord)."""
        params = {"Domain": domain.name, "RecordLine": "默认", **fields}
        with self.lock:
            return self.records_of(domain)[self.create_record(params)["RecordId"]]

    def records_of(self, domain: Domain) -> dict[int, dict]:
        return domain.records

    def edit_record(self, name: str, record_id: int, **fields: Any) -> None:
        """Someone else changes a record (in the console): not counted, not checked."""
        with self.lock:
            domain = self.domains[name]
            record = domain.records[record_id]
            old = self._key(record)
            record.update(fields)
            self._reindex(domain, record, old)

    def remove_record(self, name: str, record_id: int) -> None:
        with self.lock:
            self.delete_record({"Domain": name, "RecordId": record_id})

    # ---- helpers -------------------------------------------------------------------------------------
    def domain(self, params: dict) -> Domain:
        domain_id = params.get("DomainId")
        if domain_id not in (None, "", 0):
            for domain in self.domains.values():
                if str(domain.id) == str(domain_id):
                    return domain
            raise ApiError("InvalidParameterValue.DomainNotExists", "当前域名有误，请返回重新操作。")
        name = params.get("Domain")
        if not isinstance(name, str) or not name:
            raise ApiError("MissingParameter", "The request is missing a required parameter `Domain`.")
        domain = self.domains.get(name.lower().rstrip("."))
        if domain is None:
            raise ApiError("InvalidParameterValue.DomainNotExists", "当前域名有误，请返回重新操作。")
        return domain

    def _new(
        self,
        domain: Domain,
        name: str,
        rtype: str,
        value: str,
        line: str,
        ttl: int,
        mx: int | None,
        remark: str,
        weight: int | None,
        status: str,
    ) -> dict:
        record_id = next(self._record_ids)
        record = {
            "RecordId": record_id,
            "Value": value,
            "Status": status,
            "UpdatedOn": time.strftime("%Y-%m-%d %H:%M:%S"),
            "Name": name,
            "Line": line,
            "LineId": LINES[line],
            "Type": rtype,
            "Weight": weight,
            "MonitorStatus": "",
            "Remark": remark,
            "TTL": ttl,
            "MX": mx if mx is not None else 0,
            "DefaultNS": False,
        }
        domain.records[record_id] = record
        domain.index[self._key(record)] = record_id
        self._created[record_id] = time.monotonic()
        return record

    def _record(self, domain: Domain, params: dict) -> dict:
        record_id = params.get("RecordId")
        if isinstance(record_id, bool) or not isinstance(record_id, int | str) or not str(record_id).isdigit():
            raise ApiError("MissingParameter", "The request is missing a required parameter `RecordId`.")
        record = domain.records.get(int(record_id))
        if record is None:
            raise ApiError("InvalidParameter.RecordIdInvalid", "记录编号错误。")
        return record

    @staticmethod
    def _ttl(domain: Domain, value: Any) -> int:
        if value is None:
            return DEFAULT_TTL
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError("InvalidParameter", "TTL must be an integer.")
        if not domain.min_ttl <= value <= 604800:
            raise ApiError("LimitExceeded.RecordTtlLimit", f"TTL 值超出了限制（{domain.min_ttl}-604800）。")
        return value

    @staticmethod
    def _line(params: dict) -> str:
        line = params.get("RecordLine")
        line_id = params.get("RecordLineId")
        if line_id:
            for name, known in LINES.items():
                if known == line_id:
                    return name
            raise ApiError("InvalidParameter.RecordLineInvalid", "记录线路错误。")
        if not isinstance(line, str) or not line:
            raise ApiError("MissingParameter", "The request is missing a required parameter `RecordLine`.")
        if line not in LINES:
            raise ApiError("InvalidParameter.RecordLineInvalid", "记录线路错误。")
        return line

    @staticmethod
    def _value(rtype: str, value: Any, mx: Any) -> tuple[str, int | None]:
        if not isinstance(value, str) or not value:
            raise ApiError("MissingParameter", "The request is missing a required parameter `Value`.")
        bad = ApiError("InvalidParameter.RecordValueInvalid", "记录值有误，请修改后重新提交。")
        try:
            if rtype == "A":
                ipaddress.IPv4Address(value)
            elif rtype == "AAAA":
                value = str(ipaddress.IPv6Address(value))
        except ValueError:
            raise bad from None
        if rtype in ("CNAME", "NS", "MX") and not _TARGET.match(value):
            raise bad
        if rtype in ("CNAME", "NS", "MX") and not value.endswith("."):
            value += "."
        if rtype == "MX":
            if isinstance(mx, bool) or not isinstance(mx, int) or not 1 <= mx <= 65535:
                raise ApiError("InvalidParameter.MxInvalid", "MX 优先级错误。")
            return value, mx
        if rtype == "SRV" and len(value.split()) != 4:
            raise bad
        return value, None

    @staticmethod
    def _subdomain(params: dict) -> str:
        name = params.get("SubDomain", "@")
        if not isinstance(name, str) or not name or not _HOST.match(name) or len(name) > 253:
            raise ApiError("InvalidParameter.SubdomainInvalid", "子域名不正确。")
        return name.lower()

    @staticmethod
    def _key(record: dict) -> tuple[str, str, str, str]:
        return (record["Name"], record["Type"], record["Line"], record["Value"])

    def _check_unique(self, domain: Domain, record: dict, skip: int | None = None) -> None:
        key = self._key(record)
        holder = domain.index.get(key)
        if (
            holder is not None
            and holder != skip
            and holder in domain.records
            and self._key(domain.records[holder]) == key
        ):
            raise ApiError("InvalidParameter.DomainRecordExist", "记录已经存在，无需再次添加。")

    def _reindex(self, domain: Domain, record: dict, old: tuple[str, str, str, str] | None) -> None:
        if old is not None and domain.index.get(old) == record["RecordId"]:
            del domain.index[old]
        domain.index[self._key(record)] = record["RecordId"]

    # ---- actions -------------------------------------------------------------------------------------
    def describe_domain(self, params: dict) -> dict:
        domain = self.domain(params)
        info = {"DomainId": domain.id, "Domain": domain.name, "Status": "ENABLE", "Grade": "DP_FREE", "TTL": 600}
        return {"DomainInfo": info}

    def describe_record_list(self, params: dict) -> dict:
        domain = self.domain(params)
        offset, limit = params.get("Offset", 0), params.get("Limit", 100)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ApiError("InvalidParameter.OffsetInvalid", "分页起始数量错误。")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 3000:
            raise ApiError("InvalidParameterValue.LimitInvalid", "分页长度数量错误。")
        records = sorted(domain.records.values(), key=lambda r: r["RecordId"])
        if self.index_delay:
            now = time.monotonic()
            records = [r for r in records if now - self._created.get(r["RecordId"], 0.0) >= self.index_delay]
        subdomain = params.get("Subdomain")
        if subdomain:
            records = [r for r in records if r["Name"] == str(subdomain).lower()]
        if params.get("RecordType"):
            records = [r for r in records if r["Type"] == str(params["RecordType"]).upper()]
        if params.get("RecordLine"):
            records = [r for r in records if r["Line"] == params["RecordLine"]]
        if params.get("Keyword"):
            word = str(params["Keyword"])
            records = [r for r in records if word in r["Name"] or word in r["Value"]]
        if not records:
            raise ApiError("ResourceNotFound.NoDataOfRecord", "记录列表为空。")
        page = records[offset : offset + limit]
        count = {"SubdomainCount": len(records), "ListCount": len(page), "TotalCount": len(records)}
        return {"RecordCountInfo": count, "RecordList": [dict(r) for r in page]}

    def create_record(self, params: dict) -> dict:
        domain = self.domain(params)
        rtype = params.get("RecordType")
        if not isinstance(rtype, str) or rtype not in TYPES:
            raise ApiError("InvalidParameter.RecordTypeInvalid", "记录类型错误。")
        line = self._line(params)
        value, mx = self._value(rtype, params.get("Value"), params.get("MX"))
        ttl = self._ttl(domain, params.get("TTL"))
        status = str(params.get("Status") or "ENABLE")
        remark = params.get("Remark") or ""
        name = self._subdomain(params)
        candidate = {"Name": name, "Type": rtype, "Line": line, "Value": value}
        self._check_unique(domain, candidate)
        weight = params.get("Weight")
        record = self._new(domain, name, rtype, value, line, ttl, mx, str(remark), weight, status)
        return {"RecordId": record["RecordId"]}

    def modify_record(self, params: dict) -> dict:
        domain = self.domain(params)
        record = self._record(domain, params)
        rtype = params.get("RecordType")
        if not isinstance(rtype, str) or rtype not in TYPES:
            raise ApiError("InvalidParameter.RecordTypeInvalid", "记录类型错误。")
        line = self._line(params)
        value, mx = self._value(rtype, params.get("Value"), params.get("MX"))
        ttl = self._ttl(domain, params.get("TTL"))
        name = self._subdomain(params)
        self._check_unique(domain, {"Name": name, "Type": rtype, "Line": line, "Value": value}, record["RecordId"])
        old = self._key(record)
        record.update(Name=name, Type=rtype, Line=line, LineId=LINES[line], Value=value, TTL=ttl, MX=mx or 0)
        self._reindex(domain, record, old)
        if "Remark" in params and params["Remark"] is not None:
            record["Remark"] = str(params["Remark"])
        if params.get("Status"):
            record["Status"] = str(params["Status"])
        if params.get("Weight") is not None:
            record["Weight"] = params["Weight"]
        record["UpdatedOn"] = time.strftime("%Y-%m-%d %H:%M:%S")
        return {"RecordId": record["RecordId"]}

    def modify_dynamic_dns(self, params: dict) -> dict:
        domain = self.domain(params)
        record = self._record(domain, params)
        self._line(params)
        if record["Type"] not in ("A", "AAAA"):
            raise ApiError("InvalidParameter.RecordTypeInvalid", "记录类型错误。")
        value, _mx = self._value(record["Type"], params.get("Value"), None)
        ttl = self._ttl(domain, params.get("Ttl"))
        self._check_unique(domain, {**record, "Value": value}, record["RecordId"])
        old = self._key(record)
        record.update(Value=value, TTL=ttl, UpdatedOn=time.strftime("%Y-%m-%d %H:%M:%S"))
        self._reindex(domain, record, old)
        return {"RecordId": record["RecordId"]}

    def delete_record(self, params: dict) -> dict:
        domain = self.domain(params)
        record = self._record(domain, params)
        del domain.records[record["RecordId"]]
        if domain.index.get(self._key(record)) == record["RecordId"]:
            del domain.index[self._key(record)]
        return {}
