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
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..deadline import check_deadline
from ..errors import ChangedSinceReadError, ProviderError, shorten
from ..names import relative_name
from ..ownership import ZoneState, marker_name, marker_value, parse_marker, parse_owner
from ..plan import Change
from ..rdata import ValueError_
from ..records import RecordKey, RecordSet
from .base import COMMENT_STORE, Capabilities, Option, Progress, ValueLimits, ZoneProvider
from .cloudflare_api import (
    DEFAULT_BASE_URL,
    REQUEST_DEADLINE,
    AmbiguousWriteError,
    CloudflareApiError,
    CloudflareClient,
    check_base_url,
)
from .cloudflare_records import (
    WRITABLE_TYPES,
    CfRecord,
    api_fields,
    api_name,
    canonical_value,
    with_owner,
)

READ_PAGE_SIZE = 50_000
MAX_PAGES = 10_000
MAX_BATCH_SIZE = 3500  # Pro / Business / Enterprise limit (reference §1.5)
CHANGED_HINT = "the zone changed on Cloudflare since it was read; run plan again and review the new plan"


@dataclass
class Op:
    """One batch operation and the record set it belongs to (for error messages)."""

    kind: str  # "delete" | "patch" | "post"
    body: dict
    key: RecordKey
    label: str
    before: CfRecord | None = None  # the record a delete/patch acts on, as read
    expect: tuple[str, int, str | None] | None = None  # a patch's intended (value, ttl, comment)


@dataclass
class Snapshot:
    """A zone as read: records grouped by record set, marker records, owners, warnings."""

    zone: str
    records: dict[RecordKey, list[CfRecord]] = field(default_factory=dict)
    markers: dict[RecordKey, list[CfRecord]] = field(default_factory=dict)
    by_id: dict[str, CfRecord] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def values(self, key: RecordKey) -> frozenset[str]:
        return frozenset(r.value for r in self.records.get(key, ()))

    def owner(self, key: RecordKey) -> str | None:
        owners = sorted({r.owner for r in self.records.get(key, ()) if r.owner})
        if owners:
            return owners[0]
        for marker in self.markers.get(key, ()):
            owner = parse_owner(frozenset({marker.value}))
            if owner:
                return owner
        return None

    def state(self) -> ZoneState:
        state = ZoneState(self.zone, warnings=list(self.warnings))
        for key, records in self.records.items():
            ttls = sorted({r.ttl for r in records})
            if len(ttls) > 1:
                state.warnings.append(
                    f"{_label(key, self.zone)} has records with different TTLs ({', '.join(map(str, ttls))}); "
                    "the next change to it evens them out"
                )
            state.records[key] = RecordSet(key[0], key[1], ttls[0], frozenset(r.value for r in records))
            owners = sorted({r.owner for r in records if r.owner})
            if len(owners) > 1:
                state.warnings.append(
                    f"{_label(key, self.zone)} carries several owner ids in its comments ({', '.join(owners)})"
                )
        for key in set(self.records) | set(self.markers):
            owner = self.owner(key)
            if owner:
                state.owners[key] = owner
        return state


