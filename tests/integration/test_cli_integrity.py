"""A record pointing at a name of its own zone that has no address is refused at plan time, before
anything reaches the server that would refuse it: a real BIND refuses the whole UPDATE; zone files
take it with a warning (BIND loads such a file, warning too). A device name as target waits for its agent's
address."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from integration.test_cli import EXAMPLE, bind_env, bind_inventory, load, ok, run, save, zone_records

BACKUP_MX = "@ MX points at backup-mx, which would have no address record (A/AAAA) in the zone"


def add_backup_mx(inventory: Path) -> None:
    data = load(inventory)
    for record in zone_records(data):
        if record["type"] == "MX":
            record["value"] = ["10 mail.example.test.", "20 backup-mx.example.test."]
    save(inventory, data)


def updates_seen(bind: Any) -> int:
    return sum(1 for line in bind.log_text().splitlines() if "updating zone" in line)


def test_bind_never_receives_an_mx_whose_target_has_no_address(tmp_path: Path, bind: Any) -> None:
    add_backup_mx(bind_inventory(tmp_path, bind))
    env = bind_env(bind)
    before, sent = bind.axfr_text(), updates_seen(bind)
    for command in ("plan", "apply"):
        proc = ok(run(command, "-i", "hosts.yml", cwd=tmp_path, env=env), 1)
        assert BACKUP_MX in proc.stderr, proc.stderr
        assert "add an address for backup-mx, or point the record elsewhere" in proc.stderr
    assert bind.axfr_text() == before
    assert updates_seen(bind) == sent  # not one UPDATE message went out

    # the fix the message names: an address for backup-mx, and the same apply goes through
    data = load(tmp_path / "hosts.yml")
    zone_records(data).append({"name": "backup-mx", "type": "A", "value": "192.0.2.27"})
    save(tmp_path / "hosts.yml", data)
    ok(run("apply", "-i", "hosts.yml", cwd=tmp_path, env=env))
    assert bind.query("example.test.", "MX") == {"10 mail.example.test.", "20 backup-mx.example.test."}
    assert updates_seen(bind) > sent


def test_a_device_name_as_target_waits_for_its_agent(tmp_path: Path, bind: Any) -> None:
    inventory = bind_inventory(tmp_path, bind)
    data = load(inventory)
    data["all"]["children"]["fleetdns_clients"]["hosts"]["backup-mx"] = {"fleetdns_names": ["backup-mx.example.test"]}
    save(inventory, data)
    env = bind_env(bind)
    ok(run("apply", "-i", "hosts.yml", cwd=tmp_path, env=env))  # registers the device name
    add_backup_mx(inventory)
    proc = ok(run("plan", "-i", "hosts.yml", cwd=tmp_path, env=env), 1)
    assert "apply this once backup-mx's agent has set its address" in proc.stderr, proc.stderr
    bind.nsupdate("update add backup-mx.example.test. 60 A 192.0.2.27")  # what the device's agent does
    ok(run("apply", "-i", "hosts.yml", cwd=tmp_path, env=env))
    assert "20 backup-mx.example.test." in bind.query("example.test.", "MX")
    assert bind.query("backup-mx.example.test.", "A") == {"192.0.2.27"}  # the agent's value, untouched


def test_zone_files_take_it_with_a_warning_as_bind_loads_such_a_file(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "hosts.yml")
    add_backup_mx(tmp_path / "hosts.yml")
    proc = ok(run("apply", "-i", "hosts.yml", cwd=tmp_path))
    assert "@ MX points at backup-mx, which would have no address record in the zone" in proc.stdout + proc.stderr
    assert "20 backup-mx.example.test." in (tmp_path / "zones" / "example.test.zone").read_text()
