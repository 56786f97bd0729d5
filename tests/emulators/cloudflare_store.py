"""The data side of the Cloudflare emulator: zones, DNS records, validation and the batch transaction.

Behaviour follows Cloudflare's API v4 documentation and observed answers:
record ids are 32 hex digits, names are full FQDNs without the final dot, `ttl` is 1 (automatic) or
60..86400, `proxied` defaults to false, PATCH merges and PUT replaces (omitted fields take their
defaults), a CNAME cannot share its name with other records, NS records stand alone, a duplicate create
fails with 81057/81058, an unknown id with 81044, a malformed id with 7003+7000, and a batch runs
deletes → patches → puts → posts in one transaction, returning the first error and changing nothing
when any operation fails.

Where the documentation gives no error code the emulator picks one; those are listed in EMULATOR_CODES so a
reader can tell them apart from observed ones. fleetdns only relies on the observed codes.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Codes observed in real traffic or documented.
IDENTICAL_EXISTS = 81058  # "An identical record already exists."
RECORD_EXISTS = 81057  # "Record already exists."
RECORD_MISSING = 81044  # "Record does not exist."
NO_ROUTE = 7003
NO_ROUTE_CHAIN = 7000
# Codes the documentation does not give; chosen here, not relied on by fleetdns.
EMULATOR_CODES = {
    "bad_content": 9005,
    "bad_ttl": 9021,
    "not_proxiable": 9004,
    "bad_name": 9006,
    "bad_type": 9008,
    "bad_priority": 9100,
    "bad_data": 9101,
    "bad_field": 9207,
    "cname_conflict": 81053,  # number seen in a community thread only
    "ns_conflict": 81056,
    "batch_too_big": 81071,
    "bad_paging": 1004,
}
TYPES = (
    "A", "AAAA", "CAA", "CERT", "CNAME", "DNSKEY", "DS", "HTTPS", "LOC", "MX", "NAPTR", "NS", "OPENPGPKEY",
    "PTR", "SMIMEA", "SRV", "SSHFP", "SVCB", "TLSA", "TXT", "URI",
)  # fmt: skip
PROXIABLE = frozenset({"A", "AAAA", "CNAME"})
HOSTNAME_TYPES = frozenset({"CNAME", "NS", "PTR", "MX"})
BATCH_LIMITS = {"free": 200, "pro": 3500, "business": 3500, "enterprise": 3500}  # records per batch, by plan
RECORD_PER_PAGE = (1, 5_000_000, 100)  # min, max, default
ZONE_PER_PAGE = (5, 50, 20)  # min, max, default
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_LABEL = re.compile(r"^(?:\*|[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)$")
_RECORD_FIELDS = frozenset({"name", "type", "content", "ttl", "proxied", "comment", "tags", "priority", "data",
                            "settings", "id"})  # fmt: skip


class ApiError(Exception):
    """An error response: HTTP status and the envelope's `errors` list."""

    def __init__(self, status: int, code: int, message: str, chain: list[dict] | None = None, pointer: str = ""):
        super().__init__(f"{code} {message}")
        self.status = status
        error: dict[str, Any] = {"code": code, "message": message}
        if chain:
            error["error_chain"] = chain
        if pointer:
            error["source"] = {"pointer": pointer}
        self.errors = [error]

    def at(self, pointer: str) -> ApiError:
        """The same error pointing at one operation of a batch (`source.pointer`, the newer schema)."""
        self.errors[0].setdefault("source", {"pointer": pointer})
        return self


def bad(kind: str, message: str) -> ApiError:
    return ApiError(400, EMULATOR_CODES[kind], message)


def no_route(path: str) -> ApiError:
    return ApiError(
        400,
        NO_ROUTE,
        f"Could not route to {path}, perhaps your object identifier is invalid?",
        [{"code": NO_ROUTE_CHAIN, "message": "No route for that URI"}],
    )


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id() -> str:
    return secrets.token_hex(16)


