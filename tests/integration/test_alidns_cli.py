"""The real `fleetdns` command with an `alidns` provider in the inventory, against the Alibaba Cloud DNS
emulator over TLS (every request's ACS3 signature checked): validate / plan / apply for create,
update, delete and no-op; a saved plan refused after a concurrent change; a throttling storm waited
out; an apply cut off between two writes and run again; unmanaged records untouched; the secret
taken from the environment and never printed; a wrong secret as one clear line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.cloudflare_records import comment_owner
from emulators.alidns import AliDnsEmulator

from integration.test_cli import run

DOMAIN = "example.test"


def inventory(ali: AliDnsEmulator, records: list[dict]) -> dict:
    return {
        "all": {
            "vars": {
                "fleetdns_owner": "fleet-main",
                "fleetdns_providers": {
                    "ali": {
                        "type": "alidns",
                        "access_key_id": ali.key_id,
                        "access_key_secret": "{{ lookup('env', 'FLEETDNS_TEST_ALI_SECRET') }}",
                        "endpoint": ali.https_url,
                        "ca_bundle": ali.ca_file,
                    }
                },
                "fleetdns_zones": {DOMAIN: {"provider": "ali", "default_ttl": 600, "records": records}},
            },
            "children": {"fleetdns_clients": {"hosts": {"gw": {"fleetdns_names": ["gw.example.test"]}}}},
        }
    }


FIRST = [
    {"name": "www", "type": "A", "value": ["192.0.2.1", "192.0.2.2"]},
    {"name": "@", "type": "MX", "value": "10 mail"},
    {"name": "mail", "type": "A", "value": "192.0.2.25"},
    {"name": "old", "type": "TXT", "value": "going away"},
]
SECOND = [  # mail moves (update), old goes (delete), api comes (create)
    FIRST[0],
    FIRST[1],
    {"name": "mail", "type": "A", "value": "192.0.2.26"},
    {"name": "api", "type": "A", "value": "192.0.2.40"},
]


@pytest.fixture
def ali(tmp_path: Path) -> Iterator[AliDnsEmulator]:
    with AliDnsEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.add_domain(DOMAIN)
        yield emulator


def write(tmp_path: Path, ali: AliDnsEmulator, records: list[dict]) -> None:
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory(ali, records)), encoding="utf-8")


def fleetdns(tmp_path: Path, ali: AliDnsEmulator, *argv: str, secret: str | None = None):
    result = run(*argv, "-i", "hosts.yml", cwd=tmp_path, env={"FLEETDNS_TEST_ALI_SECRET": secret or ali.key_secret})
    assert ali.key_secret not in result.stdout + result.stderr
    return result


def values(ali: AliDnsEmulator) -> set[tuple[str, str, str]]:
    return {(r["RR"], r["Type"], r["Value"]) for r in ali.records(DOMAIN) if "_fleetdns" not in r["RR"]}


def test_validate_plan_apply_update_delete_and_no_op(ali, tmp_path):
    printer = ali.add_record(DOMAIN, "printer", "A", "192.0.2.50", remark="office")
    other_line = ali.add_record(DOMAIN, "www", "A", "198.51.100.1", line="telecom")
    write(tmp_path, ali, FIRST)
    assert fleetdns(tmp_path, ali, "validate").returncode == 0
    assert ali.counts["total"] == 0  # validation sends nothing
    plan = fleetdns(tmp_path, ali, "plan", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "www A" in plan.stdout and "register gw A" in plan.stdout
    applied = fleetdns(tmp_path, ali, "--debug", "apply", "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert values(ali) == {
        ("www", "A", "192.0.2.1"), ("www", "A", "192.0.2.2"), ("www", "A", "198.51.100.1"),
        ("@", "MX", "mail.example.test"), ("mail", "A", "192.0.2.25"), ("old", "TXT", "going away"),
        ("printer", "A", "192.0.2.50"),
    }  # fmt: skip
    markers = [r for r in ali.records(DOMAIN) if "_fleetdns" in r["RR"]]
    assert sorted(m["RR"] for m in markers) == ["a.gw._fleetdns", "aaaa.gw._fleetdns"]  # the device name only
    assert fleetdns(tmp_path, ali, "plan", "--detailed-exitcode").returncode == 0

    ids = {(r["RR"], r["Value"]): r["RecordId"] for r in ali.records(DOMAIN)}
    write(tmp_path, ali, SECOND)
    applied = fleetdns(tmp_path, ali, "apply", "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert ("mail", "A", "192.0.2.26") in values(ali) and ("api", "A", "192.0.2.40") in values(ali)
    assert not any(v[0] == "old" for v in values(ali))
    mail = next(r for r in ali.records(DOMAIN) if r["RR"] == "mail")
    assert mail["RecordId"] == ids[("mail", "192.0.2.25")]  # updated in place
    assert fleetdns(tmp_path, ali, "plan", "--detailed-exitcode").returncode == 0
    by_id = {r["RecordId"]: r for r in ali.records(DOMAIN)}
    assert by_id[printer["RecordId"]] == printer and by_id[other_line["RecordId"]] == other_line
    assert {comment_owner(r.get("Remark")) for r in ali.records(DOMAIN) if r["Line"] == "default" and
            r["RR"] not in ("printer", "a.gw._fleetdns", "aaaa.gw._fleetdns")} == {"fleet-main"}  # fmt: skip


def test_a_saved_plan_is_refused_after_a_concurrent_change(ali, tmp_path):
    write(tmp_path, ali, FIRST)
    assert fleetdns(tmp_path, ali, "apply", "--yes").returncode == 0
    write(tmp_path, ali, SECOND)
    assert fleetdns(tmp_path, ali, "plan", "--out", "plan.json").returncode == 0
    mail = next(r for r in ali.records(DOMAIN) if r["RR"] == "mail")
    ali.store.update({"RecordId": mail["RecordId"], "RR": "mail", "Type": "A", "Value": "192.0.2.99", "TTL": "600"})
    before = ali.records(DOMAIN)
    refused = fleetdns(tmp_path, ali, "apply", "--plan", "plan.json")
    assert refused.returncode != 0
    assert "192.0.2.99" in refused.stderr and "Traceback" not in refused.stderr
    assert ali.records(DOMAIN) == before


def test_a_throttling_storm_is_waited_out(ali, tmp_path):
    write(tmp_path, ali, FIRST)
    ali.inject(kind="code", code="Throttling.User", times=2)
    ali.inject(kind="code", code="Throttling", status=200, action="AddDomainRecord", times=2)
    applied = fleetdns(tmp_path, ali, "apply", "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert ali.counts["error:Throttling.User"] == 2 and ali.counts["error:Throttling"] == 2
    assert ("mail", "A", "192.0.2.25") in values(ali)
    assert fleetdns(tmp_path, ali, "plan", "--detailed-exitcode").returncode == 0


def test_an_apply_cut_off_between_two_writes_converges_when_run_again(ali, tmp_path):
    write(tmp_path, ali, FIRST)
    ali.inject(kind="slow", action="AddDomainRecord", times=5)  # five creates (markers and records) go through
    ali.inject(kind="status", status=500, action="AddDomainRecord", times=1000)  # then the API fails for good
    failed = fleetdns(tmp_path, ali, "apply", "--yes")
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert 0 < len(values(ali)) < 5
    ali.faults.clear()
    again = fleetdns(tmp_path, ali, "apply", "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert fleetdns(tmp_path, ali, "plan", "--detailed-exitcode").returncode == 0
    assert values(ali) == {
        ("www", "A", "192.0.2.1"), ("www", "A", "192.0.2.2"), ("@", "MX", "mail.example.test"),
        ("mail", "A", "192.0.2.25"), ("old", "TXT", "going away"),
    }  # fmt: skip


def test_a_wrong_secret_is_one_clear_line(ali, tmp_path):
    write(tmp_path, ali, FIRST)
    for argv in (("plan",), ("apply", "--yes")):
        result = fleetdns(tmp_path, ali, *argv, secret="not-the-secret-0123456789")
        assert result.returncode == 1
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "SignatureDoesNotMatch" in errors[0] and "access_key_secret" in result.stderr
        assert "Traceback" not in result.stderr and "not-the-secret-0123456789" not in result.stdout + result.stderr
    assert ali.records(DOMAIN) == []
