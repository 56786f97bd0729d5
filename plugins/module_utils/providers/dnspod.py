"""The `dnspod` zone provider: Tencent Cloud DNSPod through API 3.0 (TC3-HMAC-SHA256 signed).

Reading: DescribeRecordList with Limit 3000 (the API's maximum), following Offset until
RecordCountInfo.TotalCount records were seen; an empty domain is answered with the error
ResourceNotFound.NoDataOfRecord, which reads as an empty zone. Only records on the configured
`record_line` (默认, the default line, unless set) and enabled are fleetdns's to manage; records on
other lines (split-horizon answers) and disabled records are left alone, with a warning. So are the
zone's default NS records at `@` (`DefaultNS` true): they are DNSPod's, not part of the zone fleetdns
reads, and an inventory may not declare NS records at the apex of a DNSPod zone.

Ownership: as on Cloudflare, a record set is fleetdns's when its records carry
`fleetdns-owner=<owner id>` as a word of their Remark; fleetdns adds or removes only that word and keeps
the rest of the remark, the line, the weight and the status as they are. An owned record set with no
record yet gets the TXT marker of ownership.py under `_fleetdns.<zone>`, until it has a record.

Writing: one request per record (CreateRecord, ModifyRecord, DeleteRecord); a changed value is a
ModifyRecord of an existing record (same id and settings), not a delete and a create. An apply of a
single address change (what the agent sends for a device) uses ModifyDynamicDNS, the API's call for
exactly that, which changes the address and TTL and nothing else. Every request sends the TTL, since
both modify calls otherwise reset it to the domain's default.

Not transactional: the API has no batch with rollback, so an apply interrupted between two writes
(a refusal, a crash, a network failure) leaves the writes before it done. Every write is one that a
new plan recomputes from what is there, so running apply again converges. A write whose answer was
lost (5xx, dropped connection) is checked by re-reading the zone, as record_per_value does.

Pins: apply() re-reads the zone and compares each change's `before` and ownership with what is there
before anything is sent; a record deleted by someone else in the window after that read makes its
modify or delete fail (InvalidParameter.RecordIdInvalid), reported as "changed since read".
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..deadline import check_deadline
from ..errors import ChangedSinceReadError, ProviderError, shorten
from ..names import relative_name
from ..ownership import marker_name, marker_value, parse_owner
from ..plan import Change
from ..rdata import InvalidValueError
from .base import COMMENT_STORE, Capabilities, Meanwhile, Option, Progress
from .cloudflare_records import with_owner
from .dnspod_api import DEFAULT_ENDPOINT, REQUEST_DEADLINE, DnspodApiError, DnspodClient
from .dnspod_records import (
    DEFAULT_LINE,
    WRITABLE_TYPES,
    DnspodRecord,
    absolute_name,
    api_fields,
    canonical_value,
    sub_domain,
)
from .http_api import AmbiguousWriteError, check_base_url
from .record_per_value import Op, RecordPerValueProvider, Snapshot, label, reuse
from .signing import Credentials

PAGE_SIZE = 3000  # DescribeRecordList's maximum Limit
MAX_PAGES = 10_000
MIN_TTL, MAX_TTL = 1, 604800
EMPTY_LIST = "ResourceNotFound.NoDataOfRecord"
GONE_CODES = frozenset({"InvalidParameter.RecordIdInvalid", "ResourceNotFound.NoDataOfRecord"})
EXISTS_CODES = frozenset({"InvalidParameter.DomainRecordExist"})
DOMAIN_CODES = frozenset({"InvalidParameterValue.DomainNotExists", "InvalidParameter.DomainInvalid"})


def _check_line(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "a record line name, like 默认 (the default line)"


class DnspodProvider(RecordPerValueProvider):
    """Tencent Cloud DNSPod through API 3.0 (SecretId + SecretKey)."""

    TYPE = "dnspod"
    SERVICE = "DNSPod"
    CAPABILITIES = Capabilities(
        record_types=WRITABLE_TYPES,
        lists_zone=True,
        ownership_store=COMMENT_STORE,
        zone_ownership=False,
        libraries=("requests",),
        apex_types_kept=("NS",),  # the zone's default NS records (DefaultNS): DNSPod's, not the account's
    )
    OPTIONS: ClassVar[dict[str, Option]] = {
        "secret_id": Option(str, required=True, description="API key SecretId (AKID...), from the CAM console"),
        "secret_key": Option(str, required=True, secret=True, description="API key SecretKey (never printed)"),
        "record_line": Option(
            str,
            default=DEFAULT_LINE,
            description="record line fleetdns reads and writes (默认, the default line); records on others "
            "are left alone",
            check=_check_line,
        ),
        "endpoint": Option(
            str,
            default=DEFAULT_ENDPOINT,
            description="API endpoint; https://dnspod.intl.tencentcloudapi.com for the international site; "
            "plain http to 127.0.0.1/::1/localhost only",
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
    BATCH_SIZE_OPTION = "one_request_per_record"  # no such option: DNSPod writes one record per request
    DEFAULT_BATCH_SIZE = 1

    def __init__(self, name: str, options: dict[str, Any], base_dir: str = ".") -> None:
        super().__init__(name, options, base_dir)
        self._single_address = False
        self._unanswered: set[int] = set()  # creates sent whose answer was lost

    # ---- options ----------------------------------------------------------------------------------------
    def check_options(self) -> list[str]:
        problems = []
        for key in ("secret_id", "secret_key"):
            if not self.options.get(key):
                problems.append(f"missing credentials: set {key}")
        problem = check_base_url(str(self.options.get("endpoint") or DEFAULT_ENDPOINT), "endpoint")
        if problem:
            problems.append(problem)
        timeout = self.options.get("timeout", 30)
        if isinstance(timeout, int) and timeout < 1:
            problems.append("timeout must be at least 1 second")
        return problems + self.declared_problems(self.options)

    @property
    def line(self) -> str:
        return str(self.options.get("record_line") or DEFAULT_LINE)

    @property
    def client(self) -> DnspodClient:
        if self._client is None:
            problems = self.check_options()
            if problems:
                raise ProviderError(f"provider '{self.name}': {'; '.join(problems)}")
            opts = self.options
            self._client = DnspodClient(
                str(opts.get("endpoint") or DEFAULT_ENDPOINT),
                Credentials(str(opts["secret_id"]), str(opts["secret_key"])),
                **self.http_settings(),
            )
        return self._client

    # ---- reading ----------------------------------------------------------------------------------------
    def _snapshot(self, zone: str) -> Snapshot:
        snapshot = Snapshot(zone)
        domain = zone.rstrip(".")
        seen: set[str] = set()
        other_lines: list[str] = []
        default_ns: list[str] = []
        disabled = 0
        offset = 0
        for _page in range(MAX_PAGES):
            try:
                response = self.client.call(
                    "DescribeRecordList", {"Domain": domain, "Offset": offset, "Limit": PAGE_SIZE}, read=True
                )
            except DnspodApiError as exc:
                if exc.code == EMPTY_LIST:
                    break
                raise self._zone_error(zone, exc) from None
            items = response.get("RecordList") or []
            for item in items:
                record_id = str(item.get("RecordId"))
                if record_id in seen:
                    continue
                seen.add(record_id)
                if item.get("DefaultNS") is True:
                    default_ns.append(str(item.get("Value", "")))
                    continue
                if str(item.get("Line", "")) != self.line:
                    other_lines.append(f"{item.get('Name', '@')} {item.get('Type', '')} ({item.get('Line', '')})")
                    continue
                if str(item.get("Status", "ENABLE")).upper() == "DISABLE":
                    disabled += 1
                    continue
                self._add(snapshot, item)
            total = (response.get("RecordCountInfo") or {}).get("TotalCount")
            offset += len(items)
            if not items or (isinstance(total, int) and offset >= total) or len(items) < PAGE_SIZE:
                break
        if default_ns:
            snapshot.warnings.append(
                f"@ NS: the {len(default_ns)} default NS record(s) ({', '.join(sorted(default_ns))}) are DNSPod's own; "
                "fleetdns leaves them alone"
            )
        if other_lines:
            snapshot.warnings.append(
                f"{len(other_lines)} record(s) on lines other than '{self.line}' are left alone (record_line sets "
                f"the line fleetdns manages): {', '.join(sorted(set(other_lines)))}"
            )
        if disabled:
            snapshot.warnings.append(f"{disabled} disabled record(s) are left alone")
        return snapshot

    def _add(self, snapshot: Snapshot, item: dict) -> None:
        zone = snapshot.zone
        name = absolute_name(str(item.get("Name", "@")), zone)
        rtype = str(item.get("Type", ""))
        try:
            value = canonical_value(item, zone)
        except (KeyError, TypeError, ValueError) as exc:
            snapshot.warnings.append(f"{relative_name(name, zone)} {rtype}: cannot read its value ({exc}); left alone")
            return
        remark = item.get("Remark")
        weight = item.get("Weight")
        snapshot.add(
            DnspodRecord(
                str(item["RecordId"]),
                name,
                rtype,
                value,
                int(item.get("TTL") or 600),
                str(item.get("Line") or self.line),
                remark if isinstance(remark, str) and remark else None,
                weight if isinstance(weight, int) and not isinstance(weight, bool) else None,
                str(item.get("Status") or "ENABLE"),
            )
        )

    # ---- applying (the frame is RecordPerValueProvider's) -------------------------------------------------
    def apply(
        self,
        zone: str,
        changes: list[Change],
        owner: str | None,
        progress: Progress | None = None,
        meanwhile: Meanwhile | None = None,
    ) -> None:
        # One change of one address is the agent's update: ModifyDynamicDNS is the call made for it.
        self._single_address = len(changes) == 1
        try:
            super().apply(zone, changes, owner, progress, meanwhile)
        finally:
            self._single_address = False

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
        domain = zone.rstrip(".")
        ops: list[Op] = []
        for record in plan.delete:
            params = {"Domain": domain, "RecordId": int(record.id)}
            ops.append(
                Op(
                    "delete",
                    self._body(record.id, "DeleteRecord", params),
                    key,
                    f"{where} {shorten(record.value)}",
                    record,
                )
            )
        dynamic = self._single_address and rtype in ("A", "AAAA") and len(plan.update) == 1 and not plan.delete
        dynamic = dynamic and not plan.create and not plan.keep
        for record, value in plan.update:
            remark = with_owner(record.remark, new_owner)
            expect = (value, ttl or record.ttl, remark)
            what = f"{where} {shorten(record.value)} -> {shorten(value)}"
            if dynamic and remark == record.remark:
                params = {
                    "Domain": domain,
                    "RecordId": int(record.id),
                    "SubDomain": sub_domain(name, zone),
                    "RecordLine": record.line,
                    "Value": value,
                    "Ttl": ttl or record.ttl,
                }
                ops.append(Op("patch", self._body(record.id, "ModifyDynamicDNS", params), key, what, record, expect))
                continue
            params = self._modify(record, _fields(rtype, value, where), ttl, remark, zone)
            ops.append(Op("patch", self._body(record.id, "ModifyRecord", params), key, what, record, expect))
        for record in plan.keep:
            remark = with_owner(record.remark, new_owner)
            if (ttl is None or ttl == record.ttl) and remark == record.remark:
                continue
            expect = (record.value, ttl or record.ttl, remark)
            params = self._modify(record, _fields(rtype, record.value, where), ttl, remark, zone)
            what = f"{where} {shorten(record.value)}"
            ops.append(Op("patch", self._body(record.id, "ModifyRecord", params), key, what, record, expect))
        for value in plan.create:
            params = {
                "Domain": domain,
                "SubDomain": sub_domain(name, zone),
                "RecordType": rtype,
                "RecordLine": self.line,
                **_fields(rtype, value, where),
                "TTL": ttl,
            }
            if new_owner:
                params["Remark"] = with_owner(None, new_owner)
            ops.append(
                Op("post", self._body("", "CreateRecord", params, rtype, value), key, f"{where} {shorten(value)}")
            )
        ops.extend(self._marker_ops(change, snapshot, owner, bool(wanted)))
        return ops

    @staticmethod
    def _body(record_id: str, action: str, params: dict, rtype: str = "", value: str = "") -> dict:
        body = {"id": record_id, "action": action, "params": params}
        if action == "CreateRecord":
            body.update(type=rtype, value=value)
        return body

    @staticmethod
    def _modify(record: DnspodRecord, fields: dict, ttl: int | None, remark: str | None, zone: str) -> dict:
        """ModifyRecord's parameters: every setting as read, so none is reset to a default."""
        params: dict[str, Any] = {
            "Domain": zone.rstrip("."),
            "RecordId": int(record.id),
            "SubDomain": sub_domain(record.name, zone),
            "RecordType": record.type,
            "RecordLine": record.line,
            **fields,
            "TTL": ttl or record.ttl,
            "Status": record.status,
            "Remark": remark or "",
        }
        if record.weight is not None:
            params["Weight"] = record.weight
        return params

    def _marker_ops(self, change: Change, snapshot: Snapshot, owner: str, has_data: bool) -> list[Op]:
        """The TXT marker stands in for a remark only while an owned record set has no record."""
        zone = snapshot.zone
        domain = zone.rstrip(".")
        markers = snapshot.markers.get(change.key, [])
        where = f"{label(change.key, zone)} ownership marker"
        need_marker = change.owned_after and not has_data
        ops = [
            Op(
                "delete",
                self._body(m.id, "DeleteRecord", {"Domain": domain, "RecordId": int(m.id)}),
                change.key,
                where,
                m,
            )
            for m in markers
            if not need_marker
        ]
        if need_marker and not any(parse_owner(frozenset({m.value})) == owner for m in markers):
            name = marker_name(change.key, zone)
            value = marker_value(owner)
            params = {
                "Domain": domain,
                "SubDomain": sub_domain(name, zone),
                "RecordType": "TXT",
                "RecordLine": self.line,
                "Value": value.strip('"'),
                "TTL": 600,
                "Remark": with_owner(None, owner),
            }
            ops.append(Op("post", self._body("", "CreateRecord", params, "TXT", value), change.key, where))
        return ops

    def _send(self, zone: str, chunk: list[Op]) -> None:
        for op in chunk:
            try:
                self.client.call(op.body["action"], op.body["params"])
            except AmbiguousWriteError:
                if op.kind == "post":
                    self._unanswered.add(id(op))
                raise
            except DnspodApiError as exc:
                if op.kind == "post" and id(op) in self._unanswered and exc.code in EXISTS_CODES:
                    # The first send went through but was not listed yet (DNSPod indexes new records
                    # with a delay of up to about 30 s): the record this create makes is there.
                    continue
                raise self._write_error(zone, op, exc) from None

    def _state(self, record: DnspodRecord) -> tuple[Any, ...]:
        return (record.value, record.ttl, record.remark)

    def _post_matches(self, record: DnspodRecord, op: Op, zone: str) -> bool:
        return record.type == op.body.get("type") and record.value == op.body.get("value")

    def _pause(self, attempt: int) -> None:
        self.client.sleep(self.client.backoff_for(attempt))

    # ---- errors -----------------------------------------------------------------------------------------
    def _zone_error(self, zone: str, exc: DnspodApiError) -> ProviderError:
        if exc.hint:
            return ProviderError(f"zone {zone}: {exc.message}", exc.hint)
        if exc.code in DOMAIN_CODES:
            return ProviderError(
                f"zone {zone}: {exc.message}",
                f"check the zone name and that the domain is in the DNSPod account of provider '{self.name}'",
            )
        return ProviderError(f"zone {zone}: {exc.message}", "")

    def _write_error(self, zone: str, op: Op, exc: DnspodApiError) -> ProviderError:
        action = op.body["action"]
        if exc.hint:
            return ProviderError(f"zone {zone}: {exc.message} (at {op.label})", exc.hint)
        if op.kind != "post" and exc.code in GONE_CODES:
            return ChangedSinceReadError(
                f"zone {zone}: a record fleetdns was changing was deleted on DNSPod since it was read, at {op.label} "
                f"({exc.code})",
                self.changed_hint,
            )
        if op.kind == "post" and exc.code in EXISTS_CODES:
            return ChangedSinceReadError(
                f"zone {zone}: a record fleetdns was creating now exists on DNSPod, at {op.label} ({exc.code})",
                self.changed_hint,
            )
        if exc.code == "LimitExceeded.RecordTtlLimit":
            hint = "this DNSPod plan does not allow so low a TTL (the free plan's minimum is 600); raise the ttl"
        elif exc.code == "InvalidParameter.RecordLineInvalid":
            hint = f"set record_line to a line this domain's plan offers (it is '{self.line}')"
        elif exc.code in DOMAIN_CODES:
            hint = f"check the zone name and that the domain is in the DNSPod account of provider '{self.name}'"
        else:
            hint = "fix the record in the inventory (or the zone on DNSPod) and run again"
        return ProviderError(
            f"zone {zone}: DNSPod refused {action} at {op.label}: {exc.code} {exc.api_message}".rstrip(), hint
        )


def _fields(rtype: str, value: str, where: str) -> dict:
    try:
        return api_fields(rtype, value)
    except InvalidValueError as exc:
        raise ProviderError(f"{where}: {exc}") from None