@dataclass
class Zone:
    """One zone: its records by id and an index by name (for conflict checks)."""

    id: str
    name: str
    plan: str = "free"
    status: str = "active"
    account_id: str = field(default_factory=new_id)
    records: dict[str, dict] = field(default_factory=dict)
    by_name: dict[str, set[str]] = field(default_factory=dict)

    def to_api(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "paused": False,
            "type": "full",
            "account": {"id": self.account_id, "name": "fleetdns test account"},
            "plan": {"id": self.plan, "name": f"{self.plan.title()} Website", "legacy_id": self.plan},
            "name_servers": [f"ns1.{self.name}", f"ns2.{self.name}"],
        }

    def put_record(self, record: dict, undo: list | None = None) -> None:
        old = self.records.get(record["id"])
        if undo is not None:
            undo.append((record["id"], old))
        if old is not None:
            self.by_name[old["name"]].discard(old["id"])
        self.records[record["id"]] = record
        self.by_name.setdefault(record["name"], set()).add(record["id"])

    def drop_record(self, record_id: str, undo: list | None = None) -> dict:
        record = self.records.pop(record_id)
        if undo is not None:
            undo.append((record_id, record))
        self.by_name[record["name"]].discard(record_id)
        return record

    def rollback(self, undo: list) -> None:
        """Undo a failed transaction's steps, newest first (records are immutable dicts)."""
        for record_id, old in reversed(undo):
            current = self.records.pop(record_id, None)
            if current is not None:
                self.by_name[current["name"]].discard(record_id)
            if old is not None:
                self.records[record_id] = old
                self.by_name.setdefault(old["name"], set()).add(record_id)

    def at_name(self, name: str) -> list[dict]:
        return [self.records[i] for i in self.by_name.get(name, ())]


