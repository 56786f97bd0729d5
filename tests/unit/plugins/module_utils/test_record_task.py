"""record_task: argument checks, the plan per on_existing/state/prune/adopt, and runs on zone files."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils import record_task
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError, PlanConflictError, SafetyError
from ansible_collections.fleetdns.ddns.plugins.module_utils.ownership import ZoneState
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import ZoneDesired, make_zone_plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import (
    provider_class,
    provider_type_names,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.zonefile import ZoneFileProvider
from ansible_collections.fleetdns.ddns.plugins.module_utils.record_task import (
    RecordTask,
    change_dicts,
    diff_entries,
    error_message,
    missing_libraries,
    plan_task,
    prepare,
    provider_argument_spec,
    run_task,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet, cname_conflicts
from hypothesis import assume, given, settings
from hypothesis import strategies as st

ZONE = "example.test."
ME = "fleet-main"
SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I="
RFC2136 = {
    "type": "rfc2136",
    "server": "127.0.0.1",
    "port": 53,
    "tsig_key_name": "k",
    "tsig_secret": SECRET,
}
FILES = {"type": "zonefile", "directory": "zones"}
CLOUDFLARE = {"type": "cloudflare", "api_token": "t0ken-t0ken-t0ken"}


def rs(name: str, rtype: str = "A", *values: str, ttl: int = 300) -> RecordSet:
    return RecordSet(f"{name}.{ZONE}" if name != "@" else ZONE, rtype, ttl, frozenset(values or ("192.0.2.1",)))


def state(records: list[RecordSet], owners: dict | None = None, complete: bool = True) -> ZoneState:
    return ZoneState(ZONE, {r.key: r for r in records}, dict(owners or {}), complete)


def task(records: list[dict], **kwargs) -> RecordTask:
    kwargs.setdefault("owner", ME)
    return RecordTask(provider=dict(FILES), zone="example.test", records=records, **kwargs)


def plan(records: list[dict], current: ZoneState, **kwargs):
    t = task(records, **kwargs)
    return plan_task(t, prepare(t), current)


def summary(p) -> list[tuple]:
    return [
        (c.action, c.name.split(".")[0], c.type, c.after.sorted_values() if c.after else None, c.owned_after)
        for c in p.changes
    ]


# ---- arguments -----------------------------------------------------------------------------------


def test_provider_is_checked_like_an_inventory_entry_and_never_shows_its_secret() -> None:
    bad = dict(RFC2136, tsig_secrte="x", tsig_secret=SECRET + "!", port="many")
    with pytest.raises(ConfigError) as info:
        prepare(RecordTask(provider=bad, zone="example.test", records=[]))
    text = error_message(info.value)
    assert "provider.tsig_secrte: unknown key 'tsig_secrte' (hint: did you mean 'tsig_secret'?)" in text
    assert "provider.port: 'many' is not a whole number" in text
    assert "tsig_secret is not valid base64" in text
    assert SECRET not in text
    assert "\n" not in text


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    t = RecordTask(
        provider={"type": "bind"},
        zone="exa mple",
        records=[],
        owner="no spaces",
        ttl=-1,
    )
    with pytest.raises(ConfigError) as info:
        prepare(t)
    paths = [p.path for p in info.value.problems]
    assert paths == ["provider.type", "owner", "zone", "ttl"]
    known = "alidns, cloudflare, dnspod, duckdns, dyndns2, freedns, namecheap, rfc2136, zonefile"
    assert f"use one of: {known}" in error_message(info.value)


def test_record_problems_name_the_entry() -> None:
    records = [
        {"name": "www", "type": "A", "value": "192.0.2.300"},
        {"name": "mail", "type": "MX"},
        {"name": "x", "type": "SOA", "value": "a"},
        {"name": "www", "type": "A", "value": "192.0.2.1"},
        {"name": "y", "type": "A", "value": "192.0.2.1", "ttl": None},  # None = unset (Ansible fills it)
    ]
    with pytest.raises(ConfigError) as info:
        prepare(task(records))
    paths = [p.path for p in info.value.problems]
    assert paths == ["records[0].value", "records[1]", "records[2].type"]
    assert "192.0.2.300" in str(info.value.problems[0])


def test_a_single_record_set_names_the_top_level_options() -> None:
    with pytest.raises(ConfigError) as info:
        prepare(task([{"name": "www", "type": "A", "value": "not-an-ip"}], single=True))
    assert [p.path for p in info.value.problems] == ["value"]
    with pytest.raises(ConfigError) as info:
        prepare(task([{"name": "www", "type": "A"}], single=True))
    assert str(info.value.problems[0]).startswith("record has no 'value'")


def test_absent_may_leave_out_values_but_present_may_not() -> None:
    prepared = prepare(task([{"name": "www", "type": "A"}], state="absent"))
    assert prepared.wanted == {("www.example.test.", "A"): RecordSet("www.example.test.", "A", 3600, frozenset())}
    with pytest.raises(ConfigError):
        prepare(task([{"name": "www", "type": "A"}]))


def test_prune_and_device_names_need_state_present() -> None:
    with pytest.raises(ConfigError) as info:
        prepare(task([], state="absent", prune=True, device_names=["gw.example.test"]))
    assert [p.path for p in info.value.problems] == ["prune", "device_names"]


def test_device_names_must_be_in_the_zone_and_not_declared() -> None:
    records = [{"name": "gw", "type": "A", "value": "192.0.2.1"}]
    with pytest.raises(ConfigError) as info:
        prepare(task(records, device_names=["gw.example.test", "gw.other.test", "ok.EXAMPLE.test."]))
    assert [p.path for p in info.value.problems] == ["device_names[0]", "device_names[1]"]
    prepared = prepare(task([], device_names=["sensor.Example.Test"]))
    assert prepared.registered == {("sensor.example.test.", "A"), ("sensor.example.test.", "AAAA")}


def test_ttl_is_explicit_per_entry_or_for_the_task() -> None:
    records = [
        {"name": "a", "type": "A", "value": "192.0.2.1", "ttl": 60},
        {"name": "b", "type": "A", "value": "192.0.2.2"},
    ]
    prepared = prepare(task(records))
    assert prepared.explicit_ttl == {("a.example.test.", "A")}
    assert prepared.wanted[("b.example.test.", "A")].ttl == 3600
    prepared = prepare(task(records, ttl=120))
    assert len(prepared.explicit_ttl) == 2
    assert prepared.wanted[("b.example.test.", "A")].ttl == 120


# ---- planning ------------------------------------------------------------------------------------


def test_replace_creates_updates_and_leaves_equal_owned_sets() -> None:
    same, old = rs("same"), rs("old", "A", "192.0.2.1")
    current = state([same, old], {same.key: ME, old.key: ME})
    records = [
        {"name": "same", "type": "A", "value": "192.0.2.1", "ttl": 300},
        {"name": "old", "type": "A", "value": ["192.0.2.8", "192.0.2.9"]},
        {"name": "new", "type": "AAAA", "value": "2001:DB8::1"},
    ]
    assert summary(plan(records, current)) == [
        ("create", "new", "AAAA", ["2001:db8::1"], True),
        ("update", "old", "A", ["192.0.2.8", "192.0.2.9"], True),
    ]


def test_an_existing_set_keeps_its_ttl_unless_the_task_gives_one() -> None:
    old = rs("old", "A", "192.0.2.1", ttl=86400)
    current = state([old], {old.key: ME})
    assert plan([{"name": "old", "type": "A", "value": "192.0.2.1"}], current).changes == []
    changes = plan([{"name": "old", "type": "A", "value": "192.0.2.1", "ttl": 60}], current).changes
    assert [(c.before.ttl, c.after.ttl) for c in changes] == [(86400, 60)]


def test_replace_refuses_an_unowned_set_with_other_values_unless_adopt() -> None:
    theirs = rs("theirs", "A", "192.0.2.1")
    wanted = [{"name": "theirs", "type": "A", "value": "192.0.2.2"}]
    with pytest.raises(PlanConflictError) as info:
        plan(wanted, state([theirs]))
    message = error_message(info.value)
    assert "theirs A exists with other values (ttl 300: 192.0.2.1) and is not owned by fleetdns" in message
    assert "adopt: true" in message and "on_existing: keep" in message
    assert summary(plan(wanted, state([theirs]), adopt=True)) == [("adopt", "theirs", "A", ["192.0.2.2"], True)]


def test_an_unowned_set_that_already_matches_is_left_alone_with_a_note() -> None:
    theirs = rs("theirs", "A", "192.0.2.1")
    p = plan([{"name": "theirs", "type": "A", "value": "192.0.2.1", "ttl": 300}], state([theirs]))
    assert p.changes == [] and p.notes == [
        "theirs A exists as wanted but is not owned; left as is (adopt: true takes ownership)"
    ]


def test_another_owner_is_never_touched_not_even_with_adopt() -> None:
    theirs = rs("theirs")
    for kwargs in ({}, {"adopt": True}, {"on_existing": "keep"}, {"state": "absent"}):
        with pytest.raises(PlanConflictError) as info:
            plan(
                [{"name": "theirs", "type": "A", "value": "192.0.2.9"}],
                state([theirs], {theirs.key: "other"}),
                **kwargs,
            )
        assert "theirs A is owned by 'other', not by 'fleet-main'" in error_message(info.value)


def test_keep_adds_values_beside_unowned_ones_and_leaves_them_unowned() -> None:
    txt = rs("@", "TXT", '"v=spf1 -all"', ttl=600)
    p = plan([{"name": "@", "type": "TXT", "value": "verify=abc"}], state([txt]), on_existing="keep")
    assert [
        (c.action, c.before, c.after.sorted_values(), c.after.ttl, c.owned_before, c.owned_after) for c in p.changes
    ] == [("update", txt, ['"v=spf1 -all"', '"verify=abc"'], 600, False, False)]
    # the value is there: nothing to do
    both = rs("@", "TXT", '"v=spf1 -all"', '"verify=abc"', ttl=600)
    assert plan([{"name": "@", "type": "TXT", "value": "verify=abc"}], state([both]), on_existing="keep").changes == []


def test_keep_on_an_owned_set_and_with_adopt() -> None:
    mine = rs("www", "A", "192.0.2.1")
    current = state([mine], {mine.key: ME})
    p = plan([{"name": "www", "type": "A", "value": "192.0.2.2"}], current, on_existing="keep")
    assert summary(p) == [("update", "www", "A", ["192.0.2.1", "192.0.2.2"], True)]
    p = plan([{"name": "www", "type": "A", "value": "192.0.2.2"}], state([mine]), on_existing="keep", adopt=True)
    assert summary(p) == [("adopt", "www", "A", ["192.0.2.1", "192.0.2.2"], True)]


def test_keep_cannot_give_a_cname_a_second_value() -> None:
    cname = rs("www", "CNAME", "gw.example.test.")
    with pytest.raises(PlanConflictError) as info:
        plan([{"name": "www", "type": "CNAME", "value": "other"}], state([cname]), on_existing="keep")
    assert "a CNAME holds one value" in error_message(info.value)


def test_fail_refuses_other_values_and_accepts_the_same() -> None:
    mine = rs("www", "A", "192.0.2.1")
    current = state([mine], {mine.key: ME})
    with pytest.raises(PlanConflictError) as info:
        plan([{"name": "www", "type": "A", "value": "192.0.2.2"}], current, on_existing="fail")
    assert "www A exists with other values (ttl 300: 192.0.2.1) and on_existing is fail" in error_message(info.value)
    assert plan([{"name": "www", "type": "A", "value": "192.0.2.1"}], current, on_existing="fail").changes == []
    assert summary(plan([{"name": "new", "type": "A", "value": "192.0.2.1"}], current, on_existing="fail")) == [
        ("create", "new", "A", ["192.0.2.1"], True)
    ]


def test_absent_deletes_owned_sets_and_refuses_unowned_ones_without_adopt() -> None:
    mine, theirs = rs("mine"), rs("theirs")
    current = state([mine, theirs], {mine.key: ME})
    p = plan([{"name": "mine", "type": "A"}, {"name": "gone", "type": "A"}], current, state="absent")
    assert [(c.action, c.name, c.owned_before, c.owned_after) for c in p.changes] == [
        ("delete", mine.name, True, False)
    ]
    with pytest.raises(PlanConflictError) as info:
        plan([{"name": "theirs", "type": "A"}], current, state="absent")
    assert "theirs A is not owned by fleetdns; set adopt: true to delete it anyway" in error_message(info.value)
    p = plan([{"name": "theirs", "type": "A"}], current, state="absent", adopt=True)
    assert [(c.action, c.before, c.after) for c in p.changes] == [("delete", theirs, None)]


def test_absent_with_values_removes_just_those_values() -> None:
    mine = rs("www", "A", "192.0.2.1", "192.0.2.2")
    theirs = rs("@", "TXT", '"a"', '"b"')
    current = state([mine, theirs], {mine.key: ME})
    p = plan(
        [{"name": "www", "type": "A", "value": "192.0.2.2"}, {"name": "@", "type": "TXT", "value": "b"}],
        current,
        state="absent",
    )
    assert [(c.action, c.name, c.after.sorted_values(), c.owned_before, c.owned_after) for c in p.changes] == [
        ("update", ZONE, ['"a"'], False, False),
        ("update", mine.name, ["192.0.2.1"], True, True),
    ]
    # removing every value removes the set and its ownership; removing absent values does nothing
    p = plan([{"name": "www", "type": "A", "value": ["192.0.2.1", "192.0.2.2", "192.0.2.3"]}], current, state="absent")
    assert [(c.action, c.after, c.owned_after) for c in p.changes] == [("delete", None, False)]
    assert plan([{"name": "www", "type": "A", "value": "192.0.2.7"}], current, state="absent").changes == []


def test_prune_deletes_owned_sets_not_listed_and_nothing_else() -> None:
    owned = [rs(f"h{i}") for i in range(10)]
    theirs = rs("theirs")
    device = rs("gw", "A", "198.51.100.1")
    current = state([*owned, theirs, device], {**{r.key: ME for r in owned}, device.key: ME})
    records = [{"name": f"h{i}", "type": "A", "value": "192.0.2.1", "ttl": 300} for i in range(8)]
    p = plan(records, current, prune=True, device_names=["gw.example.test"])
    assert summary(p) == [
        ("register", "gw", "AAAA", None, True),
        ("delete", "h8", "A", None, False),
        ("delete", "h9", "A", None, False),
    ]
    assert plan(records, current, device_names=["gw.example.test"]).changes[1:] == []


def test_prune_stops_at_the_safety_limit_unless_allowed() -> None:
    owned = [rs(f"h{i}") for i in range(20)]
    current = state(owned, {r.key: ME for r in owned})
    with pytest.raises(SafetyError) as info:
        plan([], current, prune=True)
    assert "prune: zone example.test.: the plan deletes 20 of the 20 record sets" in str(info.value)
    assert "allow_deletes: true" in str(info.value)
    assert len(plan([], current, prune=True, allow_deletes=True).changes) == 20


def test_prune_on_an_incomplete_read_warns() -> None:
    p = plan([], state([], complete=False), prune=True)
    assert p.changes == [] and "prune only saw the record sets of this task" in p.warnings[0]


def test_a_cname_beside_other_data_is_refused() -> None:
    theirs = rs("www", "A", "192.0.2.1")
    with pytest.raises(PlanConflictError) as info:
        plan([{"name": "www", "type": "CNAME", "value": "gw"}], state([theirs]))
    assert "www would hold a CNAME beside A" in error_message(info.value)


names = st.sampled_from(["a", "b", "c", "d"])
values = st.frozensets(st.sampled_from(["192.0.2.1", "192.0.2.2", "192.0.2.3"]), min_size=1)
rrsets = st.builds(lambda n, v, t: RecordSet(f"{n}.{ZONE}", "A", t, v), names, values, st.sampled_from([60, 300]))


@settings(max_examples=200)
@given(
    have=st.lists(rrsets, unique_by=lambda r: r.key),
    want=st.lists(rrsets, unique_by=lambda r: r.key),
    owners=st.dictionaries(names, st.sampled_from([ME, "other"])),
    adopt=st.booleans(),
)
def test_replace_with_prune_plans_exactly_what_fleetdns_plan_does(have, want, owners, adopt) -> None:
    """The module and `fleetdns apply` must leave a zone identical: same changes, same conflicts."""
    current = state(have, {(f"{n}.{ZONE}", "A"): o for n, o in owners.items()})
    records = [{"name": r.name, "type": "A", "value": sorted(r.values), "ttl": r.ttl} for r in want]
    t = task(records, prune=True, adopt=adopt, allow_deletes=True)
    desired = ZoneDesired(ZONE, {r.key: r for r in want})
    try:
        expected = make_zone_plan(desired, current, ME, "files", adopt).changes
    except PlanConflictError as exc:
        with pytest.raises(PlanConflictError) as info:
            plan_task(t, prepare(t), current)
        # the same record sets are in the way (the hints differ: adopt: true vs --adopt)
        assert sorted(c.split(" ")[:2] for c in info.value.conflicts) == sorted(c.split(" ")[:2] for c in exc.conflicts)
        return
    assert plan_task(t, prepare(t), current).changes == expected


@settings(max_examples=200)
@given(
    have=st.lists(rrsets, unique_by=lambda r: r.key),
    want=st.lists(rrsets, unique_by=lambda r: r.key),
    markers=st.dictionaries(names, st.just(ME)),
)
def test_zone_ownership_with_prune_plans_exactly_what_fleetdns_plan_does(have, want, markers) -> None:
    """ownership=zone: the module and `fleetdns apply` on a zone with `ownership: zone` agree."""
    current = state(have, {(f"{n}.{ZONE}", "A"): o for n, o in markers.items()})
    records = [{"name": r.name, "type": "A", "value": sorted(r.values), "ttl": r.ttl} for r in want]
    t = task(records, prune=True, allow_deletes=True, ownership="zone")
    desired = ZoneDesired(ZONE, {r.key: r for r in want})
    expected = make_zone_plan(desired, current, ME, "files", ownership="zone")
    got = plan_task(t, prepare(t), current)
    assert got.changes == expected.changes
    assert got.owned_count == expected.owned_count == len(have)


def test_zone_ownership_deletes_unlisted_sets_keeps_devices_and_refuses_foreign_markers() -> None:
    apex_ns = rs("@", "NS", "ns1.example.test.")
    unlisted, device, kept = rs("old"), rs("gw", "A", "198.51.100.1"), rs("www")
    current = state([apex_ns, unlisted, device, kept])
    records = [{"name": "www", "type": "A", "value": "192.0.2.1", "ttl": 300}]
    p = plan(records, current, prune=True, ownership="zone", device_names=["gw.example.test"])
    assert summary(p) == [("delete", "old", "A", None, False)]  # no register change, apex NS and gw stay
    assert plan(records, current, ownership="zone").changes == []  # without prune nothing is deleted
    theirs = state([kept], {kept.key: "other"})
    with pytest.raises(PlanConflictError) as info:
        plan(records, theirs, ownership="zone")
    assert "www A is marked as owned by 'other'" in error_message(info.value)


def test_zone_ownership_is_checked_against_the_provider() -> None:
    with pytest.raises(ConfigError) as info:
        prepare(RecordTask(provider=CLOUDFLARE, zone="example.test", records=[], ownership="zone"))
    assert "ownership: zone is not available with the cloudflare provider" in error_message(info.value)
    with pytest.raises(ConfigError) as info:
        prepare(task([], ownership="whole"))
    assert "ownership: 'whole' is not one of markers, zone" in error_message(info.value)


# ---- output and front helpers --------------------------------------------------------------------


def test_changes_and_diff_in_ansible_formats() -> None:
    mine = rs("www", "A", "192.0.2.1")
    p = plan([{"name": "www", "type": "A", "value": ["192.0.2.2", "192.0.2.1"]}], state([mine], {mine.key: ME}))
    assert change_dicts(p.changes) == [
        {
            "action": "update",
            "name": "www.example.test.",
            "type": "A",
            "before": {"ttl": 300, "values": ["192.0.2.1"]},
            "after": {"ttl": 300, "values": ["192.0.2.1", "192.0.2.2"]},
            "owned_before": True,
            "owned_after": True,
        }
    ]
    assert diff_entries(p.changes, ME) == [
        {
            "before_header": "www.example.test. A",
            "after_header": "www.example.test. A",
            "before": "www.example.test. 300 IN A 192.0.2.1\n; owned by fleetdns owner 'fleet-main'\n",
            "after": "www.example.test. 300 IN A 192.0.2.1\nwww.example.test. 300 IN A 192.0.2.2\n"
            "; owned by fleetdns owner 'fleet-main'\n",
        }
    ]


def test_provider_argument_spec_covers_every_provider_and_hides_exactly_the_secrets() -> None:
    spec = provider_argument_spec()
    assert spec["type"] == {"type": "str", "required": True}
    for type_name in provider_type_names():  # update-only ones too: they are refused, their secrets hidden
        for key, option in provider_class(type_name).OPTIONS.items():
            assert spec[key]["type"] == "raw"
            if option.secret:
                assert spec[key]["no_log"] is True, key
    assert spec["tsig_secret"]["no_log"] and spec["api_token"]["no_log"]
    assert spec["password"]["no_log"] and spec["token"]["no_log"] and spec["ipv6_token"]["no_log"]
    assert spec["username"]["no_log"] is False
    assert spec["tsig_key_name"]["no_log"] is False and spec["server"]["no_log"] is False


def test_provider_doc_fragment_is_current() -> None:
    """The doc fragment is generated from the registry; a new provider option must be documented."""
    script = Path(__file__).resolve().parents[4] / "scripts" / "provider-doc-fragment"
    loader = importlib.machinery.SourceFileLoader("provider_doc_fragment", str(script))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    fragment = Path(module.TARGET).read_text(encoding="utf-8")
    assert fragment == module.render(), "run scripts/provider-doc-fragment and commit the fragment"


def test_missing_libraries(monkeypatch) -> None:
    assert missing_libraries(RFC2136) == []
    monkeypatch.setattr(record_task, "HAS_DNSPYTHON", False)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "requests" else real(name))
    assert missing_libraries(RFC2136) == ["dnspython"]
    assert missing_libraries({"type": "cloudflare"}) == ["dnspython", "requests"]
    assert missing_libraries("not a dict") == ["dnspython"]


# ---- running on zone files -----------------------------------------------------------------------


def test_run_check_apply_rerun_on_zone_files_with_one_apply_call(tmp_path, monkeypatch) -> None:
    calls = []
    real_apply = ZoneFileProvider.apply

    def counting_apply(self, zone, changes, owner, progress=None):
        calls.append(len(changes))
        return real_apply(self, zone, changes, owner, progress)

    monkeypatch.setattr(ZoneFileProvider, "apply", counting_apply)
    records = [{"name": f"h{i}", "type": "A", "value": f"192.0.2.{i + 1}"} for i in range(50)]
    t = RecordTask(provider=FILES, zone="example.test", records=records, owner=ME, base_dir=str(tmp_path))
    checked = run_task(t, check_mode=True)
    assert len(checked.changes) == 50 and not checked.applied
    assert not (tmp_path / "zones" / "example.test.zone").exists() and calls == []
    (tmp_path / "zones").mkdir()
    applied = run_task(t)
    assert applied.applied and calls == [50]
    text = (tmp_path / "zones" / "example.test.zone").read_text()
    assert (
        "h49\t3600\tIN\tA\t192.0.2.50" in text and 'a.h49._fleetdns\t3600\tIN\tTXT\t"fleetdns-owner=fleet-main"' in text
    )
    again = run_task(t)
    assert again.changes == [] and not again.applied and calls == [50]


def test_zone_ownership_run_on_zone_files_writes_no_marker_and_prunes(tmp_path) -> None:
    (tmp_path / "zones").mkdir()
    records = [{"name": f"h{i}", "type": "A", "value": f"192.0.2.{i + 1}"} for i in range(3)]
    t = RecordTask(
        provider=FILES, zone="example.test", records=records, owner=ME, base_dir=str(tmp_path), ownership="zone"
    )
    assert run_task(t).applied
    path = tmp_path / "zones" / "example.test.zone"
    text = path.read_text()
    assert "h2\t3600\tIN\tA\t192.0.2.3" in text and "_fleetdns" not in text
    path.write_text(text + "stray\t300\tIN\tA\t192.0.2.99\n")
    pruned = run_task(RecordTask(**{**t.__dict__, "prune": True}))
    assert [(c.action, c.name) for c in pruned.changes] == [("delete", "stray.example.test.")]
    assert "stray" not in path.read_text() and "_fleetdns" not in path.read_text()
    assert run_task(RecordTask(**{**t.__dict__, "prune": True})).changes == []


# Every rule at once: several types (CNAME exclusivity, MX targets losing their address), device
# names, markers of another owner, adopt, both ownership modes.
_TYPED_VALUES = {
    "A": ["192.0.2.1", "192.0.2.2"],
    "AAAA": ["2001:db8::1"],
    "CNAME": ["a.example.test.", "c.example.test."],
    "MX": ["10 a.example.test.", "20 b.example.test."],
}
typed_rrsets = st.sampled_from(sorted(_TYPED_VALUES)).flatmap(
    lambda rtype: st.builds(
        lambda n, v, t: RecordSet(f"{n}.{ZONE}", rtype, t, v),
        names,
        st.frozensets(st.sampled_from(_TYPED_VALUES[rtype]), min_size=1, max_size=1 if rtype == "CNAME" else 2),
        st.sampled_from([60, 300]),
    )
)


@settings(max_examples=300)
@given(
    have=st.lists(typed_rrsets, unique_by=lambda r: r.key),
    want=st.lists(typed_rrsets, unique_by=lambda r: r.key),
    owners=st.lists(st.tuples(typed_rrsets, st.sampled_from([ME, "other"]))),
    devices=st.sets(names, max_size=2),
    adopt=st.booleans(),
    whole_zone=st.booleans(),
)
def test_the_module_and_the_cli_share_every_rule(have, want, owners, devices, adopt, whole_zone) -> None:
    """replace + prune + present is what an inventory zone means: the module's plan of it is the
    CLI's plan, change for change and conflict for conflict, whatever the zone holds."""
    assume(not cname_conflicts({r.key for r in want}))  # an invalid inventory / task: refused before planning
    current = state(have, {r.key: o for r, o in owners if r.key in {h.key for h in have}})
    ownership = "zone" if whole_zone else "markers"
    wanted_names = {r.name for r in want}
    device_names = [f"{n}.{ZONE}" for n in sorted(devices) if f"{n}.{ZONE}" not in wanted_names]
    registered = {(name, rtype) for name in device_names for rtype in ("A", "AAAA")}
    records = [{"name": r.name, "type": r.type, "value": sorted(r.values), "ttl": r.ttl} for r in want]
    t = task(records, prune=True, adopt=adopt, allow_deletes=True, ownership=ownership, device_names=device_names)
    desired = ZoneDesired(ZONE, {r.key: r for r in want}, registered)
    try:
        expected = make_zone_plan(desired, current, ME, "files", adopt, ownership)
    except PlanConflictError as exc:
        with pytest.raises(PlanConflictError) as info:
            plan_task(t, prepare(t), current)
        # the same record sets are in the way (the hints differ: adopt: true vs --adopt)
        assert sorted(c.split(" ")[:2] for c in info.value.conflicts) == sorted(c.split(" ")[:2] for c in exc.conflicts)
        return
    got = plan_task(t, prepare(t), current)
    assert got.changes == expected.changes
    assert got.owned_count == expected.owned_count


