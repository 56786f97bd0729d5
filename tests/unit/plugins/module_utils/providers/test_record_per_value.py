"""providers.record_per_value: the frame of a REST provider that stores one API record per value,
driven through a minimal in-memory API (one dict of records by id) whose batches can be made to lose
their answer before or after applying."""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ChangedSinceReadError, ProviderError
from ansible_collections.fleetdns.ddns.plugins.module_utils.ownership import marker_name, marker_value
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import Change
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.base import MARKER_STORE, Capabilities, Option
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.http_api import AmbiguousWriteError
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.record_per_value import (
    ApiRecord,
    Op,
    RecordPerValueProvider,
    Snapshot,
    reuse,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet

ZONE = "example.test."
WWW = f"www.{ZONE}"


class OwnedRecord(ApiRecord):
    """A record whose owner the API stores beside it."""

    def __init__(self, rid: str, name: str, rtype: str, value: str, ttl: int, owner: str | None) -> None:
        super().__init__(rid, name, rtype, value, ttl)
        self.owner = owner


class MemoryApi(RecordPerValueProvider):
    TYPE = "memory"
    SERVICE = "MemoryAPI"
    OPTIONS: ClassVar[dict[str, Option]] = {"batch_size": Option(int, default=2)}
    CAPABILITIES = Capabilities(("A", "TXT"), lists_zone=True, ownership_store=MARKER_STORE, zone_ownership=False)

    def __init__(self, records: list[OwnedRecord], lose: list[str] | None = None) -> None:
        super().__init__("mem", {"batch_size": 2})
        self.store = {r.id: r for r in records}
        self.lose = lose or []  # per batch: "before" (lost, not applied), "after" (lost, applied)
        self.batches: list[list[str]] = []
        self.paused: list[int] = []
        self._ids = itertools.count(100)

    def _snapshot(self, zone: str) -> Snapshot:
        snapshot = Snapshot(zone)
        for record in self.store.values():
            snapshot.add(record)
        return snapshot

    def _ops(self, change: Change, snapshot: Snapshot, owner: str) -> list[Op]:
        plan = reuse(snapshot.records.get(change.key, []), change.after.values if change.after else ())
        ops = [Op("delete", {"id": r.id}, change.key, r.value, r) for r in plan.delete]
        for record, value in plan.update:
            ops.append(Op("patch", {"id": record.id, "value": value}, change.key, value, record, (value, owner)))
        ops += [Op("post", {"type": change.type, "value": v}, change.key, v) for v in plan.create]
        return ops

    def _send(self, zone: str, chunk: list[Op]) -> None:
        self.batches.append([f"{op.kind} {op.label}" for op in chunk])
        mode = self.lose.pop(0) if self.lose else ""
        if mode == "before":
            raise AmbiguousWriteError("POST /batch: connection failed")
        for op in chunk:
            if op.kind == "delete":
                del self.store[op.body["id"]]
            elif op.kind == "patch":
                old = self.store[op.body["id"]]
                self.store[old.id] = OwnedRecord(old.id, old.name, old.type, op.body["value"], old.ttl, "me")
            else:
                rid = str(next(self._ids))
                self.store[rid] = OwnedRecord(rid, op.key[0], op.key[1], op.body["value"], 300, "me")
        if mode == "after":
            raise AmbiguousWriteError("POST /batch: timed out")

    def _state(self, record: Any) -> tuple[Any, ...]:
        return (record.value, record.owner)

    def _post_matches(self, record: Any, op: Op, zone: str) -> bool:
        return record.value == op.body["value"] and record.type == op.body["type"]

    def _pause(self, attempt: int) -> None:
        self.paused.append(attempt)


def a_records(*values: str) -> RecordSet:
    return RecordSet(WWW, "A", 300, frozenset(values))


def change(before: tuple[str, ...], after: tuple[str, ...], owned_before: bool = True) -> Change:
    return Change(
        action="update" if before and after else ("create" if after else "delete"),
        name=WWW,
        type="A",
        before=a_records(*before) if before else None,
        after=a_records(*after) if after else None,
        owned_before=owned_before,
        owned_after=bool(after),
    )


def www(rid: str, value: str, owner: str | None = "me") -> OwnedRecord:
    return OwnedRecord(rid, WWW, "A", value, 300, owner)


def test_reuse_turns_a_changed_value_into_an_update() -> None:
    records = [www("1", "192.0.2.1"), www("2", "192.0.2.2"), www("3", "192.0.2.3")]
    plan = reuse(records, ["192.0.2.2", "192.0.2.9"])
    assert [r.id for r in plan.keep] == ["2"]
    assert [(r.id, v) for r, v in plan.update] == [("1", "192.0.2.9")]
    assert [r.id for r in plan.delete] == ["3"] and plan.create == []
    grown = reuse(records[:1], ["192.0.2.7", "192.0.2.8"])
    assert [(r.id, v) for r, v in grown.update] == [("1", "192.0.2.7")] and grown.create == ["192.0.2.8"]


def test_the_snapshot_files_data_markers_and_reserved_names() -> None:
    snapshot = Snapshot(ZONE)
    snapshot.add(www("1", "192.0.2.1", owner=None))
    snapshot.add(OwnedRecord("2", marker_name((f"gw.{ZONE}", "A"), ZONE), "TXT", marker_value("me"), 300, None))
    snapshot.add(OwnedRecord("3", f"other._fleetdns.{ZONE}", "TXT", '"hello"', 300, None))
    snapshot.add(OwnedRecord("4", WWW, "A", "192.0.2.2", 60, "them"))
    assert set(snapshot.by_id) == {"1", "2", "3", "4"}
    assert snapshot.owner((f"gw.{ZONE}", "A")) == "me" and snapshot.owner((WWW, "A")) == "them"
    state = snapshot.state()
    assert state.records[(WWW, "A")].values == {"192.0.2.1", "192.0.2.2"}
    assert any("reserved _fleetdns subtree" in w for w in state.warnings)
    assert any("different TTLs (60, 300)" in w for w in state.warnings)


def test_a_pin_that_no_longer_holds_stops_the_apply_before_anything_is_sent() -> None:
    api = MemoryApi([www("1", "192.0.2.5")])
    with pytest.raises(ChangedSinceReadError) as caught:
        api.apply(ZONE, [change(("192.0.2.1",), ("192.0.2.2",))], "me")
    assert "changed on MemoryAPI since the plan was made" in caught.value.message
    assert "MemoryAPI now has 192.0.2.5" in caught.value.message and api.batches == []


def test_ownership_is_pinned_too() -> None:
    api = MemoryApi([www("1", "192.0.2.1", owner="them")])
    with pytest.raises(ChangedSinceReadError, match="no longer owned by 'me' \\(now 'them'\\)"):
        api.apply(ZONE, [change(("192.0.2.1",), ("192.0.2.2",))], "me")


def test_changes_go_out_in_batches_and_report_progress() -> None:
    api = MemoryApi([www("1", "192.0.2.1")])
    done: list[tuple[int, int]] = []
    api.apply(
        ZONE, [change(("192.0.2.1",), ("192.0.2.2", "192.0.2.3", "192.0.2.4"))], "me", lambda d, t: done.append((d, t))
    )
    assert api.batches == [["patch 192.0.2.2", "post 192.0.2.3"], ["post 192.0.2.4"]]  # split: alone it is larger
    assert done == [(0, 1), (1, 1)]  # the first batch completes no change yet
    assert sorted(r.value for r in api.store.values()) == ["192.0.2.2", "192.0.2.3", "192.0.2.4"]
    assert api.store["1"].value == "192.0.2.2"  # the record kept its id


def test_a_batch_applied_before_its_answer_was_lost_is_not_sent_again() -> None:
    api = MemoryApi([www("1", "192.0.2.1")], lose=["after"])
    api.apply(ZONE, [change(("192.0.2.1",), ("192.0.2.2",))], "me")
    assert len(api.batches) == 1 and api.store["1"].value == "192.0.2.2" and api.paused == []


def test_a_batch_lost_before_it_applied_is_sent_again() -> None:
    api = MemoryApi([www("1", "192.0.2.1")], lose=["before", "before"])
    api.apply(ZONE, [change(("192.0.2.1",), ("192.0.2.2",))], "me")
    assert len(api.batches) == 3 and api.paused == [1, 2] and api.store["1"].value == "192.0.2.2"


def test_a_batch_that_never_gets_through_is_reported() -> None:
    api = MemoryApi([www("1", "192.0.2.1")], lose=["before"] * MemoryApi.ATTEMPTS)
    with pytest.raises(ProviderError) as caught:
        api.apply(ZONE, [change(("192.0.2.1",), ("192.0.2.2",))], "me")
    assert "MemoryAPI kept failing a batch of 1 operation(s)" in caught.value.message
    assert "none of it was applied" in caught.value.message and len(api.batches) == MemoryApi.ATTEMPTS


def test_a_zone_that_matches_neither_side_after_a_lost_answer_is_a_conflict() -> None:
    api = MemoryApi([www("1", "192.0.2.1")], lose=["before"])
    send = api._send

    def meddling(zone: str, chunk: list[Op]) -> None:
        api.store["1"] = www("1", "198.51.100.1")  # someone else wrote while the answer was lost
        send(zone, chunk)

    api._send = meddling  # type: ignore[method-assign]
    with pytest.raises(ChangedSinceReadError, match="no longer matches either the state before it or after it"):
        api.apply(ZONE, [change(("192.0.2.1",), ("192.0.2.2",))], "me")


def test_read_refuses_a_type_the_provider_does_not_declare() -> None:
    with pytest.raises(ProviderError, match="the memory provider cannot manage MX records") as caught:
        MemoryApi([]).read(ZONE, {(ZONE, "MX")})
    assert "it manages A, TXT" in caught.value.hint


def test_apply_without_an_owner_is_refused() -> None:
    with pytest.raises(ProviderError, match="ownership: zone is not available with the memory provider"):
        MemoryApi([]).apply(ZONE, [change((), ("192.0.2.2",), owned_before=False)], None)