class Store:
    """All zones of the emulated account. Every public method holds the lock for its whole run."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.zones: dict[str, Zone] = {}

    # ---- zones -----------------------------------------------------------------------------------
    def add_zone(self, name: str, plan: str = "free", zone_id: str | None = None) -> Zone:
        with self.lock:
            zone = Zone(zone_id or new_id(), name.lower().rstrip("."), plan)
            self.zones[zone.id] = zone
            return zone

    def zone(self, zone_id: str, path: str) -> Zone:
        zone = self.zones.get(zone_id)
        if zone is None:
            raise no_route(path)
        return zone

    def zone_by_name(self, name: str) -> Zone | None:
        wanted = name.lower().rstrip(".")
        return next((z for z in self.zones.values() if z.name == wanted), None)

    def list_zones(self, params: dict[str, str], allowed: set[str] | None) -> tuple[list[dict], dict]:
        with self.lock:
            zones = [z for z in self.zones.values() if allowed is None or z.id in allowed]
            if "name" in params:
                zones = [z for z in zones if _match_operator(z.name, params["name"])]
            if "status" in params:
                zones = [z for z in zones if z.status == params["status"]]
            zones.sort(key=lambda z: z.name, reverse=params.get("direction") == "desc")
            return paginate([z.to_api() for z in zones], params, ZONE_PER_PAGE)

    # ---- records: reads --------------------------------------------------------------------------
    def list_records(self, zone: Zone, params: dict[str, str]) -> tuple[list[dict], dict]:
        with self.lock:
            records = list(zone.records.values())
            name = params.get("name.exact", params.get("name"))
            if name is not None:
                wanted = name.lower().rstrip(".")
                wanted = zone.name if wanted == "@" else wanted
                records = [zone.records[i] for i in zone.by_name.get(wanted, ())]
            if "type" in params:
                records = [r for r in records if r["type"] == params["type"]]
            content = params.get("content.exact", params.get("content"))
            if content is not None:
                records = [r for r in records if r["content"].lower() == content.lower()]
            if "proxied" in params:
                records = [r for r in records if r["proxied"] == (params["proxied"] == "true")]
            if "comment.contains" in params:
                records = [r for r in records if params["comment.contains"] in (r["comment"] or "")]
            if "comment.present" in params:
                records = [r for r in records if r["comment"]]
            if "comment.absent" in params:
                records = [r for r in records if not r["comment"]]
            if "tag" in params:
                records = [r for r in records if params["tag"] in r["tags"]]
            order = params.get("order", "type")
            if order not in ("type", "name", "content", "ttl", "proxied"):
                raise bad("bad_paging", f"order must be one of type, name, content, ttl, proxied, not {order!r}")
            records.sort(key=lambda r: (r[order], r["name"], r["content"]), reverse=params.get("direction") == "desc")
            return paginate(records, params, RECORD_PER_PAGE)

    def get_record(self, zone: Zone, record_id: str, path: str) -> dict:
        with self.lock:
            return self._existing(zone, record_id, path)

    # ---- records: writes (each a one-operation transaction) --------------------------------------
    def create(self, zone: Zone, body: Any) -> dict:
        return self.transaction(zone, [("post", body)])[0]

    def patch(self, zone: Zone, record_id: str, body: Any, path: str) -> dict:
        _check_id(record_id, path)
        return self.transaction(zone, [("patch", _with_id(body, record_id))])[0]

    def put(self, zone: Zone, record_id: str, body: Any, path: str) -> dict:
        _check_id(record_id, path)
        return self.transaction(zone, [("put", _with_id(body, record_id))])[0]

    def delete(self, zone: Zone, record_id: str, path: str) -> dict:
        _check_id(record_id, path)
        self.transaction(zone, [("delete", {"id": record_id})])
        return {"id": record_id}

    def batch(self, zone: Zone, body: Any) -> dict:
        """POST /dns_records/batch: validate the request, run it in order in one transaction."""
        if not isinstance(body, dict):
            raise bad("bad_field", "The request body must be a JSON object with deletes, patches, puts, posts")
        unknown = set(body) - {"deletes", "patches", "puts", "posts"}
        if unknown:
            raise bad("bad_field", f"Unknown batch field(s): {', '.join(sorted(unknown))}")
        ops: list[tuple[str, Any]] = []
        for kind in ("deletes", "patches", "puts", "posts"):
            items = body.get(kind) or []
            if not isinstance(items, list):
                raise bad("bad_field", f"{kind} must be an array")
            ops.extend((kind[:-1] if kind != "patches" else "patch", item) for item in items)
        limit = BATCH_LIMITS.get(zone.plan, 200)
        if len(ops) > limit:
            raise bad(
                "batch_too_big",
                f"A batch may change at most {limit} records on this zone's plan; this one changes {len(ops)}",
            )
        results = self.transaction(zone, ops, pointers=True)
        grouped: dict[str, list[dict]] = {"deletes": [], "patches": [], "puts": [], "posts": []}
        for (kind, _op), record in zip(ops, results, strict=True):
            grouped["patches" if kind == "patch" else kind + "s"].append(record)
        return grouped

    def transaction(self, zone: Zone, ops: list[tuple[str, Any]], pointers: bool = False) -> list[dict]:
        """Run operations in order under the lock; on the first failure undo them all and raise it."""
        with self.lock:
            undo: list = []
            results = []
            counters: dict[str, itertools.count] = {}
            for kind, item in ops:
                index = next(counters.setdefault(kind, itertools.count()))
                try:
                    results.append(self._apply_one(zone, kind, item, undo))
                except ApiError as exc:
                    zone.rollback(undo)
                    if pointers:
                        exc.at(f"/{'patches' if kind == 'patch' else kind + 's'}/{index}")
                    raise
            return results

    def _apply_one(self, zone: Zone, kind: str, item: Any, undo: list) -> dict:
        if not isinstance(item, dict):
            raise bad("bad_field", "Each batch operation must be a JSON object")
        path = f"/zones/{zone.id}/dns_records"
        if kind == "post":
            if "id" in item:
                raise bad("bad_field", "A created record cannot carry an id")
            record = build_record(zone, item)
            _check_conflicts(zone, record)
            zone.put_record(record, undo)
            return record
        record_id = item.get("id")
        if not isinstance(record_id, str):
            raise bad("bad_field", f"A {kind} operation needs the record id")
        _check_id(record_id, f"{path}/{record_id}")
        old = self._existing(zone, record_id, f"{path}/{record_id}")
        if kind == "delete":
            return zone.drop_record(record_id, undo)
        if kind == "put":
            missing = [
                f for f in ("name", "type", "content") if f not in item and not (f == "content" and "data" in item)
            ]
            if missing:
                raise bad("bad_field", f"A put must include {', '.join(missing)}")
            record = build_record(zone, item, keep=old)
        else:
            record = build_record(zone, {**_editable(old), **item}, keep=old)
        _check_conflicts(zone, record)
        zone.put_record(record, undo)
        return record

    @staticmethod
    def _existing(zone: Zone, record_id: str, path: str) -> dict:
        _check_id(record_id, path)
        record = zone.records.get(record_id)
        if record is None:
            raise ApiError(400, RECORD_MISSING, "Record does not exist.")
        return record


def paginate(items: list[dict], params: dict[str, str], limits: tuple[int, int, int]) -> tuple[list[dict], dict]:
    """Page-number pagination with the endpoint's per_page bounds; `result_info` as the API sends it."""
    low, high, default = limits
    try:
        page = int(params.get("page", "1"))
        per_page = int(params.get("per_page", str(default)))
    except ValueError:
        raise bad("bad_paging", "page and per_page must be whole numbers") from None
    if page < 1:
        raise bad("bad_paging", "page must be at least 1")
    if not low <= per_page <= high:
        raise bad("bad_paging", f"per_page must be between {low} and {high}")
    start = (page - 1) * per_page
    chunk = items[start : start + per_page]
    total = len(items)
    info = {
        "page": page,
        "per_page": per_page,
        "count": len(chunk),
        "total_count": total,
        "total_pages": (total + per_page - 1) // per_page,
    }
    return chunk, info


