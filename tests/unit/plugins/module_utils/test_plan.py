from __future__ import annotations

import json

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import PlanConflictError, SafetyError
from ansible_collections.fleetdns.ddns.plugins.module_utils.ownership import ZoneState
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import (
    Change,
    Plan,
    ZoneDesired,
    check_delete_safety,
    make_zone_plan,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet
from hypothesis import given
from hypothesis import strategies as st

ZONE = "example.test."
ME = "fleet-main"


def rs(name: str, rtype: str = "A", *values: str, ttl: int = 300) -> RecordSet:
    return RecordSet(f"{name}.{ZONE}" if name != "@" else ZONE, rtype, ttl, frozenset(values or ("192.0.2.1",)))


def state(records: list[RecordSet], owners: dict | None = None) -> ZoneState:
    return ZoneState(ZONE, {r.key: r for r in records}, dict(owners or {}))


def desired(records: list[RecordSet], registered: set | None = None) -> ZoneDesired:
    return ZoneDesired(ZONE, {r.key: r for r in records}, set(registered or ()))


def actions(plan) -> list[tuple[str, str, str]]:
    return [(c.action, c.name, c.type) for c in plan.changes]


def test_create_update_delete_and_noop() -> None:
    keep, old, gone = rs("keep"), rs("web", "A", "192.0.2.1"), rs("gone")
    new = rs("new")
    current = state([keep, old, gone], {keep.key: ME, old.key: ME, gone.key: ME})
    want = desired([keep, rs("web", "A", "192.0.2.9"), new])
    plan = make_zone_plan(want, current, ME, "files")
    assert actions(plan) == [
        ("delete", gone.name, "A"),
        ("create", new.name, "A"),
        ("update", old.name, "A"),
    ]
    update = plan.changes[2]
    assert update.before == old and update.after.values == {"192.0.2.9"}
    assert plan.owned_count == 3


def test_unowned_records_are_never_changed_or_deleted() -> None:
    theirs = rs("theirs")
    plan = make_zone_plan(desired([]), state([theirs]), ME, "files")
    assert plan.changes == []
    with pytest.raises(PlanConflictError) as info:
        make_zone_plan(desired([rs("theirs", "A", "192.0.2.7")]), state([theirs]), ME, "files")
    assert "not owned by fleetdns" in str(info.value) and "--adopt" in str(info.value)


def test_identical_unowned_record_is_left_alone_with_a_note_and_adopt_takes_it() -> None:
    theirs = rs("theirs")
    plan = make_zone_plan(desired([theirs]), state([theirs]), ME, "files")
    assert plan.changes == [] and any("--adopt" in n for n in plan.notes)
    adopted = make_zone_plan(desired([rs("theirs", "A", "192.0.2.8")]), state([theirs]), ME, "files", adopt=True)
    assert actions(adopted) == [("adopt", theirs.name, "A")]
    change = adopted.changes[0]
    assert (change.owned_before, change.owned_after, change.before) == (False, True, theirs)


def test_another_owner_is_a_conflict_even_with_adopt() -> None:
    other = rs("x")
    current = state([other], {other.key: "fleet-other"})
    with pytest.raises(PlanConflictError, match="owned by 'fleet-other'"):
        make_zone_plan(desired([rs("x", "A", "192.0.2.5")]), current, ME, "files", adopt=True)
    # and it is not deleted when absent from our inventory
    assert make_zone_plan(desired([]), current, ME, "files").changes == []


def test_registered_device_names_get_a_marker_and_keep_their_values() -> None:
    agent_set = rs("gw", "A", "198.51.100.4")
    want = desired([], {(agent_set.name, "A"), (agent_set.name, "AAAA")})
    plan = make_zone_plan(want, state([agent_set]), ME, "files")
    assert actions(plan) == [("register", agent_set.name, "A"), ("register", agent_set.name, "AAAA")]
    assert all(not c.changes_data and c.changes_owner for c in plan.changes)
    # once registered, nothing to do; when the device leaves, its owned values go
    owners = {(agent_set.name, "A"): ME, (agent_set.name, "AAAA"): ME}
    assert make_zone_plan(want, state([agent_set], owners), ME, "files").changes == []
    leaving = make_zone_plan(desired([]), state([agent_set], owners), ME, "files")
    assert actions(leaving) == [("delete", agent_set.name, "A"), ("delete", agent_set.name, "AAAA")]
    assert leaving.changes[1].before is None  # the AAAA marker existed without a value


def test_cname_beside_unowned_data_is_a_conflict_but_owned_data_is_replaced() -> None:
    a = rs("www")
    cname = RecordSet(f"www.{ZONE}", "CNAME", 300, frozenset({f"gw.{ZONE}"}))
    with pytest.raises(PlanConflictError, match="CNAME beside A"):
        make_zone_plan(desired([cname]), state([a]), ME, "files")
    plan = make_zone_plan(desired([cname]), state([a], {a.key: ME}), ME, "files")
    assert sorted(actions(plan)) == [("create", cname.name, "CNAME"), ("delete", a.name, "A")]


def test_incomplete_read_is_explained() -> None:
    current = ZoneState(ZONE, complete=False)
    plan = make_zone_plan(desired([rs("a")]), current, ME, "rfc")
    assert any("AXFR" in n for n in plan.notes)


def test_delete_safety_threshold() -> None:
    owned = [rs(f"h{i}") for i in range(20)]
    current = state(owned, {r.key: ME for r in owned})
    small = make_zone_plan(desired(owned[:14]), current, ME, "files")  # 6 of 20 = 30 %
    check_delete_safety(small, allow_deletes=False)
    big = make_zone_plan(desired(owned[:13]), current, ME, "files")  # 7 of 20 = 35 %
    with pytest.raises(SafetyError) as info:
        check_delete_safety(big, allow_deletes=False)
    assert "7 of the 20" in str(info.value) and "--allow-deletes" in str(info.value)
    check_delete_safety(big, allow_deletes=True)
    few = [rs(f"f{i}") for i in range(5)]
    everything = make_zone_plan(desired([]), state(few, {r.key: ME for r in few}), ME, "files")
    check_delete_safety(everything, allow_deletes=False)  # a handful is always allowed


def test_plan_round_trips_through_json() -> None:
    owned = rs("old")
    plan = Plan(ME, [make_zone_plan(desired([rs("new")]), state([owned], {owned.key: ME}), ME, "files")])
    again = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again.to_dict() == plan.to_dict()
    assert again.counts() == {"create": 1, "update": 0, "delete": 1, "adopt": 0, "register": 0}
    assert isinstance(again.zones[0].changes[0], Change)


# --- property: applying a plan reaches the desired state and touches nothing else ---------------

NAMES = [f"n{i}" for i in range(6)]
values = st.sets(st.sampled_from(["192.0.2.1", "192.0.2.2", "192.0.2.3"]), min_size=1, max_size=2)
record_sets = st.builds(
    lambda name, v, ttl: RecordSet(f"{name}.{ZONE}", "A", ttl, frozenset(v)),
    st.sampled_from(NAMES),
    values,
    st.sampled_from([60, 300]),
)
owner_ids = st.sampled_from([None, ME, "fleet-other"])


def apply_changes(current: ZoneState, changes: list[Change]) -> ZoneState:
    records, owners = dict(current.records), dict(current.owners)
    for change in changes:
        assert current.records.get(change.key) == change.before  # pins hold
        assert (current.owners.get(change.key) == ME) == change.owned_before
        if change.after is None:
            records.pop(change.key, None)
        else:
            records[change.key] = change.after
        if change.owned_after:
            owners[change.key] = ME
        else:
            owners.pop(change.key, None)
    return ZoneState(ZONE, records, owners)


@given(
    st.dictionaries(st.sampled_from(NAMES), st.tuples(record_sets, owner_ids)),
    st.lists(record_sets, unique_by=lambda r: r.name),
    st.booleans(),
)
def test_plan_reaches_desired_state_without_touching_others(current_raw, wanted, adopt) -> None:
    current = ZoneState(ZONE)
    for name, (record, owner) in current_raw.items():
        record = RecordSet(f"{name}.{ZONE}", "A", record.ttl, record.values)
        current.records[record.key] = record
        if owner:
            current.owners[record.key] = owner
    want = desired(wanted)
    try:
        plan = make_zone_plan(want, current, ME, "files", adopt=adopt)
    except PlanConflictError:
        blocked = [
            k
            for k, r in want.records.items()
            if current.owners.get(k) not in (None, ME)
            or (k in current.records and k not in current.owners and current.records[k] != r and not adopt)
        ]
        assert blocked
        return
    after = apply_changes(current, plan.changes)
    for key, record in want.records.items():
        assert after.records[key] == record
    for key, record in current.records.items():
        if current.owners.get(key) != ME and not (adopt and key in want.records):
            assert after.records.get(key) == record  # never ours to change
            assert after.owners.get(key) == current.owners.get(key)
        elif key not in want.records:
            assert key not in after.records  # ours and no longer wanted: gone
    assert make_zone_plan(want, after, ME, "files", adopt=adopt).changes == []
