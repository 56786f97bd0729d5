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


# ---- targets inside another zone of the inventory


def add_mail_zone(inventory: Path, provider: str | None = None, strict: bool = False, device: bool = False) -> None:
    """example.test.'s MX moves to mx.mail.test., a sibling zone of the inventory that holds no
    address for it (unless `device`: a host's fleetdns_names gives it one)."""
    data = load(inventory)
    all_vars = data["all"]["vars"]
    for record in zone_records(data):
        if record["type"] == "MX":
            record["value"] = ["10 mx.mail.test."]
    mail: dict[str, Any] = {"records": [{"name": "@", "type": "TXT", "value": "v=spf1 -all"}]}
    if provider:
        mail["provider"] = provider
    all_vars["fleetdns_zones"]["mail.test"] = mail
    if strict:
        all_vars["fleetdns_zones"]["example.test"]["strict_checks"] = True
    if device:
        data["all"]["children"]["fleetdns_clients"]["hosts"]["mx"] = {"fleetdns_names": ["mx.mail.test"]}
    save(inventory, data)


CROSS = "@ MX points at mx.mail.test. (zone mail.test.), which would have no address record (A/AAAA) there"


def test_a_target_in_another_zone_is_refused_before_bind_sees_anything(tmp_path: Path, bind: Any) -> None:
    inventory = bind_inventory(tmp_path, bind)
    add_mail_zone(inventory)  # mail.test. on zone files, example.test. on BIND
    env = bind_env(bind)
    before, sent = bind.axfr_text(), updates_seen(bind)
    proc = ok(run("apply", "-i", "hosts.yml", cwd=tmp_path, env=env), 1)
    assert CROSS in proc.stderr and "add an address for mx in mail.test." in proc.stderr, proc.stderr
    assert "error: zone example.test. (lab) could not be planned" in proc.stderr
    assert bind.axfr_text() == before and updates_seen(bind) == sent  # not one UPDATE message
    assert (tmp_path / "zones" / "mail.test.zone").exists()  # the other zone still applied

    add_mail_zone(inventory, device=True)  # a device's agent will provide the address: it passes
    ok(run("apply", "-i", "hosts.yml", cwd=tmp_path, env=env))
    assert bind.query("example.test.", "MX") == {"10 mx.mail.test."}


def test_zone_files_warn_about_a_target_in_another_zone_unless_strict(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "hosts.yml")
    add_mail_zone(tmp_path / "hosts.yml")
    proc = ok(run("plan", "-i", "hosts.yml", cwd=tmp_path))
    assert CROSS in proc.stdout + proc.stderr
    add_mail_zone(tmp_path / "hosts.yml", strict=True)
    proc = ok(run("apply", "-i", "hosts.yml", cwd=tmp_path), 1)
    assert CROSS in proc.stderr and "could not be planned" in proc.stderr
    assert not (tmp_path / "zones" / "example.test.zone").exists()  # strict: refused, nothing written


def test_strict_checks_must_be_a_boolean(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "hosts.yml")
    data = load(tmp_path / "hosts.yml")
    data["all"]["vars"]["fleetdns_zones"]["example.test"]["strict_checks"] = "yes please"
    save(tmp_path / "hosts.yml", data)
    proc = ok(run("validate", "-i", "hosts.yml", cwd=tmp_path), 1)
    assert "hosts.yml:" in proc.stderr and "strict_checks must be true or false" in proc.stderr


def test_strict_checks_make_an_srv_without_an_address_an_error_on_zone_files(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "hosts.yml")
    data = load(tmp_path / "hosts.yml")
    records = zone_records(data)
    records[:] = [r for r in records if r["name"] != "sip"]  # _sip._tcp SRV now points at nothing
    save(tmp_path / "hosts.yml", data)
    warned = ok(run("plan", "-i", "hosts.yml", cwd=tmp_path))
    srv = "_sip._tcp SRV points at sip, which would have no address record"
    assert srv in warned.stdout + warned.stderr
    data["all"]["vars"]["fleetdns_zones"]["example.test"]["strict_checks"] = True
    save(tmp_path / "hosts.yml", data)
    refused = ok(run("plan", "-i", "hosts.yml", cwd=tmp_path), 1)
    assert srv in refused.stderr and "the zone asks for strict_checks" in refused.stderr, refused.stderr
