"""The `alidns` zone provider: Alibaba Cloud DNS (API 2015-01-09), signed with ACS3-HMAC-SHA256.

Reading: DescribeDomainRecords, 500 records a page (the API's maximum), page after page until
TotalCount records were seen. Only records on the provider's `line` (`default` unless set) are
fleetdns's to manage; records on other lines (per-ISP or per-region answers) are not read into the
plan and never touched.

Ownership: a record set is fleetdns's when its records carry `fleetdns-owner=<owner id>` as a word of
their remark (set with UpdateDomainRecordRemark); fleetdns adds or removes only that word. A record
set fleetdns owns but that has no record yet gets the TXT marker of ownership.py instead.

Writing: the API has no batch and no transaction: every operation is one request (AddDomainRecord,
UpdateDomainRecord, DeleteDomainRecord, UpdateDomainRecordRemark), sent one after the other, and
each is its own batch for record_per_value (so an ambiguous failure is judged for that one write).
AddDomainRecord takes no remark, so a new record is owned only once its remark is written. To keep
ownership across an interruption between those two writes, a record set created from nothing gets
its TXT marker first and loses it last: marker, records, remarks, marker removed. An apply cut off
anywhere leaves a zone a re-run of plan/apply reads as fleetdns's and completes.

Errors: throttling codes back off like a 429 (alidns_api); UpdateDomainRecord to the values a
record already has answers DomainRecordDuplicate, taken as done once a re-read confirms it; a record
gone since the read (DomainRecordNotBelongToUser) or a value someone else added meanwhile is a
ChangedSinceReadError; every other refusal names the record and the API's code.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from ..deadline import check_deadline
from ..errors import ChangedSinceReadError, ProviderError, shorten
from ..names import relative_name
from ..ownership import marker_name, marker_value, parse_owner
from ..plan import Change
from ..rdata import InvalidValueError
from ..records import RecordKey
from .alidns_api import DEFAULT_ENDPOINT, REQUEST_DEADLINE, THROTTLE_CODES, AliDnsApiError, AliDnsClient
from .alidns_records import DEFAULT_LINE, WRITABLE_TYPES, AliRecord, api_fields, canonical_value, name_of, rr_of
from .base import COMMENT_STORE, Capabilities, Option
from .cloudflare_records import with_owner
from .http_api import AmbiguousWriteError, check_base_url
from .record_per_value import Op, RecordPerValueProvider, Snapshot, label, reuse
from .signing import Credentials

MAX_PAGE_SIZE = 500
MAX_PAGES = 10_000
MARKER_TTL = 600  # the lowest TTL every Alibaba Cloud DNS edition accepts
GONE_CODES = frozenset({"DomainRecordNotBelongToUser", "InvalidRecordId.NotFound", "DomainRecordNotExist"})
EXISTS_CODES = frozenset({"DomainRecordDuplicate", "DomainRecordConflict"})
NO_ZONE_CODES = frozenset({"IncorrectDomainUser", "InvalidDomainName.NoExist", "DomainNotExist"})
UPDATE, REMARK = "UpdateDomainRecord", "UpdateDomainRecordRemark"


def _check_page_size(value: Any) -> str | None:
    return None if 1 <= int(value) <= MAX_PAGE_SIZE else f"{value} is outside 1..{MAX_PAGE_SIZE}"


class AliDnsProvider(RecordPerValueProvider):
    """Alibaba Cloud DNS through its RPC API with an AccessKey pair."""

    TYPE = "alidns"
    SERVICE = "Alibaba Cloud DNS"
    CAPABILITIES = Capabilities(
        record_types=WRITABLE_TYPES,
        lists_zone=True,
        ownership_store=COMMENT_STORE,
        zone_ownership=False,
        libraries=("requests",),
    )
    OPTIONS: ClassVar[dict[str, Option]] = {
        "access_key_id": Option(
            str, required=True, description="AccessKey ID of a RAM user allowed to edit the domain"
        ),
        "access_key_secret": Option(str, required=True, secret=True, description="AccessKey secret of that key"),
        "endpoint": Option(
            str,
            default=DEFAULT_ENDPOINT,
            description="API endpoint; https, or plain http to 127.0.0.1/::1/localhost only",
        ),
        "line": Option(
            str,
            default=DEFAULT_LINE,
            description="resolution line fleetdns manages and creates records on; other lines are left alone",
        ),
        "page_size": Option(
            int,
            default=MAX_PAGE_SIZE,
            description="records per DescribeDomainRecords page (1..500)",
            check=_check_page_size,
        ),
        "ca_bundle": Option(str, description="CA certificate file (PEM) to verify the API's TLS certificate with"),
        "timeout": Option(int, default=30, description="seconds to wait for the API at each network read"),
        "deadline": Option(
            (int, float),
            default=REQUEST_DEADLINE,
            description="seconds one API request may take in all, however slowly the API answers",
            check=check_deadline,
        ),
    }
    DEFAULT_BATCH_SIZE = 1  # no batch API: each write is judged on its own after an ambiguous failure

    def __init__(self, name: str, options: dict[str, Any], base_dir: str = ".") -> None:
        super().__init__(name, options, base_dir)
        self._new_markers: dict[RecordKey, str] = {}

    @property
    def line(self) -> str:
        return str(self.options.get("line") or DEFAULT_LINE)

    # ---- options ----------------------------------------------------------------------------------------
    def check_options(self) -> list[str]:
        problems = []
        for key in ("access_key_id", "access_key_secret"):
            if isinstance(self.options.get(key), str) and not self.options[key].strip():
                problems.append(f"{key} is empty")
        problem = check_base_url(str(self.options.get("endpoint") or DEFAULT_ENDPOINT), "endpoint")
        if problem:
            problems.append(problem)
        timeout = self.options.get("timeout", 30)
        if isinstance(timeout, int) and timeout < 1:
            problems.append("timeout must be at least 1 second")
        return problems + self.declared_problems(self.options)

    @property
    def client(self) -> AliDnsClient:
        if self._client is None:
            problems = self.check_options()
            if problems:
                raise ProviderError(f"provider '{self.name}': {'; '.join(problems)}")
            opts = self.options
            self._client = AliDnsClient(
                str(opts.get("endpoint") or DEFAULT_ENDPOINT),
                Credentials(str(opts["access_key_id"]), str(opts["access_key_secret"])),
                **self.http_settings(),
            )
        return self._client

    # ---- reading ----------------------------------------------------------------------------------------
    def _snapshot(self, zone: str) -> Snapshot:
        snapshot = Snapshot(zone)
        size = int(self.options.get("page_size") or MAX_PAGE_SIZE)
        seen: set[str] = set()
        other_lines: list[str] = []
        page = 1
        while True:
            data = self._read(zone, page, size)
            items = (data.get("DomainRecords") or {}).get("Record") or []
            for item in items:
                record_id = str(item.get("RecordId", ""))
                if record_id and record_id not in seen:
                    seen.add(record_id)
                    if str(item.get("Line") or DEFAULT_LINE) == self.line:
                        self._add(snapshot, item)
                    else:
                        other_lines.append(f"{item.get('RR', '@')} {item.get('Type', '')} ({item.get('Line')})")
            total = data.get("TotalCount")
            done = len(seen) >= total if isinstance(total, int) else len(items) < size
            if done or not items or page >= MAX_PAGES:
                break
            page += 1
        if other_lines:
            snapshot.warnings.append(
                f"{len(other_lines)} record(s) on lines other than '{self.line}' are left alone (line sets the "
                f"line fleetdns manages): {', '.join(sorted(set(other_lines)))}"
            )
        for key, records in snapshot.records.items():
            if key in snapshot.markers and any(r.owner is None for r in records):
                snapshot.warnings.append(
                    f"{label(key, zone)}: an interrupted apply left its ownership in the TXT marker; "
                    "the next change to it moves ownership into the records' remarks and removes the marker"
                )
        return snapshot

    def _read(self, zone: str, page: int, size: int) -> dict:
        params = {"DomainName": zone.rstrip("."), "PageNumber": page, "PageSize": size}
        try:
            return self.client.call("DescribeDomainRecords", params, idempotent=True)
        except AliDnsApiError as exc:
            if exc.code in NO_ZONE_CODES:
                raise ProviderError(
                    f"zone {zone} is not in the Alibaba Cloud account of provider '{self.name}' ({exc.code})",
                    "check the zone name and that access_key_id belongs to the account that holds the domain",
                ) from None
            raise _worded(exc, f"zone {zone}: {exc.message}") from None

    def _add(self, snapshot: Snapshot, item: dict) -> None:
        zone = snapshot.zone
        rr = str(item.get("RR", "@"))
        name = name_of(rr, zone)
        rtype = str(item.get("Type", ""))
        try:
            value = canonical_value(item, zone)
        except (KeyError, TypeError, ValueError) as exc:
            snapshot.warnings.append(f"{relative_name(name, zone)} {rtype}: cannot read its value ({exc}); left alone")
            return
        remark = item.get("Remark")
        snapshot.add(
            AliRecord(
                str(item["RecordId"]),
                name,
                rtype,
                value,
                int(item.get("TTL", 600)),
                rr=rr,
                line=str(item.get("Line") or DEFAULT_LINE),
                remark=remark if isinstance(remark, str) and remark else None,
            )
        )

    # ---- planning the writes ------------------------------------------------------------------------------
    def _ops(self, change: Change, snapshot: Snapshot, owner: str) -> list[Op]:
        zone = snapshot.zone
        key = change.key
        name, rtype = key
        where = label(key, zone)
        records = snapshot.records.get(key, [])
        wanted = sorted(change.after.values) if change.after else []
        ttl = change.after.ttl if change.after else None
        new_owner = owner if change.owned_after else None
        plan = reuse(records, wanted)
        markers = snapshot.markers.get(key, [])
        has_own_marker = any(parse_owner(frozenset({m.value})) == owner for m in markers)
        ops: list[Op] = []
        # A set made from nothing is guarded by its marker until its records carry the remark.
        guard = bool(new_owner and plan.create and not plan.keep and not plan.update and not has_own_marker)
        if guard or (new_owner and not wanted and not has_own_marker):
            ops.append(self._marker_post(key, zone, owner))
        for record in plan.delete:
            ops.append(Op("delete", {"id": record.id}, key, f"{where} {shorten(record.value)}", record))
        for record, value in plan.update:
            ops.extend(self._update_ops(record, value, ttl, new_owner, where, f"{shorten(record.value)} -> "))
        for record in plan.keep:
            ops.extend(self._update_ops(record, record.value, ttl, new_owner, where, ""))
        for value in plan.create:
            body = {
                "RR": rr_of(name, zone),
                "Type": rtype,
                **_fields(rtype, value, where),
                "TTL": ttl,
                "Line": self.line,
                "remark": with_owner(None, new_owner),
            }
            ops.append(Op("post", body, key, f"{where} {shorten(value)}"))
        if wanted or not new_owner:
            ops.extend(Op("delete", {"id": m.id}, key, f"{where} ownership marker", m) for m in markers)
            if guard:
                ops.append(Op("delete", {"id": "", "new_marker": True}, key, f"{where} ownership marker"))
        return ops

    def _marker_post(self, key: RecordKey, zone: str, owner: str) -> Op:
        body = {
            "RR": rr_of(marker_name(key, zone), zone),
            "Type": "TXT",
            "Value": marker_value(owner).strip('"'),
            "TTL": MARKER_TTL,
            "Line": self.line,
            "remark": None,
            "marker": True,
        }
        return Op("post", body, key, f"{label(key, zone)} ownership marker")

    def _update_ops(
        self, record: AliRecord, value: str, ttl: int | None, owner: str | None, where: str, change: str
    ) -> list[Op]:
        """UpdateDomainRecord when the value or TTL changes (keeping RR and line), then the remark."""
        ops = []
        new_ttl = ttl or record.ttl
        current = record
        what = f"{where} {change}{shorten(value)}"
        if value != record.value or new_ttl != record.ttl:
            params = {
                "RecordId": record.id,
                "RR": record.rr,
                "Type": record.type,
                **_fields(record.type, value, where),
                "TTL": new_ttl,
                "Line": record.line,
            }
            current = dataclasses.replace(record, value=value, ttl=new_ttl)
            body = {"id": record.id, "action": UPDATE, "params": params}
            ops.append(Op("patch", body, (record.name, record.type), what, record, self._state(current)))
        remark = with_owner(record.remark, owner)
        if remark != record.remark:
            after = dataclasses.replace(current, remark=remark)
            body = {"id": record.id, "action": REMARK, "params": {"RecordId": record.id, "Remark": remark or ""}}
            ops.append(Op("patch", body, (record.name, record.type), what, current, self._state(after)))
        return ops

    # ---- sending ------------------------------------------------------------------------------------------
    def _send(self, zone: str, chunk: list[Op]) -> None:
        for op in chunk:
            try:
                if op.kind == "delete":
                    self._delete(zone, op)
                elif op.kind == "patch":
                    self._patch(zone, op)
                else:
                    self._post(zone, op)
            except AliDnsApiError as exc:
                raise self._refused(zone, op, exc) from None

    def _delete(self, zone: str, op: Op) -> None:
        if op.body.get("new_marker") and not op.body["id"]:
            op.body["id"] = self._new_markers.pop(op.key, "") or self._find_marker(zone, op.key)
            if not op.body["id"]:
                return
        self.client.call("DeleteDomainRecord", {"RecordId": op.body["id"]})

    def _find_marker(self, zone: str, key: RecordKey) -> str:
        """The id of this key's marker when the answer to its creation was lost."""
        markers = self._snapshot(zone).markers.get(key, [])
        return markers[0].id if markers else ""

    def _patch(self, zone: str, op: Op) -> None:
        action = op.body["action"]
        try:
            self.client.call(action, op.body["params"], idempotent=action == REMARK)
        except AliDnsApiError as exc:
            if exc.code != "DomainRecordDuplicate" or action != UPDATE:
                raise
            # The record may already have these values (a retry, or someone made the same edit).
            now = self._snapshot(zone).by_id.get(op.body["id"])
            if now is None or self._state(now)[:2] != op.expect[:2]:  # type: ignore[index]
                raise

    def _post(self, zone: str, op: Op) -> None:
        params = {k: v for k, v in op.body.items() if k not in ("remark", "marker")}
        params["DomainName"] = zone.rstrip(".")
        try:
            answer = self.client.call("AddDomainRecord", params)
            record_id = str(answer.get("RecordId") or "")
        except AmbiguousWriteError:
            found = self._fresh(zone, op)
            if found is None:
                raise
            record_id = found.id
        if op.body.get("marker"):
            self._new_markers[op.key] = record_id
        elif op.body.get("remark") and record_id:
            self.client.call(REMARK, {"RecordId": record_id, "Remark": op.body["remark"]}, idempotent=True)

    def _fresh(self, zone: str, op: Op) -> AliRecord | None:
        """After a lost answer to AddDomainRecord: the record it made, if it made one."""
        now = self._snapshot(zone)
        for record in now.records.get(op.key, []) + now.markers.get(op.key, []):
            if record.remark is None and self._value_matches(record, op, zone):
                return record
        return None

    # ---- what record_per_value compares after an ambiguous failure --------------------------------------
    def _state(self, record: AliRecord) -> tuple[Any, ...]:
        return (record.value, record.ttl, record.remark)

    def _value_matches(self, record: AliRecord, op: Op, zone: str) -> bool:
        try:
            value = canonical_value(op.body, zone)
        except (KeyError, TypeError, ValueError):
            return False
        return record.type == op.body["Type"] and record.value == value

    def _post_matches(self, record: AliRecord, op: Op, zone: str) -> bool:
        return self._value_matches(record, op, zone) and record.remark == op.body.get("remark")

    def _pause(self, attempt: int) -> None:
        self.client.sleep(self.client.backoff_for(attempt))

    # ---- errors ---------------------------------------------------------------------------------------------
    def _refused(self, zone: str, op: Op, exc: AliDnsApiError) -> ProviderError:
        if (
            exc.auth
            or exc.status == 429
            or not exc.code
            or exc.code in THROTTLE_CODES
            or exc.code.startswith("Throttling")
        ):
            return _worded(exc, f"zone {zone}: {op.label}: {exc.message}")
        shown = f"{exc.code}: {shorten(exc.api_message, 200)}"
        if exc.code in GONE_CODES:
            return ChangedSinceReadError(
                f"zone {zone}: a record fleetdns was changing is gone from Alibaba Cloud DNS since it was read, "
                f"at {op.label} ({shown})",
                self.changed_hint,
            )
        if exc.code in EXISTS_CODES:
            return ChangedSinceReadError(
                f"zone {zone}: {op.label} now conflicts with a record added on Alibaba Cloud DNS since it was read "
                f"({shown})",
                self.changed_hint,
            )
        return _worded(
            exc,
            f"zone {zone}: Alibaba Cloud DNS refused {op.label}: {shown}",
            "fix the record in the inventory (or the zone on Alibaba Cloud DNS) and run again",
        )


def _worded(exc: AliDnsApiError, message: str, hint: str = "") -> AliDnsApiError:
    """The same refusal (code, retry flag) with a message that says where."""
    return AliDnsApiError(message, exc.code, exc.api_message, exc.status, exc.hint or hint)


def _fields(rtype: str, value: str, where: str) -> dict:
    try:
        return api_fields(rtype, value)
    except InvalidValueError as exc:
        raise ProviderError(f"{where}: {exc}") from None
