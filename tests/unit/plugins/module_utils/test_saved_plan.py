"""saved_plan: a plan file is parsed strictly, checked against the inventory and a plan made now,
and only the plan made now is handed back to be applied."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils import saved_plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.config import FleetConfig, validate
from ansible_collections.fleetdns.ddns.plugins.module_utils.engine import Providers, make_plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import FleetDNSError
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import Change, Plan, ZonePlan
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet

ZONE = "example.test."
VERSION = "1.2.3"
KEY = "a-key-of-enough-length-0123"


def config(tmp_path: Path, value: str = "192.0.2.1") -> FleetConfig:
    return validate(
        {
            "fleetdns_owner": "fleet-main",
            "fleetdns_providers": {"files": {"type": "zonefile", "directory": str(tmp_path / "zones")}},
            "fleetdns_zones": {
                "example.test": {"provider": "files", "records": [{"name": "www", "type": "A", "value": value}]}
            },
        },
        {},
    )


def saved_file(tmp_path: Path, key: str | None = None, edit: Any = None) -> str:
    """A plan saved now for config(), optionally edited as JSON; returns its path."""
    cfg = config(tmp_path)
    with Providers(cfg, str(tmp_path)) as providers:
        plan = make_plan(cfg, providers, list(cfg.zones))
    data = json.loads(saved_plan.saved_plan_text(plan, cfg, VERSION, key))
    if edit:
        edit(data)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data))
    return str(path)


def checked(tmp_path: Path, path: str, key: str | None = None, value: str = "192.0.2.1") -> Plan:
    cfg = config(tmp_path, value)
    with Providers(cfg, str(tmp_path)) as providers:
        return saved_plan.make_checked_plan(saved_plan.read_saved_plan(path, VERSION, key), cfg, providers)


def test_an_unchanged_plan_comes_back_made_afresh(tmp_path: Path) -> None:
    path = saved_file(tmp_path)
    saved = saved_plan.read_saved_plan(path, VERSION)
    fresh = checked(tmp_path, path)
    assert fresh is not saved.plan and fresh.to_dict() == saved.plan.to_dict()
    assert [c.action for c in fresh.zones[0].changes] == ["create"]


def test_an_edited_value_is_refused_naming_the_record_and_both_values(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["zones"][0]["changes"][0]["after"]["values"] = ["203.0.113.7"]

    with pytest.raises(FleetDNSError) as refused:
        checked(tmp_path, saved_file(tmp_path, edit=edit))
    assert "plan.json does not match the plan made now from the inventory and the DNS (1 difference)" in str(
        refused.value
    )
    assert f"{ZONE} www A: after is ttl 3600: 203.0.113.7 in the file, ttl 3600: 192.0.2.1 now" in str(refused.value)


def test_an_inventory_change_is_refused_before_the_dns_is_read(tmp_path: Path) -> None:
    with pytest.raises(FleetDNSError, match=r"the inventory changed since .*plan.json was made \(example.test.: its"):
        checked(tmp_path, saved_file(tmp_path), value="192.0.2.2")


def rrset(name: str, *values: str) -> RecordSet:
    return RecordSet(f"{name}.{ZONE}", "A", 300, frozenset(values))


def one_zone(*changes: Change, provider: str = "files", ownership: str = "markers") -> Plan:
    return Plan("fleet-main", [ZonePlan(ZONE, provider, list(changes), ownership=ownership)])


def test_differences_name_each_field_and_each_missing_or_extra_change() -> None:
    create = Change("create", f"a.{ZONE}", "A", None, rrset("a", "192.0.2.1"), False, True)
    update = Change("update", f"b.{ZONE}", "A", rrset("b", "192.0.2.1"), rrset("b", "192.0.2.2"), True, True)
    claimed = one_zone(
        Change("update", f"a.{ZONE}", "A", rrset("a", "192.0.2.9"), rrset("a", "192.0.2.1"), True, True),
        Change("delete", f"c.{ZONE}", "A", rrset("c", "192.0.2.3"), None, False, False),
        provider="other",
    )
    found = saved_plan.differences(claimed, one_zone(create, update))
    assert found == [
        f"zone {ZONE}: provider is 'other' in the file, 'files' now",
        f"{ZONE} a A: action is 'update' in the file, 'create' now",
        f"{ZONE} a A: before is ttl 300: 192.0.2.9 in the file, nothing now",
        f"{ZONE} a A: owned_before is true in the file, false now",
        f"{ZONE} b A: a plan made now would update it; the file has no change for it",
        f"{ZONE} c A: the file would delete it; a plan made now leaves it alone",
    ]
    assert saved_plan.differences(one_zone(create, update), one_zone(create, update)) == []


def test_a_long_value_is_shortened_in_a_difference() -> None:
    long = Change(
        "create", f"a.{ZONE}", "TXT", None, RecordSet(f"a.{ZONE}", "TXT", 300, frozenset({"x" * 5000})), False, True
    )
    short = Change(
        "create", f"a.{ZONE}", "TXT", None, RecordSet(f"a.{ZONE}", "TXT", 300, frozenset({"y"})), False, True
    )
    (line,) = saved_plan.differences(one_zone(long), one_zone(short))
    assert "(5009 characters) in the file" in line and len(line) < 200


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["zones"][0]["changes"][0].update(owned_after=1),
            "zones[0].changes[0].owned_after: expected true or false, found 1",
        ),
        (
            lambda d: d["zones"][0]["changes"][0]["after"].update(ttl=3.5),
            "zones[0].changes[0].after.ttl: expected a whole number, found 3.5",
        ),
        (
            lambda d: d["zones"][0]["changes"][0]["after"].update(values=[1]),
            "zones[0].changes[0].after.values[0]: expected a string, found a number",
        ),
        (
            lambda d: d["zones"][0]["changes"][0].update(name="a\nb"),
            r"zones[0].changes[0].name: not a DNS name: 'a\nb'",
        ),
        (lambda d: d["zones"][0]["changes"][0].pop("before"), "zones[0].changes[0]: missing before"),
        (lambda d: d["zones"][0].update(ownership="bogus"), "zones[0].ownership: unknown ownership 'bogus'"),
        (lambda d: d["zones"].append(d["zones"][0]), "zones: a zone is listed twice"),
        (lambda d: d["saved"].update(targets={}), "saved.targets: does not hold one digest for each zone of the plan"),
        (lambda d: d["saved"].update(format=2), "saved.format: format 2, this fleetdns reads 1"),
        (lambda d: d.update(owner=["x"]), "owner: expected a string, found a list"),
    ],
)
def test_damage_is_located(tmp_path: Path, edit: Any, message: str) -> None:
    with pytest.raises(FleetDNSError) as refused:
        saved_plan.read_saved_plan(saved_file(tmp_path, edit=edit), VERSION)
    assert f"plan.json is damaged: {message}" in str(refused.value)


def test_another_version_and_another_owner_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FleetDNSError, match=re.escape("it was made by fleetdns 1.2.3, this is 9.9")):
        saved_plan.read_saved_plan(saved_file(tmp_path), "9.9")
    other = saved_plan.read_saved_plan(saved_file(tmp_path, edit=lambda d: d.update(owner="fleet-b")), VERSION)
    with pytest.raises(FleetDNSError, match="made for owner id 'fleet-b', but the inventory now says 'fleet-main'"):
        saved_plan.check_inventory(other, config(tmp_path))


@pytest.mark.parametrize("content", [{"saved": 5}, [], {"zones": []}])
def test_json_that_is_no_saved_plan_says_so(tmp_path: Path, content: Any) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(content))
    with pytest.raises(FleetDNSError, match="is not a plan saved by `fleetdns plan --out`"):
        saved_plan.read_saved_plan(str(path), VERSION)


def test_signatures(tmp_path: Path) -> None:
    signed = saved_file(tmp_path, key=KEY)
    assert checked(tmp_path, signed, key=KEY).has_changes
    with pytest.raises(FleetDNSError, match="signature does not match"):
        saved_plan.read_saved_plan(signed, VERSION, "another-key-of-enough-length")
    with pytest.raises(FleetDNSError, match="is signed, but FLEETDNS_PLAN_SECRET is not set here"):
        saved_plan.read_saved_plan(signed, VERSION)
    edited = saved_file(tmp_path, key=KEY, edit=lambda d: d.update(owner="fleet-b"))
    with pytest.raises(FleetDNSError, match="the file was changed after it was signed"):
        saved_plan.read_saved_plan(edited, VERSION, KEY)
    with pytest.raises(FleetDNSError, match="is not signed, and FLEETDNS_PLAN_SECRET is set"):
        saved_plan.read_saved_plan(saved_file(tmp_path), VERSION, KEY)
    with pytest.raises(FleetDNSError, match="too short to sign plans with"):
        saved_file(tmp_path, key="short")


def test_many_differences_are_counted_not_all_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def edit(data: dict) -> None:
        change = data["zones"][0]["changes"][0]
        data["zones"][0]["changes"] = [
            {**change, "name": f"h{i}.{ZONE}", "after": {**change["after"], "name": f"h{i}.{ZONE}"}} for i in range(25)
        ]

    with pytest.raises(FleetDNSError) as refused:
        checked(tmp_path, saved_file(tmp_path, edit=edit))
    text = str(refused.value)
    assert "(26 differences)" in text and "  - ... and 16 more" in text
    assert text.count("\n  - ") == saved_plan.SHOWN_DIFFERENCES + 1
