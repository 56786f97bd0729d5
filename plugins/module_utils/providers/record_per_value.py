"""What every REST zone provider that stores one API record per value shares (Cloudflare, DNSPod,
Alibaba Cloud DNS): the snapshot of a zone as the API lists it, pin checks, id reuse, batching, and
re-reading after an ambiguous write.

Such an API has no conditional writes and no record sets: a record set of three values is three API
records, each with an id. So an apply re-reads the zone (it needs the ids anyway, since a saved plan
carries none) and compares every change's `before` values and ownership with what is there; any
difference stops the apply before anything is sent. A change keeps its records where it can: a value
that changes is an update of an existing record (same id, same per-record settings), not a delete
and a create. Changes that delete a record set go first, so a CNAME can replace an A (or the
reverse) across batches.

When a write fails without telling whether it went through (AmbiguousWriteError), the zone is read
again: if the batch is all there it counts as done, if none of it is there it is sent again, and
anything else stops the apply with a "changed since read" error.

Ownership: a record's `owner` comes from wherever the API lets fleetdns mark it (Cloudflare: a word
of the record's comment). A record set fleetdns owns but that has no record yet has nothing to carry
the mark, so it gets the TXT marker of ownership.py under `_fleetdns.<zone>`, until it has a record.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import ChangedSinceReadError, ProviderError
from ..names import relative_name
from ..ownership import MARKER_LABEL, ZoneState, parse_marker, parse_owner
from ..plan import Change
from ..records import RecordKey, RecordSet
from .base import Meanwhile, Progress, ZoneProvider
from .http_api import AmbiguousWriteError, resolve_ca_bundle

APPLIED, NOT_APPLIED, CHANGED = "applied", "not_applied", "changed"


@dataclass
class ApiRecord:
    """One record as the API stores it: its id and canonical value; `owner` is set by the subclass
    from wherever that API keeps fleetdns's mark."""

    id: str
    name: str  # absolute, with the final dot
    type: str
    value: str  # canonical text
    ttl: int
    owner: str | None = field(init=False, default=None)


@dataclass
class Op:
    """One write operation and the record set it belongs to (for error messages).

    `before` is the record a delete or update acts on, as read. `expect` is, for an update, the
    record's `state` once it is done, and for a create the (type, canonical value) it makes: what a
    re-read looks for after an ambiguous failure."""

    kind: str  # "delete" | "patch" | "post"
    body: dict
    key: RecordKey
    label: str
    before: ApiRecord | None = None
    expect: tuple[Any, ...] | None = None


@dataclass
class Snapshot:
    """A zone as read: records grouped by record set, marker records, every record by id, warnings."""

    zone: str
    records: dict[RecordKey, list[Any]] = field(default_factory=dict)
    markers: dict[RecordKey, list[Any]] = field(default_factory=dict)
    by_id: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def add(self, record: ApiRecord) -> None:
        """File a record as data, as a marker, or (in the reserved subtree, not a marker) as a warning."""
        zone = self.zone
        self.by_id[record.id] = record
        marker_for = parse_marker(record.name, zone) if record.type == "TXT" else None
        if marker_for is not None and parse_owner(frozenset({record.value})) is not None:
            self.markers.setdefault(marker_for, []).append(record)
        elif record.name.endswith(f".{MARKER_LABEL}.{zone}") or record.name == f"{MARKER_LABEL}.{zone}":
            self.warnings.append(
                f"{relative_name(record.name, zone)} {record.type} sits in the reserved {MARKER_LABEL} subtree but "
                "is not a fleetdns marker; left alone"
            )
        else:
            self.records.setdefault((record.name, record.type), []).append(record)

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
                    f"{label(key, self.zone)} has records with different TTLs ({', '.join(map(str, ttls))}); "
                    "the next change to it evens them out"
                )
            state.records[key] = RecordSet(key[0], key[1], ttls[0], frozenset(r.value for r in records))
            modified = [stamp for stamp in (getattr(r, "modified", None) for r in records) if stamp]
            if modified:
                state.changed[key] = max(modified)
            owners = sorted({r.owner for r in records if r.owner})
            if len(owners) > 1:
                state.warnings.append(
                    f"{label(key, self.zone)} carries several owner ids in its comments ({', '.join(owners)})"
                )
        for key in set(self.records) | set(self.markers):
            owner = self.owner(key)
            if owner:
                state.owners[key] = owner
        return state