def _match_operator(value: str, spec: str) -> bool:
    """`name` filters with operator prefixes: equal (default), contains:, starts_with:..."""
    operator, sep, operand = spec.partition(":")
    if not sep or operator not in ("equal", "not_equal", "starts_with", "ends_with", "contains"):
        operator, operand = "equal", spec
    operand = operand.lower().rstrip(".")
    return {
        "equal": value == operand,
        "not_equal": value != operand,
        "starts_with": value.startswith(operand),
        "ends_with": value.endswith(operand),
        "contains": operand in value,
    }[operator]


def _check_id(record_id: str, path: str) -> None:
    if not _HEX32.match(record_id):
        raise no_route(path)


def _with_id(body: Any, record_id: str) -> Any:
    return {**body, "id": record_id} if isinstance(body, dict) else body


def _editable(record: dict) -> dict:
    fields = {k: record[k] for k in ("name", "type", "content", "ttl", "proxied", "comment", "tags", "settings")}
    if "priority" in record:
        fields["priority"] = record["priority"]
    if "data" in record and record["type"] in ("SRV", "CAA"):
        fields["data"] = record["data"]
        fields.pop("content")
    return fields


def build_record(zone: Zone, item: dict, keep: dict | None = None) -> dict:
    """Validate a create/put/patch body and return the full record object (the documented fields)."""
    unknown = set(item) - _RECORD_FIELDS
    if unknown:
        raise bad("bad_field", f"Unknown field(s): {', '.join(sorted(unknown))}")
    rtype = item.get("type")
    if rtype not in TYPES:
        raise bad("bad_type", f"DNS record type {rtype!r} is invalid")
    name = _full_name(zone, item.get("name"))
    ttl = item.get("ttl", 1)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not (ttl == 1 or _min_ttl(zone) <= ttl <= 86400):
        raise bad("bad_ttl", f"TTL must be between {_min_ttl(zone)} and 86400 seconds, or 1 for Automatic")
    proxied = item.get("proxied", False)
    if not isinstance(proxied, bool):
        raise bad("bad_field", "proxied must be true or false")
    if proxied and rtype not in PROXIABLE:
        raise bad("not_proxiable", f"{rtype} records cannot be proxied.")
    comment = item.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise bad("bad_field", "comment must be a string or null")
    tags = item.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise bad("bad_field", "tags must be an array of 'name:value' strings")
    record: dict[str, Any] = {
        "id": keep["id"] if keep else new_id(),
        "zone_id": zone.id,
        "zone_name": zone.name,
        "name": name,
        "type": rtype,
        "ttl": ttl,
        "proxied": proxied,
        "proxiable": rtype in PROXIABLE,
        "comment": comment or None,
        "tags": list(tags),
        "settings": item.get("settings") or {},
        "meta": {},
        "created_on": keep["created_on"] if keep else now_text(),
        "modified_on": now_text(),
    }
    _content(record, item)
    if keep:
        if record["comment"] != keep["comment"]:
            record["comment_modified_on"] = record["modified_on"]
        if record["tags"] != keep["tags"]:
            record["tags_modified_on"] = record["modified_on"]
    return record


def _min_ttl(zone: Zone) -> int:
    return 30 if zone.plan == "enterprise" else 60


def _full_name(zone: Zone, name: Any) -> str:
    """Record names as the API stores them: full FQDN, lower-case, no final dot; '@' and short names expand."""
    if not isinstance(name, str) or not name.strip():
        raise bad("bad_name", "DNS record name is required")
    text = name.strip().lower().rstrip(".")
    if text in ("@", zone.name):
        return zone.name
    full = text if text.endswith("." + zone.name) else f"{text}.{zone.name}"
    labels = full.split(".")
    if len(full) > 253 or not all(_LABEL.match(label) for label in labels) or "*" in labels[1:]:
        raise bad("bad_name", f"DNS name {name!r} is invalid")
    return full


