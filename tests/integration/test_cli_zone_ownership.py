"""`ownership: zone` end to end with the real `fleetdns` command: the inventory owns the whole zone
(octoDNS semantics) on a real BIND (rfc2136) and on zone files. No ownership marker is read or
written, record sets the inventory does not list are deleted (under the delete guard), the SOA and an
undeclared apex NS are left alone, device addresses are kept, markers of another owner id stop the
plan, and a concurrent writer between `plan --out` and `apply --plan` gets the saved plan refused.

The lab zone holds `@ NS ns1` and `ns1 A 127.0.0.1`: a zone owned whole must list `ns1 A` (BIND
refuses to remove the address of an in-zone NS target), so every inventory here does.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from integration.test_cli import EXAMPLE, dig, load, ok, run, save

ZONE = "example.test."
MARKERS = re.compile(r"^\S*_fleetdns\.example\.test\.\s", re.MULTILINE)


def zone_settings(data: dict) -> dict:
    return data["all"]["vars"]["fleetdns_zones"]["example.test"]


def zone_inventory(directory: Path, bind: Any | None = None, ownership: str | None = "zone") -> Path:
    """hosts.example.yml owning the whole zone: on the lab's BIND when `bind` is given (secret via
    lookup('env')), else on zone files; `ns1 A` as the lab has it, the apex NS not declared."""
    data = load(EXAMPLE)
    all_vars = data["all"]["vars"]
    zone = zone_settings(data)
    if bind is not None:
        options = bind.provider_options()
        options["tsig_secret"] = "{{ lookup('env', 'FLEETDNS_TEST_TSIG') }}"
        all_vars["fleetdns_providers"] = {"lab": options}
        zone["provider"] = "lab"
    else:
        del all_vars["fleetdns_providers"]
    if ownership is not None:
        zone["ownership"] = ownership
    records = [r for r in zone["records"] if r["type"] != "NS"]
    for record in records:
        if record["name"] == "ns1":
            record["value"] = "127.0.0.1"
    zone["records"] = records
    path = directory / "hosts.yml"
    save(path, data)
    return path


def set_record(inventory: Path, name: str, value: str) -> None:
    data = load(inventory)
    for record in zone_settings(data)["records"]:
        if record["name"] == name:
            record["value"] = value
    save(inventory, data)


def soa_without_serial(bind: Any) -> list[str]:
    (soa,) = bind.query(ZONE, "SOA")
    fields = soa.split()
    return fields[:2] + fields[3:]


@pytest.fixture
def lab_env(bind: Any) -> dict[str, str]:
    return {"FLEETDNS_TEST_TSIG": bind.keys["admin"].secret}


# ---------------------------------------------------------------- real BIND, rfc2136 provider


def test_bind_zone_owned_whole_round_trip_without_markers(tmp_path: Path, bind: Any, lab_env: dict) -> None:
    zone_inventory(tmp_path, bind)
    soa_before = soa_without_serial(bind)

    def fleetdns(*argv: str, code: int = 0) -> subprocess.CompletedProcess:
        return ok(run(*argv, "-i", "hosts.yml", cwd=tmp_path, env=lab_env), code)

    plan = fleetdns("plan", "--detailed-exitcode", code=2)
    assert "zone example.test. (provider lab, owned whole)" in plan.stdout
    assert "Plan: 7 to create (in 1 zone)." in plan.stdout  # ns1 A is there as listed; no register
    assert "register" not in plan.stdout and "ns1" not in plan.stdout
    data = json.loads(fleetdns("plan", "--json").stdout)
    assert data["zones"][0]["ownership"] == "zone" and data["zones"][0]["owned_count"] == 1

    fleetdns("apply")
    assert dig(bind, "mail.example.test.", "A") == ["192.0.2.25"]
    assert bind.query("www.example.test.", "CNAME") == {"gw.example.test."}
    assert bind.query("sip.example.test.", "AAAA") == {"2001:db8::5060"}
    axfr = bind.axfr_text()
    assert "_fleetdns" not in axfr, axfr
    assert bind.query(ZONE, "NS") == {"ns1.example.test."}  # undeclared apex NS: left alone
    assert soa_without_serial(bind) == soa_before  # only BIND's own serial bump
    assert "No changes." in fleetdns("plan", "--detailed-exitcode").stdout

    # a record set added behind fleetdns' back is not in the inventory: planned for deletion, then gone
    bind.nsupdate('update add handmade.example.test. 300 TXT "added by nsupdate"')
    # a device's agent reports its address: kept, never deleted, never registered
    bind.nsupdate("update add gw.example.test. 300 A 198.51.100.7")
    plan = fleetdns("plan", "--detailed-exitcode", code=2)
    assert "- delete   handmade TXT (ttl 300)" in plan.stdout
    assert "Plan: 1 to delete (in 1 zone)." in plan.stdout
    applied = fleetdns("apply", "--yes")
    assert "example.test. (lab): 1 deleted" in applied.stdout
    assert bind.query("handmade.example.test.", "TXT") == set()
    assert bind.query("gw.example.test.", "A") == {"198.51.100.7"}
    assert bind.query("ns1.example.test.", "A") == {"127.0.0.1"}
    assert bind.query(ZONE, "NS") == {"ns1.example.test."}
    assert "_fleetdns" not in bind.axfr_text()
    assert "No changes." in fleetdns("plan", "--detailed-exitcode").stdout


def test_bind_declared_apex_ns_is_managed(tmp_path: Path, bind: Any, lab_env: dict) -> None:
    inventory = zone_inventory(tmp_path, bind)
    data = load(inventory)
    zone_settings(data)["records"].append({"name": "@", "type": "NS", "value": ["ns1", "ns2.example.net."]})
    save(inventory, data)
    plan = ok(run("plan", "-i", "hosts.yml", cwd=tmp_path, env=lab_env))
    assert "~ update   @ NS (ttl 300)\n        ns1.example.test.\n      + ns2.example.net.\n" in plan.stdout
    ok(run("apply", "-i", "hosts.yml", cwd=tmp_path, env=lab_env))
    assert bind.query(ZONE, "NS") == {"ns1.example.test.", "ns2.example.net."}
    assert "_fleetdns" not in bind.axfr_text()


@pytest.mark.parametrize("planned", ["update", "delete"])
def test_bind_concurrent_change_between_saved_plan_and_apply(
    tmp_path: Path, bind: Any, lab_env: dict, planned: str
) -> None:
    inventory = zone_inventory(tmp_path, bind)
    ok(run("apply", "-i", "hosts.yml", cwd=tmp_path, env=lab_env))
    if planned == "update":
        set_record(inventory, "mail", "192.0.2.26")
        name, rtype, theirs = "mail.example.test.", "A", "203.0.113.9"
    else:
        bind.nsupdate('update add handmade.example.test. 300 TXT "first"')
        name, rtype, theirs = "handmade.example.test.", "TXT", '"second"'
    label = f"{name.split('.', maxsplit=1)[0]} {rtype}"  # as plans and errors name it
    saved = ok(run("plan", "-i", "hosts.yml", "--out", "plan.json", cwd=tmp_path, env=lab_env))
    assert f"{planned}   {label}" in saved.stdout
    bind.nsupdate(f"update delete {name} {rtype}\nupdate add {name} 3600 {rtype} {theirs}")
    zone_before = bind.axfr_text()

    failed = ok(run("apply", "-i", "hosts.yml", "--plan", "plan.json", cwd=tmp_path, env=lab_env), 1)
    assert f"{ZONE} {label}: before is " in failed.stderr and f"{theirs} now" in failed.stderr
    assert "nothing was sent" in failed.stderr
    assert bind.query(name, rtype) == {theirs}  # the other writer's value stands
    assert bind.axfr_text() == zone_before  # and nothing else moved, no marker either


def test_bind_marker_of_another_owner_stops_the_plan(tmp_path: Path, bind: Any, lab_env: dict) -> None:
    zone_inventory(tmp_path, bind)
    bind.nsupdate(
        "update add www.example.test. 300 A 192.0.2.80\n"
        'update add a.www._fleetdns.example.test. 3600 TXT "fleetdns-owner=fleet-other"'
    )
    zone_before = bind.axfr_text()
    plan = ok(run("plan", "-i", "hosts.yml", cwd=tmp_path, env=lab_env), 1)
    assert "www A is marked as owned by 'fleet-other'" in plan.stderr
    assert "ownership: zone" in plan.stderr
    applied = ok(run("apply", "-i", "hosts.yml", "--yes", "--allow-deletes", cwd=tmp_path, env=lab_env), 1)
    assert "fleet-other" in applied.stderr
    assert bind.axfr_text() == zone_before


def test_bind_markers_left_from_marker_ownership_are_noted_and_left(tmp_path: Path, bind: Any, lab_env: dict) -> None:
    inventory = zone_inventory(tmp_path, bind, ownership=None)  # marker ownership first
    ok(run("apply", "-i", "hosts.yml", cwd=tmp_path, env=lab_env))
    markers_before = sorted(MARKERS.findall(bind.axfr_text()))
    assert len(markers_before) > 7  # 7 record sets and the registered device names

    zone_inventory(tmp_path, bind)  # the same records, now owning the whole zone
    set_record(inventory, "mail", "192.0.2.26")
    plan = ok(run("plan", "-i", "hosts.yml", cwd=tmp_path, env=lab_env))
    assert f"{len(markers_before)} ownership marker(s) of 'fleet-main' remain under _fleetdns.example.test." in (
        plan.stdout
    )
    assert "Plan: 1 to update (in 1 zone)." in plan.stdout  # the markers are not record sets to delete
    ok(run("apply", "-i", "hosts.yml", "--yes", cwd=tmp_path, env=lab_env))
    assert bind.query("mail.example.test.", "A") == {"192.0.2.26"}
    assert sorted(MARKERS.findall(bind.axfr_text())) == markers_before  # neither written nor deleted


# ---------------------------------------------------------------- zone files (the default backend)


def zone_file(directory: Path) -> Path:
    return directory / "zones" / "example.test.zone"


def test_zone_files_delete_guard_counts_every_record_set_of_the_zone(tmp_path: Path) -> None:
    zone_inventory(tmp_path)
    ok(run("apply", "-i", "hosts.yml", cwd=tmp_path))
    path = zone_file(tmp_path)
    with path.open("a") as handle:
        for i in range(6):
            handle.write(f"legacy{i} 300 IN A 192.0.2.{100 + i}\n")
    before = path.read_bytes()

    # 6 of the 14 owned: 8 listed + 6 hand-made (not the SOA, not the provider's apex NS)
    plan = ok(run("plan", "-i", "hosts.yml", "--detailed-exitcode", cwd=tmp_path), 1)
    assert "Plan: 6 to delete (in 1 zone)." in plan.stdout and "- delete   legacy5 A" in plan.stdout
    assert "deletes 6 of the 14 record sets fleetdns owns (43%)" in plan.stderr
    refused = ok(run("apply", "-i", "hosts.yml", "--yes", cwd=tmp_path), 1)
    assert "deletes 6 of the 14 record sets fleetdns owns (43%)" in refused.stderr
    assert path.read_bytes() == before
    done = ok(run("apply", "-i", "hosts.yml", "--yes", "--allow-deletes", cwd=tmp_path))
    assert "6 deleted" in done.stdout
    assert "legacy" not in path.read_text() and "_fleetdns" not in path.read_text()
    ok(run("plan", "-i", "hosts.yml", "--detailed-exitcode", cwd=tmp_path))


def test_saved_plan_is_refused_after_ownership_changes_or_is_tampered_with(tmp_path: Path) -> None:
    inventory = zone_inventory(tmp_path)
    ok(run("plan", "-i", "hosts.yml", "--out", "plan.json", cwd=tmp_path))
    saved = json.loads((tmp_path / "plan.json").read_text())
    assert saved["zones"][0]["ownership"] == "zone"
    original = inventory.read_text()

    zone_inventory(tmp_path, ownership="markers")
    stale = ok(run("apply", "-i", "hosts.yml", "--plan", "plan.json", cwd=tmp_path), 1)
    assert "the inventory changed since plan.json was made" in stale.stderr
    assert not (tmp_path / "zones").exists()

    inventory.write_text(original)
    saved["zones"][0]["ownership"] = "bogus"
    (tmp_path / "bogus.json").write_text(json.dumps(saved))
    damaged = ok(run("apply", "-i", "hosts.yml", "--plan", "bogus.json", cwd=tmp_path), 1)
    assert "bogus.json is damaged" in damaged.stderr and "unknown ownership 'bogus'" in damaged.stderr
    assert not (tmp_path / "zones").exists()

    ok(run("apply", "-i", "hosts.yml", "--plan", "plan.json", cwd=tmp_path))
    text = zone_file(tmp_path).read_text()
    assert re.search(r"^mail\s+3600\s+IN\s+A\s+192\.0\.2\.25$", text, re.MULTILINE)
    assert "_fleetdns" not in text
    assert "No changes." in ok(run("plan", "-i", "hosts.yml", cwd=tmp_path)).stdout
