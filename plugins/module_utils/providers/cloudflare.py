"""The `cloudflare` zone provider: Cloudflare API v4, changes through the batch endpoint.

Reading: the zone id is looked up by name once per run (or taken from `zone_id`), then the whole zone
is listed with per_page=50,000 (Cloudflare's own bulk examples use that size), following page numbers
until `result_info` says every record was seen: one request for zones up to 50,000 records.

Ownership: a record set is fleetdns's when its records carry `fleetdns-owner=<owner id>` as a word of
their comment (comments exist on every plan, tags do not). fleetdns adds or removes only that word; the
rest of the comment, tags, `proxied` and per-record settings stay as the user set them. A record set
fleetdns owns but that has no record yet (a registered device name whose agent has not reported) has
nothing to carry a comment, so it gets the TXT marker of ownership.py under `_fleetdns.<zone>`
instead; the marker goes away once the record set exists.

Writing: every change goes through POST /zones/{id}/dns_records/batch, chunked to `batch_size`
operations (200, the Free-plan limit), one database transaction per chunk. A change keeps its records
where it can: a value that changes is a PATCH of an existing record (same id, comment, tags, proxied),
not a delete and a create. Changes that delete a record set go first, so a CNAME can replace an A
(or the reverse) across chunks; a change is never split across chunks unless it alone is larger.

Pins: Cloudflare has no conditional writes. apply() re-reads the zone once (it needs the record ids
anyway, since a saved plan carries none) and compares every change's `before` values and ownership with
what is there; any difference raises ChangedSinceReadError before anything is sent. What remains is the
window between that read and each batch: there, a record deleted or replaced by someone else makes the
batch fail with 81044 and a record created by someone else with 81057/81058; both roll the whole
batch back and are reported as ChangedSinceReadError. A content edit of the same record inside that
window (milliseconds for a small apply) cannot be detected through this API.

Failures: 429 waits `retry-after`; 5xx, timeouts and dropped connections are retried with bounded
backoff. For a batch the outcome of such a failure is unknown, so the zone is re-read: if the batch
went through it counts as done, if nothing of it is there it is sent again, anything else stops the
apply with a clear error. Errors name the Cloudflare code and message and the record concerned.

What any one-record-per-value API shares (the snapshot, pin checks, id reuse, batching, re-reading
after an ambiguous write) is record_per_value's; the transport is http_api's; Cloudflare's envelope is
cloudflare_api's and its record formats cloudflare_records'. What is here is how Cloudflare lists a
zone, how a change becomes batch operations, and what its batch errors mean.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..deadline import check_deadline
from ..errors import ChangedSinceReadError, ProviderError, shorten
from ..limits import ProviderLimits
from ..names import relative_name
from ..ownership import marker_name, marker_value, parse_owner
from ..plan import Change
from ..rdata import InvalidValueError
from .base import COMMENT_STORE, Capabilities, Option
from .cloudflare_api import DEFAULT_BASE_URL, REQUEST_DEADLINE, CloudflareApiError, CloudflareClient
from .cloudflare_records import (
    WRITABLE_TYPES,
    CfRecord,
    api_fields,
    api_name,
    canonical_value,
    with_owner,
)
from .http_api import check_base_url
from .record_per_value import Op, RecordPerValueProvider, Snapshot, label, reuse

READ_PAGE_SIZE = 50_000
MAX_PAGES = 10_000
MAX_BATCH_SIZE = 3500  # records per batch on the Pro, Business and Enterprise plans


class CloudflareProvider(RecordPerValueProvider):
    """Cloudflare DNS through API v4 (token or e-mail + Global API key)."""

    TYPE = "cloudflare"
    SERVICE = "Cloudflare"
    # Comments mark ownership at no cost, so a zone owned whole (no markers) is not built here. The
    # limits are Cloudflare's: 4,096 bytes per record in wire format, 8,192 characters of content
    # per record set.
    CAPABILITIES = Capabilities(
        record_types=WRITABLE_TYPES,
        lists_zone=True,
        ownership_store=COMMENT_STORE,
        zone_ownership=False,
        libraries=("requests",),
        limits=ProviderLimits(record_wire=4096, rrset_content=8192),
    )
    OPTIONS: ClassVar[dict[str, Option]] = {
        "api_token": Option(
            str, secret=True, description="API token sent as 'Authorization: Bearer'; needs Zone:Read and DNS:Edit"
        ),
        "api_email": Option(str, description="account e-mail for the legacy Global API key (with api_key)"),
        "api_key": Option(str, secret=True, description="legacy Global API key (with api_email); prefer api_token"),
        "base_url": Option(
            str,
            default=DEFAULT_BASE_URL,
            description="API base URL; https, or plain http to 127.0.0.1/::1/localhost only",
        ),
        "zone_id": Option(str, description="zone id, to skip the lookup by name (the provider then serves one zone)"),
        "batch_size": Option(
            int, default=200, description="operations per batch request: 200 on Free, up to 3500 on paid plans"
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

    def __init__(self, name: str, options: dict[str, Any], base_dir: str = ".") -> None:
        super().__init__(name, options, base_dir)
        self._zone_ids: dict[str, str] = {}

    # ---- options ----------------------------------------------------------------------------------------
    def check_options(self) -> list[str]:
        problems = []
        token, email, key = (self.options.get(k) for k in ("api_token", "api_email", "api_key"))
        if token and (email or key):
            problems.append("give either api_token, or api_email with api_key, not both")
        elif not token and not (email and key):
            if email or key:
                problems.append("api_email and api_key go together (the legacy Global API key needs both)")
            else:
                problems.append("missing credentials: set api_token (or api_email with api_key)")
        problem = check_base_url(str(self.options.get("base_url") or DEFAULT_BASE_URL))
        if problem:
            problems.append(problem)
        batch_size = self.options.get("batch_size", 200)
        if isinstance(batch_size, int) and not 1 <= batch_size <= MAX_BATCH_SIZE:
            problems.append(f"batch_size {batch_size} is outside 1..{MAX_BATCH_SIZE}")
        timeout = self.options.get("timeout", 30)
        if isinstance(timeout, int) and timeout < 1:
            problems.append("timeout must be at least 1 second")
        return problems + self.declared_problems(self.options)

    @property
    def client(self) -> CloudflareClient:
        if self._client is None:
            problems = self.check_options()
            if problems:
                raise ProviderError(f"provider '{self.name}': {'; '.join(problems)}")
            opts = self.options
            if opts.get("api_token"):
                headers = {"Authorization": f"Bearer {opts['api_token']}"}
            else:
                headers = {"X-Auth-Email": str(opts["api_email"]), "X-Auth-Key": str(opts["api_key"])}
            self._client = CloudflareClient(
                str(opts.get("base_url") or DEFAULT_BASE_URL),
                headers,
                [str(opts.get("api_token") or ""), str(opts.get("api_key") or "")],
                **self.http_settings(),
            )
        return self._client

    # ---- reading ----------------------------------------------------------------------------------------
    def zone_id(self, zone: str) -> str:
        """The zone's id: from `zone_id`, else looked up by name once per run."""
        if zone in self._zone_ids:
            return self._zone_ids[zone]
        given = self.options.get("zone_id")
        if given:
            if self._zone_ids:
                other = next(iter(self._zone_ids))
                raise ProviderError(
                    f"provider '{self.name}' has zone_id set, so it serves one zone; "
                    f"it was asked for {other} and {zone}",
                    "remove zone_id (zones are then looked up by name) or define one provider per zone",
                )
            self._zone_ids[zone] = str(given)
            return str(given)
        envelope = self._call("GET", "/zones", params={"name": api_name(zone), "per_page": 50}, zone=zone)
        matches = [z for z in envelope.get("result") or [] if str(z.get("name", "")).lower() + "." == zone]
        if not matches:
            raise ProviderError(
                f"zone {zone} is not in the Cloudflare account of provider '{self.name}'",
                "check the zone name and that the token may read it (Zone:Read), or set zone_id",
            )
        self._zone_ids[zone] = str(matches[0]["id"])
        return self._zone_ids[zone]

    def _snapshot(self, zone: str) -> Snapshot:
        zone_id = self.zone_id(zone)
        snapshot = Snapshot(zone)
        seen: set[str] = set()
        page = 1
        while True:
            envelope = self._call(
                "GET", f"/zones/{zone_id}/dns_records", params={"per_page": READ_PAGE_SIZE, "page": page}, zone=zone
            )
            items = envelope.get("result") or []
            for item in items:
                if item.get("id") not in seen:
                    seen.add(str(item.get("id")))
                    self._add(snapshot, item)
            info = envelope.get("result_info") or {}
            total_pages, total = info.get("total_pages"), info.get("total_count")
            if isinstance(total_pages, int):
                done = page >= total_pages
            elif isinstance(total, int):
                done = len(seen) >= total
            else:
                done = len(items) < int(info.get("per_page") or READ_PAGE_SIZE)
            if done or not items or page >= MAX_PAGES:
                break
            page += 1
        return snapshot

    def _add(self, snapshot: Snapshot, item: dict) -> None:
        zone = snapshot.zone
        name = str(item.get("name", "")).lower().rstrip(".") + "."
        rtype = str(item.get("type", ""))
        try:
            value = canonical_value(item, zone)
        except (KeyError, TypeError, ValueError) as exc:
            snapshot.warnings.append(f"{relative_name(name, zone)} {rtype}: cannot read its value ({exc}); left alone")
            return
        comment = item.get("comment")
        snapshot.add(
            CfRecord(
                str(item["id"]),
                name,
                rtype,
                value,
                int(item.get("ttl", 1)),
                bool(item.get("proxied", False)),
                comment if isinstance(comment, str) and comment else None,
                list(item.get("tags") or []),
                str(item["modified_on"]) if item.get("modified_on") else None,
            )
        )

    # ---- applying (the frame is RecordPerValueProvider's) -------------------------------------------------
    def _ops(self, change: Change, snapshot: Snapshot, owner: str) -> list[Op]:
        """Deletes, patches and posts that turn what Cloudflare has into `change.after` and ownership."""
        zone = snapshot.zone
        key = change.key
        name, rtype = key
        where = label(key, zone)
        records = snapshot.records.get(key, [])
        wanted = sorted(change.after.values) if change.after else []
        ttl = change.after.ttl if change.after else None
        new_owner = owner if change.owned_after else None
        plan = reuse(records, wanted)
        ops: list[Op] = []
        for record in plan.delete:
            ops.append(Op("delete", {"id": record.id}, key, f"{where} {shorten(record.value)}", record))
        for record, value in plan.update:
            body = {"id": record.id, **_fields(rtype, value, where)}
            body.update(_settings(record, ttl, new_owner))
            expect = (value, ttl or record.ttl, with_owner(record.comment, new_owner))
            ops.append(Op("patch", body, key, f"{where} {shorten(record.value)} -> {shorten(value)}", record, expect))
        for record in plan.keep:
            body = _settings(record, ttl, new_owner)
            if body:
                expect = (record.value, ttl or record.ttl, with_owner(record.comment, new_owner))
                what = f"{where} {shorten(record.value)}"
                ops.append(Op("patch", {"id": record.id, **body}, key, what, record, expect))
        proxied = bool(records) and all(r.proxied for r in records)
        for value in plan.create:
            body = {"name": api_name(name), "type": rtype, **_fields(rtype, value, where), "ttl": ttl}
            if proxied:
                body["proxied"] = True
            if new_owner:
                body["comment"] = with_owner(None, new_owner)
            ops.append(Op("post", body, key, f"{where} {shorten(value)}"))
        ops.extend(self._marker_ops(change, snapshot, owner, bool(wanted)))
        return ops

    def _marker_ops(self, change: Change, snapshot: Snapshot, owner: str, has_data: bool) -> list[Op]:
        """The TXT marker stands in for a comment only while an owned record set has no record."""
        zone = snapshot.zone
        markers = snapshot.markers.get(change.key, [])
        where = f"{label(change.key, zone)} ownership marker"
        need_marker = change.owned_after and not has_data
        ops = [Op("delete", {"id": m.id}, change.key, where, m) for m in markers if not need_marker]
        if need_marker and not any(parse_owner(frozenset({m.value})) == owner for m in markers):
            name = marker_name(change.key, zone)
            body = {
                "name": api_name(name),
                "type": "TXT",
                "content": marker_value(owner).strip('"'),
                "ttl": 1,
                "comment": with_owner(None, owner),
            }
            ops.append(Op("post", body, change.key, where))
        return ops

    def _send(self, zone: str, chunk: list[Op]) -> None:
        body: dict[str, list[dict]] = {}
        for op in chunk:
            body.setdefault(op.kind + ("es" if op.kind == "patch" else "s"), []).append(op.body)
        try:
            self.client.request("POST", f"/zones/{self.zone_id(zone)}/dns_records/batch", body=body)
        except CloudflareApiError as exc:
            raise self._batch_error(zone, chunk, exc) from None

    def _state(self, record: CfRecord) -> tuple[Any, ...]:
        return (record.value, record.ttl, record.comment)

    def _post_matches(self, record: CfRecord, op: Op, zone: str) -> bool:
        try:
            value = canonical_value(op.body, zone)
        except (KeyError, TypeError, ValueError):
            return False
        return record.value == value and record.type == op.body["type"]

    def _pause(self, attempt: int) -> None:
        self.client.sleep(self.client.backoff_for(attempt))

    def _batch_error(self, zone: str, chunk: list[Op], exc: CloudflareApiError) -> ProviderError:
        problem = exc.problems[0] if exc.problems else None
        op = _op_at(chunk, problem.pointer) if problem else None
        if op is None and len(chunk) == 1:
            op = chunk[0]
        where = f" at {op.label}" if op else ""
        if exc.status in (401, 403) or exc.hint:
            return ProviderError(f"zone {zone}: {exc.message}", exc.hint)
        codes = exc.codes
        if 81044 in codes:
            return ChangedSinceReadError(
                f"zone {zone}: a record fleetdns was changing was deleted or replaced on Cloudflare since it was "
                f"read{where} ({_what(exc)}); nothing of this batch was applied",
                self.changed_hint,
            )
        if codes & {81057, 81058}:
            return ChangedSinceReadError(
                f"zone {zone}: a record fleetdns was creating now exists on Cloudflare{where} "
                f"({_what(exc)}); nothing of this batch was applied",
                self.changed_hint,
            )
        context = where or (
            f" in a batch of {len(chunk)} operations ({', '.join(o.label for o in chunk[:3])}"
            + (", ..." if len(chunk) > 3 else "")
            + ")"
        )
        return ProviderError(
            f"zone {zone}: Cloudflare refused a change{context}: {_what(exc)}; nothing of this batch was applied",
            "fix the record in the inventory (or the zone on Cloudflare) and run again",
        )

    def _call(self, method: str, path: str, params: dict | None = None, zone: str = "") -> dict:
        try:
            return self.client.request(method, path, params=params)
        except CloudflareApiError as exc:
            raise ProviderError(f"zone {zone}: {exc.message}" if zone else exc.message, exc.hint) from None


def _what(exc: CloudflareApiError) -> str:
    return "; ".join(str(p) for p in exc.problems) or exc.message


def _fields(rtype: str, value: str, label: str) -> dict:
    try:
        return api_fields(rtype, value)
    except InvalidValueError as exc:
        raise ProviderError(f"{label}: {exc}") from None


def _settings(record: CfRecord, ttl: int | None, owner: str | None) -> dict:
    """TTL and comment updates for an existing record; everything else (proxied, tags) stays as is."""
    body: dict[str, Any] = {}
    if ttl is not None and record.ttl != ttl:
        body["ttl"] = ttl
    comment = with_owner(record.comment, owner)
    if comment != record.comment:
        body["comment"] = comment
    return body


def _op_at(chunk: list[Op], pointer: str) -> Op | None:
    """The operation a `source.pointer` like '/posts/3' names, counted as Cloudflare sees the batch."""
    parts = pointer.strip("/").split("/")
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    kind = {"deletes": "delete", "patches": "patch", "posts": "post", "puts": "put"}.get(parts[0])
    same = [op for op in chunk if op.kind == kind]
    index = int(parts[1])
    return same[index] if index < len(same) else None