def _hostname(text: Any, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise bad("bad_content", f"Content for {what} record is invalid: a hostname is required")
    host = text.strip().rstrip(".")
    if host == "":  # a lone "." (null MX)
        return "."
    if len(host) > 253 or not all(_LABEL.match(label) and label != "*" for label in host.split(".")):
        raise bad("bad_content", f"Content for {what} record is invalid: {text!r} is not a valid hostname")
    return host


def _int_field(data: dict, key: str, low: int, high: int, what: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise bad("bad_data", f"{what} data.{key} must be a whole number between {low} and {high}")
    return value


def _content(record: dict, item: dict) -> None:
    """Per-type content rules: addresses checked, hostnames checked, MX priority, SRV/CAA `data` objects."""
    rtype = record["type"]
    content = item.get("content")
    if rtype == "A":
        try:
            record["content"] = str(ipaddress.IPv4Address(content))
        except (ipaddress.AddressValueError, ValueError):
            raise bad("bad_content", "Content for A record must be a valid IPv4 address.") from None
    elif rtype == "AAAA":
        try:
            record["content"] = str(ipaddress.IPv6Address(content))
        except (ipaddress.AddressValueError, ValueError):
            raise bad("bad_content", "Content for AAAA record must be a valid IPv6 address.") from None
    elif rtype in HOSTNAME_TYPES:
        record["content"] = _hostname(content, rtype)
        if rtype == "MX":
            priority = item.get("priority")
            if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 65535:
                raise ApiError(400, EMULATOR_CODES["bad_priority"], "MX records require a priority between 0 and 65535")
            record["priority"] = priority
    elif rtype == "SRV":
        data = item.get("data")
        if not isinstance(data, dict):
            raise bad("bad_data", "SRV records require a data object {priority, weight, port, target}")
        priority = _int_field(data, "priority", 0, 65535, "SRV")
        weight = _int_field(data, "weight", 0, 65535, "SRV")
        port = _int_field(data, "port", 0, 65535, "SRV")
        target = _hostname(data.get("target"), "SRV")
        record["data"] = {"priority": priority, "weight": weight, "port": port, "target": target}
        record["priority"] = priority
        record["content"] = f"{weight} {port} {target}"
    elif rtype == "CAA":
        data = item.get("data")
        if not isinstance(data, dict):
            raise bad("bad_data", "CAA records require a data object {flags, tag, value}")
        flags = _int_field(data, "flags", 0, 255, "CAA")
        tag, value = data.get("tag"), data.get("value")
        if tag not in ("issue", "issuewild", "iodef") or not isinstance(value, str):
            raise bad("bad_data", "CAA data.tag must be issue, issuewild or iodef and data.value a string")
        record["data"] = {"flags": flags, "tag": tag, "value": value}
        record["content"] = f'{flags} {tag} "{value}"'
    else:  # TXT and the rest: content taken as given
        if not isinstance(content, str) or content == "":
            raise bad("bad_content", f"Content for {rtype} record is required")
        record["content"] = content


def _same_data(a: dict, b: dict) -> bool:
    return a["type"] == b["type"] and a["content"] == b["content"] and a.get("priority") == b.get("priority")


def _check_conflicts(zone: Zone, record: dict) -> None:
    """Duplicates (81058/81057) and the CNAME / NS exclusivity rules against the records at the same name."""
    others = [r for r in zone.at_name(record["name"]) if r["id"] != record["id"]]
    for other in others:
        if _same_data(other, record):
            if other["ttl"] == record["ttl"] and other["proxied"] == record["proxied"]:
                raise ApiError(400, IDENTICAL_EXISTS, "An identical record already exists.")
            raise ApiError(400, RECORD_EXISTS, "Record already exists.")
    types = {r["type"] for r in others}
    if (record["type"] == "CNAME" and types) or (record["type"] != "CNAME" and "CNAME" in types):
        raise bad("cname_conflict", "An A, AAAA, or CNAME record with that host already exists.")
    if record["name"] != zone.name and ((record["type"] == "NS" and types - {"NS", "DS"}) or (
        record["type"] not in ("NS", "DS") and "NS" in types
    )):  # fmt: skip
        raise bad("ns_conflict", "NS records cannot exist on the same name as any other record type.")
