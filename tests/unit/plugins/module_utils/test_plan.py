from __future__ import annotations

import json
from dataclasses import replace

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import PlanConflictError, SafetyError
from ansible_collections.fleetdns.ddns.plugins.module_utils.ownership import ZoneState
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import (
    CLI_WORDING,
    Change,
    Intent,
    Plan,
    ZoneDesired,
    check_delete_safety,
    make_zone_plan,
    plan_zone,
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
    fresh = make_zone_plan(want, state([]), ME, "files")
    assert actions(fresh) == [("register", agent_set.name, "A"), ("register", agent_set.name, "AAAA")]
    assert all(not c.changes_data and c.changes_owner and c.before is None for c in fresh.changes)
    # an address already there without our marker is adopted only when asked to, values kept
    plan = make_zone_plan(want, state([agent_set]), ME, "files", adopt=True)
    assert actions(plan) == [("adopt", agent_set.name, "A"), ("register", agent_set.name, "AAAA")]
    assert all(not c.changes_data and c.changes_owner for c in plan.changes)
    # once registered, nothing to do; when the device leaves, its owned values go
    owners = {(agent_set.name, "A"): ME, (agent_set.name, "AAAA"): ME}
    assert make_zone_plan(want, state([agent_set], owners), ME, "files").changes == []
    leaving = make_zone_plan(desired([]), state([agent_set], owners), ME, "files")
    assert actions(leaving) == [("delete", agent_set.name, "A"), ("delete", agent_set.name, "AAAA")]
    assert leaving.changes[1].before is None  # the AAAA marker existed without a value


def test_a_device_name_over_an_unowned_address_is_a_conflict_and_never_deleted() -> None:
    theirs = rs("mail", "A", "192.0.2.25")
    want = desired([], {(theirs.name, "A"), (theirs.name, "AAAA")})
    with pytest.raises(PlanConflictError) as info:
        make_zone_plan(want, state([theirs]), ME, "files")
    assert info.value.conflicts == [
        "mail A exists (ttl 300: 192.0.2.25) and is not owned by fleetdns, but mail is a device name; remove the "
        "record, or run with --adopt to take it over"
    ]
    # the host leaving the inventory deletes nothing it does not own
    assert make_zone_plan(desired([]), state([theirs]), ME, "files").changes == []
    # another owner's address stays a conflict, with or without --adopt
    with pytest.raises(PlanConflictError, match="owned by 'fleet-other'"):
        make_zone_plan(want, state([theirs], {theirs.key: "fleet-other"}), ME, "files", adopt=True)


def test_device_names_follow_the_rules_of_declared_record_sets_in_any_front_wording() -> None:
    theirs, ours = rs("a", "A", "192.0.2.1"), rs("b", "A", "192.0.2.2")
    current = state([theirs, ours], {ours.key: ME})
    keys = frozenset({theirs.key, ours.key, (f"c.{ZONE}", "A")})
    words = replace(CLI_WORDING, set_adopt="say yes")

    def planned(adopt: bool = False, whole_zone: bool = False) -> list:
        intent = Intent({}, keys, prune=False, adopt=adopt, whole_zone=whole_zone)
        return plan_zone(intent, current, ZONE, ME, words).changes

    with pytest.raises(PlanConflictError) as info:
        planned()
    assert len(info.value.conflicts) == 1
    assert info.value.conflicts[0].startswith("a A exists") and info.value.conflicts[0].endswith(
        "say yes to take it over"
    )
    assert [(c.action, c.name, c.before) for c in planned(adopt=True)] == [
        ("adopt", theirs.name, theirs),
        ("register", f"c.{ZONE}", None),
    ]
    assert planned(whole_zone=True) == []  # a zone owned whole: every record set is ours already


def test_cname_beside_unowned_data_is_a_conflict_but_owned_data_is_replaced() -> None:
    a = rs("www")
    cname = RecordSet(f"www.{ZONE}", "CNAME", 300, frozenset({f"gw.{ZONE}"}))
    with pytest.raises(PlanConflictError, match="CNAME beside A"):
        make_zone_plan(desired([cname]), state([a]), ME, "files")
    plan = make_zone_plan(desired([cname]), state([a], {a.key: ME}), ME, "files")
    assert sorted(actions(plan)) == [("create", cname.name, "CNAME"), ("delete", a.name, "A")]


def test_a_cname_conflict_the_plan_does_not_write_is_a_warning_not_a_conflict() -> None:
    cname = RecordSet(f"x.{ZONE}", "CNAME", 300, frozenset({f"www.{ZONE}"}))
    txt = RecordSet(f"x.{ZONE}", "TXT", 300, frozenset({'"hand edit"'}))
    plan = make_zone_plan(desired([rs("www")]), state([cname, txt]), ME, "files")
    assert actions(plan) == [("create", f"www.{ZONE}", "A")]
    assert plan.notes == [
        "x holds a CNAME beside TXT, which a server refuses (and a zone file with it does not load); fleetdns "
        "leaves it as it is: fix it by hand"
    ]


def test_incomplete_read_is_explained_first() -> None:
    current = ZoneState(ZONE, complete=False, warnings=["the key uses hmac-md5"])
    plan = make_zone_plan(desired([rs("a")]), current, ME, "rfc")
    assert "AXFR" in plan.notes[0] and plan.notes[1] == "the key uses hmac-md5"


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


# --- ownership: zone — the inventory owns the whole zone, no markers -----------------------------

SOA = rs("@", "SOA", "ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300")
APEX_NS = rs("@", "NS", "ns1.example.test.")
RRSIG = rs("@", "RRSIG", "SOA 13 2 300 20300101000000 20200101000000 12345 example.test. AAAA")


def zone_plan(want: ZoneDesired, current: ZoneState, adopt: bool = False):
    return make_zone_plan(want, current, ME, "files", adopt, ownership="zone")


def test_zone_ownership_deletes_what_the_inventory_does_not_list() -> None:
    keep, old, stray, ns1 = rs("keep"), rs("web", "A", "192.0.2.1"), rs("stray", "TXT", '"by hand"'), rs("ns1")
    current = state([SOA, APEX_NS, RRSIG, keep, old, stray, ns1])  # no markers at all
    plan = zone_plan(desired([keep, rs("web", "A", "192.0.2.9"), rs("new"), ns1]), current)
    assert actions(plan) == [
        ("create", f"new.{ZONE}", "A"),
        ("delete", stray.name, "TXT"),
        ("update", old.name, "A"),
    ]
    delete = plan.changes[1]
    assert (delete.before, delete.after) == (stray, None)
    assert plan.ownership == "zone" and not plan.marked
    assert plan.owned_count == 4  # keep, web, stray, ns1: not the SOA, the RRSIG or the undeclared apex NS
    # the same zone under marker ownership: nothing unmarked is ours, and changing it is a conflict
    with pytest.raises(PlanConflictError):
        make_zone_plan(desired([rs("web", "A", "192.0.2.9")]), current, ME, "files")


def test_zone_ownership_manages_the_apex_ns_only_when_declared() -> None:
    current = state([SOA, APEX_NS, rs("ns1")])
    assert zone_plan(desired([rs("ns1")]), current).changes == []
    ns2 = rs("@", "NS", "ns1.example.test.", "ns2.example.net.")
    plan = zone_plan(desired([rs("ns1"), ns2]), current)
    assert actions(plan) == [("update", ZONE, "NS")]
    assert plan.changes[0].before == APEX_NS and plan.owned_count == 2


def test_zone_ownership_replaces_an_unmarked_record_with_a_cname() -> None:
    a = rs("www")
    cname = RecordSet(f"www.{ZONE}", "CNAME", 300, frozenset({f"gw.{ZONE}"}))
    plan = zone_plan(desired([cname]), state([a]))
    assert sorted(actions(plan)) == [("create", cname.name, "CNAME"), ("delete", a.name, "A")]


def test_zone_ownership_delete_guard_counts_every_owned_record_set() -> None:
    hosts = [rs(f"h{i}") for i in range(20)]
    current = state([SOA, APEX_NS, *hosts])  # unmarked: all 20 are owned under zone ownership
    small = zone_plan(desired(hosts[:14]), current)  # 6 of 20 = 30 %
    assert small.owned_count == 20 and small.counts()["delete"] == 6
    check_delete_safety(small, allow_deletes=False)
    big = zone_plan(desired(hosts[:13]), current)  # 7 of 20 = 35 %
    with pytest.raises(SafetyError, match="deletes 7 of the 20 record sets"):
        check_delete_safety(big, allow_deletes=False)
    check_delete_safety(big, allow_deletes=True)


def test_zone_ownership_refuses_markers_of_another_owner() -> None:
    www = rs("www")
    gw_aaaa = (f"gw.{ZONE}", "AAAA")  # a marker whose record set does not exist counts as well
    current = state([www, rs("mail")], {www.key: "fleet-other", gw_aaaa: "fleet-other"})
    with pytest.raises(PlanConflictError) as info:
        zone_plan(desired([www]), current)
    text = str(info.value)
    assert "www A is marked as owned by 'fleet-other'" in text
    assert "gw AAAA is marked as owned by 'fleet-other'" in text
    assert "ownership: zone" in text


def test_zone_ownership_leaves_our_own_markers_alone_with_a_note() -> None:
    www, old = rs("www"), rs("old")
    gw_aaaa = (f"gw.{ZONE}", "AAAA")
    current = state([www, old], {www.key: ME, old.key: ME, gw_aaaa: ME})  # left from marker ownership
    plan = zone_plan(desired([rs("www", "A", "192.0.2.2")]), current)
    assert actions(plan) == [("delete", old.name, "A"), ("update", www.name, "A")]
    assert all(c.key != gw_aaaa for c in plan.changes)  # the marker-only AAAA is no record set: no delete
    (note,) = [n for n in plan.notes if "ownership marker" in n]
    assert f"3 ownership marker(s) of '{ME}' remain under _fleetdns.{ZONE}" in note
    # marker ownership of the same zone would delete the left-over marker of gw AAAA
    marked = make_zone_plan(desired([rs("www", "A", "192.0.2.2")]), current, ME, "files")
    assert ("delete", gw_aaaa[0], "AAAA") in actions(marked)


def test_zone_ownership_keeps_device_addresses_without_registering_them() -> None:
    gw = rs("gw", "A", "198.51.100.4")
    devices = {(gw.name, "A"), (gw.name, "AAAA")}
    plan = zone_plan(desired([], devices), state([gw]))
    assert plan.changes == [] and plan.owned_count == 1
    marked = make_zone_plan(desired([], devices), state([gw]), ME, "files", adopt=True)
    assert [c.action for c in marked.changes] == ["adopt", "register"]
    leaving = zone_plan(desired([]), state([gw]))  # the device left the inventory: its address goes
    assert actions(leaving) == [("delete", gw.name, "A")]


def test_zone_ownership_incomplete_read_is_explained() -> None:
    plan = zone_plan(desired([rs("a")]), ZoneState(ZONE, complete=False))
    assert any("AXFR" in n for n in plan.notes)
    assert actions(plan) == [("create", f"a.{ZONE}", "A")]


def test_deleting_the_last_address_of_an_ns_or_mx_target_is_a_conflict() -> None:
    ns = rs("@", "NS", f"ns1.{ZONE}")
    mx = rs("@", "MX", f"10 mail.{ZONE}")
    ns1, mail, mail6 = rs("ns1"), rs("mail"), rs("mail", "AAAA", "2001:db8::25")
    current = state([ns, mx, ns1, mail, mail6])
    # a zone owned whole that does not list its name server's address (nor mail's)
    with pytest.raises(PlanConflictError) as info:
        zone_plan(desired([mx, mail6]), current)
    assert info.value.conflicts == [
        "ns1 would lose its last address while @ NS points at it, which a server refuses; keep (list) the address, "
        "or change those records too"
    ]  # mail keeps its AAAA, so deleting its A is fine
    assert actions(zone_plan(desired([mx, mail6, ns1]), current)) == [("delete", f"mail.{ZONE}", "A")]
    # marker ownership: deleting an owned address together with the MX pointing at it is fine
    owned = {r.key: ME for r in (mx, mail, mail6)}
    plan = make_zone_plan(desired([]), state([ns, mx, ns1, mail, mail6], owned), ME, "files")
    assert sorted(actions(plan)) == [("delete", ZONE, "MX"), *(("delete", f"mail.{ZONE}", t) for t in ("A", "AAAA"))]
    with pytest.raises(PlanConflictError, match="mail would lose its last address while @ MX points at it"):
        make_zone_plan(desired([mx]), state([ns, mx, ns1, mail, mail6], owned), ME, "files")


def test_zone_plan_round_trips_its_ownership_and_refuses_an_unknown_one() -> None:
    stray = rs("stray")
    plan = Plan(ME, [zone_plan(desired([rs("new")]), state([stray]))])
    data = json.loads(json.dumps(plan.to_dict()))
    assert data["zones"][0]["ownership"] == "zone"
    again = Plan.from_dict(data)
    assert again.zones[0].ownership == "zone" and not again.zones[0].marked
    assert again.to_dict() == plan.to_dict()

    legacy = json.loads(json.dumps(data))
    del legacy["zones"][0]["ownership"]  # a plan saved before the key existed: marker ownership
    assert Plan.from_dict(legacy).zones[0].marked

    data["zones"][0]["ownership"] = "bogus"
    with pytest.raises(ValueError, match="unknown ownership 'bogus'"):
        Plan.from_dict(data)


def apply_zone_changes(current: ZoneState, changes: list[Change]) -> ZoneState:
    """What a provider does in a zone owned whole: data only, pinned on `before`, markers untouched."""
    records = dict(current.records)
    for change in changes:
        assert current.records.get(change.key) == change.before  # pins hold
        if change.after is None:
            records.pop(change.key, None)
        else:
            records[change.key] = change.after
    return ZoneState(ZONE, records, dict(current.owners))


@given(
    st.lists(record_sets, unique_by=lambda r: r.name),
    st.lists(record_sets, unique_by=lambda r: r.name),
    st.sets(st.sampled_from(NAMES), max_size=2),
    st.booleans(),
)
def test_zone_ownership_plan_makes_the_zone_exactly_the_inventory(current_raw, wanted, devices, adopt) -> None:
    current = state([SOA, APEX_NS, RRSIG, *current_raw])
    registered = {(f"{name}.{ZONE}", "A") for name in devices} - {r.key for r in wanted}
    want = desired(wanted, registered)
    plan = zone_plan(want, current, adopt)
    assert {c.action for c in plan.changes} <= {"create", "update", "delete"}
    after = apply_zone_changes(current, plan.changes)
    devices_kept = {k: current.records[k] for k in registered if k in current.records}
    untouched = {r.key: r for r in (SOA, APEX_NS, RRSIG)}
    assert after.records == {**untouched, **want.records, **devices_kept}
    assert zone_plan(want, after, adopt).changes == []