def test_a_device_name_over_an_unowned_address_is_a_conflict_unless_adopt() -> None:
    theirs = rs("mail", "A", "192.0.2.25")
    current = state([theirs])
    with pytest.raises(PlanConflictError) as info:
        plan([], current, device_names=["mail.example.test"])
    assert info.value.conflicts == [
        "mail A exists (ttl 300: 192.0.2.25) and is not owned by fleetdns, but mail is a device name; remove the "
        "record, or set adopt: true to take it over"
    ]
    adopted = plan([], current, device_names=["mail.example.test"], adopt=True)
    assert summary(adopted) == [("adopt", "mail", "A", ["192.0.2.25"], True), ("register", "mail", "AAAA", None, True)]
    # prune without the device name deletes nothing that is not ours
    assert plan([], current, prune=True).changes == []


def test_device_names_under_zone_ownership_register_nothing() -> None:
    theirs = rs("mail", "A", "192.0.2.25")
    assert plan([], state([theirs]), device_names=["mail.example.test"], ownership="zone").changes == []


LONG = ".".join(["a" * 60] * 3) + "." + "b" * 44  # 227 characters: in example.test its AAAA marker needs 257 octets


def test_the_task_is_held_to_dns_limits_and_the_providers_own() -> None:
    huge = [{"name": "big", "type": "TXT", "value": "x" * 70_000}]
    with pytest.raises(ConfigError) as info:
        prepare(task(huge))
    assert [p.path for p in info.value.problems] == ["records[0].value"]
    assert "more than the 65,535 one record can hold" in info.value.problems[0].message
    wide = [{"name": "t", "type": "TXT", "value": "x" * 5000}]
    prepare(task(wide))  # a zone file takes it, Cloudflare does not
    with pytest.raises(ConfigError) as info:
        prepare(RecordTask(provider=dict(CLOUDFLARE), zone="example.test", records=wide, owner=ME))
    assert "the cloudflare provider 'dns_record' takes at most 4,096" in info.value.problems[0].message