class CloudflareProvider(ZoneProvider):
    """Cloudflare DNS through API v4 (token or e-mail + Global API key)."""

    TYPE = "cloudflare"
    # Comments mark ownership at no cost, so a zone owned whole (no markers) is not built here. The
    # limits are Cloudflare's: 4,096 bytes per record in wire format, 8,192 characters of content
    # per record set.
    CAPABILITIES = Capabilities(
        record_types=WRITABLE_TYPES,
        lists_zone=True,
        ownership_store=COMMENT_STORE,
        zone_ownership=False,
        libraries=("requests",),
        limits=ValueLimits(record_wire_bytes=4096, rrset_content_chars=8192),
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
    # Retry policy (class attributes so tests can shorten the waits).
    ATTEMPTS = 5
    BACKOFF = 0.5
    MAX_RETRY_AFTER = 300.0

    def __init__(self, name: str, options: dict[str, Any], base_dir: str = ".") -> None:
        super().__init__(name, options, base_dir)
        self._client: CloudflareClient | None = None
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
            verify: bool | str = True
            if opts.get("ca_bundle"):
                verify = os.path.join(self.base_dir, str(opts["ca_bundle"]))
                if not os.path.isfile(verify):
                    raise ProviderError(
                        f"provider '{self.name}': ca_bundle {verify} does not exist",
                        "give the path of a PEM CA certificate file (relative paths are relative to the inventory)",
                    )
            self._client = CloudflareClient(
                str(opts.get("base_url") or DEFAULT_BASE_URL),
                headers,
                [str(opts.get("api_token") or ""), str(opts.get("api_key") or "")],
                verify=verify,
                timeout=int(opts.get("timeout") or 30),
                deadline=float(opts.get("deadline") or REQUEST_DEADLINE),
                attempts=self.ATTEMPTS,
                backoff=self.BACKOFF,
                max_retry_after=self.MAX_RETRY_AFTER,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # ---- reading ----------------------------------------------------------------------------------------
    def read(self, zone: str, wanted: set[RecordKey]) -> ZoneState:
        unsupported = sorted({key[1] for key in wanted if not self.CAPABILITIES.supports(key[1])})
        if unsupported:
            raise ProviderError(
                f"zone {zone}: the cloudflare provider cannot manage {', '.join(unsupported)} records",
                f"it manages {', '.join(self.CAPABILITIES.record_types)}; move these records to another provider "
                "or remove them",
            )
        return self._snapshot(zone).state()

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
        except (ValueError_, KeyError, TypeError, ValueError) as exc:
            snapshot.warnings.append(f"{relative_name(name, zone)} {rtype}: cannot read its value ({exc}); left alone")
            return
        comment = item.get("comment")
        record = CfRecord(
            str(item["id"]),
            name,
            rtype,
            value,
            int(item.get("ttl", 1)),
            bool(item.get("proxied", False)),
            comment if isinstance(comment, str) and comment else None,
            list(item.get("tags") or []),
        )
        snapshot.by_id[record.id] = record
        marker_for = parse_marker(name, zone) if rtype == "TXT" else None
        if marker_for is not None and parse_owner(frozenset({value})) is not None:
            snapshot.markers.setdefault(marker_for, []).append(record)
        elif name.endswith(f"._fleetdns.{zone}") or name == f"_fleetdns.{zone}":
            snapshot.warnings.append(
                f"{relative_name(name, zone)} {rtype} sits in the reserved _fleetdns subtree but is not a "
                "fleetdns marker; left alone"
            )
        else:
            snapshot.records.setdefault((name, rtype), []).append(record)

    # ---- applying ---------------------------------------------------------------------------------------
    def apply(self, zone: str, changes: list[Change], owner: str | None, progress: Progress | None = None) -> None:
        if not changes:
            return
        if owner is None:  # validation refuses `ownership: zone` here; a hand-edited saved plan gets this
            raise ProviderError(f"zone {zone}: ownership: zone is not available with the cloudflare provider")
        zone_id = self.zone_id(zone)
        snapshot = self._snapshot(zone)
        conflicts = []
        planned: list[tuple[Change, list[Op]]] = []
        # Changes that remove a record set first: a CNAME can then replace an A across chunks.
        for change in sorted(changes, key=lambda c: c.after is not None):
            problem = self._pin_problem(change, snapshot, owner)
            if problem:
                conflicts.append(problem)
                continue
            planned.append((change, self._ops(change, snapshot, owner)))
        if conflicts:
            raise ChangedSinceReadError(
                f"zone {zone}: {len(conflicts)} record set(s) changed on Cloudflare since the plan was made; "
                "nothing was applied:\n" + "\n".join(f"  - {c}" for c in conflicts),
                CHANGED_HINT,
            )
        total = len(changes)
        done = 0
        for applied_batches, (chunk, finished) in enumerate(self._chunks(planned)):
            try:
                self._send_batch(zone, zone_id, chunk, snapshot)
            except ProviderError as exc:
                if applied_batches:
                    exc.message += (
                        f" ({applied_batches} earlier batch(es) with {done} of the {total} changes were applied; "
                        "run plan again to see what is left)"
                    )
                raise
            done += finished
            if progress:
                progress(done, total)

    def _pin_problem(self, change: Change, snapshot: Snapshot, owner: str) -> str | None:
        label = _label(change.key, snapshot.zone)
        expected = change.before.values if change.before else frozenset()
        current = snapshot.values(change.key)
        if current != expected:
            shown = ", ".join(sorted(current)) or "nothing"
            return f"{label}: the plan expected {', '.join(sorted(expected)) or 'nothing'}, Cloudflare now has {shown}"
        holder = snapshot.owner(change.key)
        if change.owned_before and holder != owner:
            return f"{label}: no longer owned by '{owner}'" + (f" (now '{holder}')" if holder else "")
        if not change.owned_before and holder is not None:
            return f"{label}: now owned by '{holder}'"
        return None

    def _ops(self, change: Change, snapshot: Snapshot, owner: str) -> list[Op]:
        """Deletes, patches and posts that turn what Cloudflare has into `change.after` and ownership."""
        zone = snapshot.zone
        key = change.key
        name, rtype = key
        label = _label(key, zone)
        records = snapshot.records.get(key, [])
        wanted = sorted(change.after.values) if change.after else []
        ttl = change.after.ttl if change.after else None
        new_owner = owner if change.owned_after else None
        keep = [r for r in records if r.value in wanted]
        stale = [r for r in records if r.value not in wanted]
        missing = [v for v in wanted if v not in {r.value for r in keep}]
        ops: list[Op] = []
        for record in stale[len(missing) :]:
            ops.append(Op("delete", {"id": record.id}, key, f"{label} {shorten(record.value)}", record))
        reused = list(zip(stale, missing, strict=False))
        for record, value in reused:
            body = {"id": record.id, **_fields(rtype, value, label)}
            body.update(_settings(record, ttl, new_owner))
            expect = (value, ttl or record.ttl, with_owner(record.comment, new_owner))
            ops.append(Op("patch", body, key, f"{label} {shorten(record.value)} -> {shorten(value)}", record, expect))
        for record in keep:
            body = _settings(record, ttl, new_owner)
            if body:
                expect = (record.value, ttl or record.ttl, with_owner(record.comment, new_owner))
                what = f"{label} {shorten(record.value)}"
                ops.append(Op("patch", {"id": record.id, **body}, key, what, record, expect))
        proxied = bool(records) and all(r.proxied for r in records)
        for value in missing[len(stale) :]:
            body = {"name": api_name(name), "type": rtype, **_fields(rtype, value, label), "ttl": ttl}
            if proxied:
                body["proxied"] = True
            if new_owner:
                body["comment"] = with_owner(None, new_owner)
            ops.append(Op("post", body, key, f"{label} {shorten(value)}"))
        ops.extend(self._marker_ops(change, snapshot, owner, bool(wanted)))
        return ops

    def _marker_ops(self, change: Change, snapshot: Snapshot, owner: str, has_data: bool) -> list[Op]:
        """The TXT marker stands in for a comment only while an owned record set has no record."""
        zone = snapshot.zone
        markers = snapshot.markers.get(change.key, [])
        label = f"{_label(change.key, zone)} ownership marker"
        need_marker = change.owned_after and not has_data
        ops = [Op("delete", {"id": m.id}, change.key, label, m) for m in markers if not need_marker]
        if need_marker and not any(parse_owner(frozenset({m.value})) == owner for m in markers):
            name = marker_name(change.key, zone)
            body = {
                "name": api_name(name),
                "type": "TXT",
                "content": marker_value(owner).strip('"'),
                "ttl": 1,
                "comment": with_owner(None, owner),
            }
            ops.append(Op("post", body, change.key, label))
        return ops

    def _chunks(self, planned: list[tuple[Change, list[Op]]]) -> list[tuple[list[Op], int]]:
        """Ops packed into batches of at most batch_size; each item says how many changes it completes."""
        size = int(self.options.get("batch_size") or 200)
        chunks: list[tuple[list[Op], int]] = []
        current: list[Op] = []
        finished = 0
        for _change, ops in planned:
            if current and len(current) + len(ops) > size:
                chunks.append((current, finished))
                current, finished = [], 0
            while len(ops) > size:  # a change larger than a batch: split it, in order
                chunks.append((ops[:size], 0))
                ops = ops[size:]
            current.extend(ops)
            finished += 1
        if current or finished:
            chunks.append((current, finished))
        return chunks

    def _send_batch(self, zone: str, zone_id: str, chunk: list[Op], snapshot: Snapshot) -> None:
        if not chunk:
            return
        body: dict[str, list[dict]] = {}
        for op in chunk:
            body.setdefault(op.kind + ("es" if op.kind == "patch" else "s"), []).append(op.body)
        path = f"/zones/{zone_id}/dns_records/batch"
        for attempt in range(1, self.ATTEMPTS + 1):
            try:
                self.client.request("POST", path, body=body)
                return
            except AmbiguousWriteError as exc:
                outcome = self._batch_outcome(zone, chunk, snapshot)
                if outcome == "applied":
                    return
                if outcome == "changed":
                    raise ChangedSinceReadError(
                        f"zone {zone}: a batch of {len(chunk)} operation(s) failed ({exc.message}) and the zone no "
                        "longer matches either the state before it or after it",
                        CHANGED_HINT,
                    ) from None
                if attempt == self.ATTEMPTS:
                    raise ProviderError(
                        f"zone {zone}: Cloudflare kept failing a batch of {len(chunk)} operation(s) "
                        f"({exc.message}); none of it was applied",
                        "Cloudflare is having trouble; try again later",
                    ) from None
                self.client.sleep(self.client.backoff_for(attempt))
            except CloudflareApiError as exc:
                raise self._batch_error(zone, chunk, exc) from None

    def _batch_outcome(self, zone: str, chunk: list[Op], before: Snapshot) -> str:
        """After an ambiguous failure: 'applied', 'not_applied' or 'changed' (neither), by re-reading."""
        now = self._snapshot(zone)
        applied = not_applied = True
        for op in chunk:
            if op.kind == "delete":
                present = op.body["id"] in now.by_id
                applied &= not present
                not_applied &= present
            elif op.kind == "patch":
                old, new = op.before, now.by_id.get(op.body["id"])
                if new is None or old is None:
                    applied = not_applied = False
                    continue
                applied &= (new.value, new.ttl, new.comment) == op.expect
                not_applied &= (new.value, new.ttl, new.comment) == (old.value, old.ttl, old.comment)
            else:
                fresh = [
                    r
                    for r in now.records.get(op.key, []) + now.markers.get(op.key, [])
                    if r.id not in before.by_id and _matches_post(r, op.body, zone)
                ]
                applied &= bool(fresh)
                not_applied &= not fresh
        if applied:
            return "applied"
        return "not_applied" if not_applied else "changed"

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
                CHANGED_HINT,
            )
        if codes & {81057, 81058}:
            return ChangedSinceReadError(
                f"zone {zone}: a record fleetdns was creating now exists on Cloudflare{where} "
                f"({_what(exc)}); nothing of this batch was applied",
                CHANGED_HINT,
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


def _label(key: RecordKey, zone: str) -> str:
    return f"{relative_name(key[0], zone)} {key[1]}"


def _fields(rtype: str, value: str, label: str) -> dict:
    try:
        return api_fields(rtype, value)
    except ValueError_ as exc:
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


def _matches_post(record: CfRecord, body: dict, zone: str) -> bool:
    try:
        value = canonical_value(body, zone)
    except (ValueError_, KeyError, TypeError, ValueError):
        return False
    return record.value == value and record.type == body["type"]


def _op_at(chunk: list[Op], pointer: str) -> Op | None:
    """The operation a `source.pointer` like '/posts/3' names, counted as Cloudflare sees the batch."""
    parts = pointer.strip("/").split("/")
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    kind = {"deletes": "delete", "patches": "patch", "posts": "post", "puts": "put"}.get(parts[0])
    same = [op for op in chunk if op.kind == kind]
    index = int(parts[1])
    return same[index] if index < len(same) else None