@dataclass
class Reuse:
    """How the records of one record set become its wanted values: records to delete, records to
    update to a new value (keeping their id and settings), records that keep their value, and
    values that need a new record."""

    delete: list[Any]
    update: list[tuple[Any, str]]
    keep: list[Any]
    create: list[str]


def reuse(records: Iterable[ApiRecord], wanted: Iterable[str]) -> Reuse:
    """Pair stale records with missing values, so a changed value is an update, not delete + create."""
    records = list(records)
    wanted = sorted(wanted)
    keep = [r for r in records if r.value in wanted]
    stale = [r for r in records if r.value not in wanted]
    kept = {r.value for r in keep}
    missing = [v for v in wanted if v not in kept]
    return Reuse(stale[len(missing) :], list(zip(stale, missing, strict=False)), keep, missing[len(stale) :])


def label(key: RecordKey, zone: str) -> str:
    return f"{relative_name(key[0], zone)} {key[1]}"


class RecordPerValueProvider(ZoneProvider):
    """A REST zone provider whose API stores one record per value; subclasses speak the API.

    They implement `_snapshot` (list the zone into a Snapshot), `_ops` (the operations of one
    change), `_send` (one batch, raising AmbiguousWriteError when its outcome is unknown),
    `_state`/`_post_matches` (what a re-read compares) and `_pause` (the wait before a batch is sent
    again); the rest is here.
    """

    SERVICE: ClassVar[str]  # the API's name in messages ("Cloudflare")
    ATTEMPTS: ClassVar[int] = 5  # sends of one batch whose outcome stays unknown
    BATCH_SIZE_OPTION: ClassVar[str] = "batch_size"
    DEFAULT_BATCH_SIZE: ClassVar[int] = 200
    # The HTTP layer's retry policy (class attributes so tests can shorten the waits).
    BACKOFF: ClassVar[float] = 0.5
    MAX_RETRY_AFTER: ClassVar[float] = 300.0

    def __init__(self, name: str, options: dict[str, Any], base_dir: str = ".") -> None:
        super().__init__(name, options, base_dir)
        self._client: Any = None  # the API client, made on first use by the subclass's `client`

    def http_settings(self) -> dict[str, Any]:
        """What every REST provider hands its HttpApi client the same way: the CA bundle, the
        per-read timeout, the whole-request deadline (the `deadline` option's default when unset)
        and the retry policy."""
        opts = self.options
        return {
            "verify": resolve_ca_bundle(self.base_dir, opts.get("ca_bundle"), self.name),
            "timeout": int(opts.get("timeout") or 30),
            "deadline": float(opts.get("deadline") or self.OPTIONS["deadline"].default),
            "attempts": self.ATTEMPTS,
            "backoff": self.BACKOFF,
            "max_retry_after": self.MAX_RETRY_AFTER,
        }

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def changed_hint(self) -> str:
        return f"the zone changed on {self.SERVICE} since it was read; run plan again and review the new plan"

    # ---- to implement -------------------------------------------------------------------------------
    @abstractmethod
    def _snapshot(self, zone: str) -> Snapshot:
        """The whole zone as the API lists it (records filed with Snapshot.add)."""

    @abstractmethod
    def _ops(self, change: Change, snapshot: Snapshot, owner: str) -> list[Op]:
        """The operations that turn what the API has into `change.after` and its ownership."""

    @abstractmethod
    def _send(self, zone: str, chunk: list[Op]) -> None:
        """Send one batch; AmbiguousWriteError when the API's answer was lost, ProviderError (with the
        operation concerned) when it refused."""

    @abstractmethod
    def _state(self, record: Any) -> tuple[Any, ...]:
        """What an update's `expect` is compared with after a re-read (value, TTL, ownership mark...)."""

    @abstractmethod
    def _post_matches(self, record: Any, op: Op, zone: str) -> bool:
        """Whether `record`, new since the snapshot, is what create `op` made."""

    @abstractmethod
    def _pause(self, attempt: int) -> None:
        """Wait before sending a batch again after attempt number `attempt` left it not applied."""

    # ---- reading --------------------------------------------------------------------------------------
    def read(self, zone: str, wanted: set[RecordKey]) -> ZoneState:
        unsupported = sorted({key[1] for key in wanted if not self.CAPABILITIES.supports(key[1])})
        if unsupported:
            raise ProviderError(
                f"zone {zone}: the {self.TYPE} provider cannot manage {', '.join(unsupported)} records",
                f"it manages {', '.join(self.CAPABILITIES.record_types)}; move these records to another provider "
                "or remove them",
            )
        return self._snapshot(zone).state()

    # ---- applying -------------------------------------------------------------------------------------
    def apply(
        self,
        zone: str,
        changes: list[Change],
        owner: str | None,
        progress: Progress | None = None,
        meanwhile: Meanwhile | None = None,
    ) -> None:
        if not changes:
            return
        if owner is None:  # validation refuses `ownership: zone` here; a hand-edited saved plan gets this
            raise ProviderError(f"zone {zone}: ownership: zone is not available with the {self.TYPE} provider")
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
                f"zone {zone}: {len(conflicts)} record set(s) changed on {self.SERVICE} since the plan was made; "
                "nothing was applied:\n" + "\n".join(f"  - {c}" for c in conflicts),
                self.changed_hint,
            )
        total = len(changes)
        done = 0
        for applied_batches, (chunk, finished) in enumerate(self._chunks(planned)):
            try:
                self._send_batch(zone, chunk, snapshot)
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
        where = label(change.key, snapshot.zone)
        expected = change.before.values if change.before else frozenset()
        current = snapshot.values(change.key)
        if current != expected:
            shown = ", ".join(sorted(current)) or "nothing"
            return (
                f"{where}: the plan expected {', '.join(sorted(expected)) or 'nothing'}, {self.SERVICE} now has {shown}"
            )
        holder = snapshot.owner(change.key)
        if change.owned_before and holder != owner:
            return f"{where}: no longer owned by '{owner}'" + (f" (now '{holder}')" if holder else "")
        if not change.owned_before and holder is not None:
            return f"{where}: now owned by '{holder}'"
        return None

    def _chunks(self, planned: list[tuple[Change, list[Op]]]) -> list[tuple[list[Op], int]]:
        """Ops packed into batches of at most the batch size; each item says how many changes it completes.
        A change is split across batches only when it alone is larger than one."""
        size = int(self.options.get(self.BATCH_SIZE_OPTION) or self.DEFAULT_BATCH_SIZE)
        chunks: list[tuple[list[Op], int]] = []
        current: list[Op] = []
        finished = 0
        for _change, ops in planned:
            if current and len(current) + len(ops) > size:
                chunks.append((current, finished))
                current, finished = [], 0
            while len(ops) > size:
                chunks.append((ops[:size], 0))
                ops = ops[size:]
            current.extend(ops)
            finished += 1
        if current or finished:
            chunks.append((current, finished))
        return chunks

    def _send_batch(self, zone: str, chunk: list[Op], snapshot: Snapshot) -> None:
        if not chunk:
            return
        for attempt in range(1, self.ATTEMPTS + 1):
            try:
                self._send(zone, chunk)
                return
            except AmbiguousWriteError as exc:
                outcome = self._batch_outcome(zone, chunk, snapshot)
                if outcome == APPLIED:
                    return
                if outcome == CHANGED:
                    raise ChangedSinceReadError(
                        f"zone {zone}: a batch of {len(chunk)} operation(s) failed ({exc.message}) and the zone no "
                        "longer matches either the state before it or after it",
                        self.changed_hint,
                    ) from None
                if attempt == self.ATTEMPTS:
                    raise ProviderError(
                        f"zone {zone}: {self.SERVICE} kept failing a batch of {len(chunk)} operation(s) "
                        f"({exc.message}); none of it was applied",
                        f"{self.SERVICE} is having trouble; try again later",
                    ) from None
                self._pause(attempt)

    def _batch_outcome(self, zone: str, chunk: list[Op], before: Snapshot) -> str:
        """After an ambiguous failure: APPLIED, NOT_APPLIED or CHANGED (neither), by re-reading."""
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
                applied &= self._state(new) == op.expect
                not_applied &= self._state(new) == self._state(old)
            else:
                fresh = [
                    r
                    for r in now.records.get(op.key, []) + now.markers.get(op.key, [])
                    if r.id not in before.by_id and self._post_matches(r, op, zone)
                ]
                applied &= bool(fresh)
                not_applied &= not fresh
        if applied:
            return APPLIED
        return NOT_APPLIED if not_applied else CHANGED