def test_marker_names_must_fit_where_markers_are_written() -> None:
    records = [{"name": LONG, "type": "AAAA", "value": "2001:db8::1"}]
    with pytest.raises(ConfigError) as info:
        prepare(task(records))
    assert info.value.problems[0].path == "records[0].name" and "ownership marker" in str(info.value)
    prepare(task(records, ownership="zone"))  # no markers: the name itself fits
    prepare(RecordTask(provider=dict(CLOUDFLARE), zone="example.test", records=records, owner=ME))  # comments
    with pytest.raises(ConfigError) as info:
        prepare(task([], device_names=[f"{LONG}.example.test", "x..example.test", "a\nb.example.test"]))
    assert [p.path for p in info.value.problems] == ["device_names[0]", "device_names[1]", "device_names[2]"]
    assert "ownership marker" in info.value.problems[0].message


def test_an_update_only_provider_takes_one_names_addresses_with_state_present() -> None:
    noip = {"type": "dyndns2", "username": "u@example.test", "password": "Secret-Password-99"}
    base = {"provider": noip, "zone": "example.test", "records": [{"name": "gw", "type": "A", "value": "192.0.2.1"}]}
    prepared = prepare(RecordTask(**base))
    assert prepared.provider.type == "dyndns2" and set(prepared.wanted) == {("gw.example.test.", "A")}
    for extra, path in (
        ({"state": "absent"}, "state"),
        ({"prune": True}, "prune"),
        ({"device_names": ["x.example.test"]}, "device_names"),
        ({"on_existing": "keep"}, "on_existing"),
        ({"ownership": "zone"}, "ownership"),
        ({"records": [{"name": "gw", "type": "TXT", "value": "x"}]}, "records[0].type"),
        ({"records": [{"name": n, "type": "A", "value": "192.0.2.1"} for n in ("a", "b")]}, "records"),
    ):  # fmt: skip
        with pytest.raises(ConfigError) as caught:
            prepare(RecordTask(**{**base, **extra}))
        assert path in [p.path for p in caught.value.problems], (extra, caught.value.problems)
        assert "Secret-Password-99" not in error_message(caught.value)
