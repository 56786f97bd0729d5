"""The real `fleetdns` command with a `dnspod` provider in the inventory, against the DNSPod emulator over
TLS (every request's TC3 signature checked): validate / plan / apply creating, updating, deleting and
then nothing; a saved plan refused after a concurrent change; a throttling storm answered in 200
bodies; a failure between two writes, then apply again converging; unmanaged records, their remarks
and lines, and the domain's default NS records (DNSPod's own) untouched; NS at the apex refused at
validation; the SecretKey never printed and a wrong one named as such."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.cloudflare_records import comment_owner
from emulators.dnspod import DnspodEmulator

FLEETDNS = Path(sys.executable).parent / "fleetdns"
INVENTORY = """\
all:
  vars:
    fleetdns_owner: fleet-main
    fleetdns_providers:
      dp:
        type: dnspod
        secret_id: {secret_id}
        secret_key: "{{{{ lookup('env', 'FLEETDNS_TEST_DNSPOD_KEY') }}}}"
        endpoint: {endpoint}
        ca_bundle: {ca_bundle}
    fleetdns_zones:
      example.test:
        provider: dp
        default_ttl: 600
        records:
{records}
  children:
    fleetdns_clients:
      hosts:
        gw: {{fleetdns_names: [gw.example.test]}}
"""
RECORDS = (
    "          - {name: www, type: A, value: [192.0.2.1, 192.0.2.2]}",
    '          - {name: "@", type: MX, value: "10 mail"}',
    "          - {name: mail, type: A, value: 192.0.2.25, ttl: 3600}",
    '          - {name: txt, type: TXT, value: "v=spf1 -all"}',
)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[DnspodEmulator]:
    with DnspodEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.domain = emulator.add_domain("example.test")
        yield emulator


def fleetdns(tmp_path: Path, key: str, *argv: str) -> subprocess.CompletedProcess:
    if not FLEETDNS.exists():
        pytest.fail(f"{FLEETDNS} not found: run `make venv`", pytrace=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETDNS_")}
    env.update(FLEETDNS_TEST_DNSPOD_KEY=key, NO_COLOR="1")
    return subprocess.run(
        [str(FLEETDNS), *argv, "-i", str(tmp_path / "hosts.yml")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )


def write_inventory(api: DnspodEmulator, tmp_path: Path, records: tuple[str, ...] | list[str] = RECORDS) -> None:
    text = INVENTORY.format(
        secret_id=api.secret_id, endpoint=api.https_url, ca_bundle=api.ca_file, records="\n".join(records)
    )
    (tmp_path / "hosts.yml").write_text(text)


def default_ns(api: DnspodEmulator) -> list[dict]:
    return [r for r in api.records("example.test", with_default_ns=True) if r["DefaultNS"]]


def table(api: DnspodEmulator) -> dict[tuple[str, str, str], dict]:
    return {(r["Name"], r["Type"], r["Value"]): r for r in api.records("example.test")}


def ok(result: subprocess.CompletedProcess, code: int = 0) -> subprocess.CompletedProcess:
    assert result.returncode == code, result.stdout + result.stderr
    return result


def test_create_update_delete_noop_and_unmanaged_records_untouched(api, tmp_path):
    write_inventory(api, tmp_path)
    printer = api.add_record(api.domain, SubDomain="printer", RecordType="A", Value="192.0.2.50", Remark="office")
    telecom = api.add_record(api.domain, SubDomain="www", RecordType="A", Value="198.51.100.7", RecordLine="电信")
    key = api.secret_key
    ns_before = default_ns(api)
    ok(fleetdns(tmp_path, key, "validate"))
    plan = ok(fleetdns(tmp_path, key, "plan", "--detailed-exitcode"), 2)
    assert "www A" in plan.stdout and "register gw A" in plan.stdout
    assert "lines other than '默认' are left alone" in plan.stdout + plan.stderr
    assert (plan.stdout + plan.stderr).count("DNSPod's own") == 1

    ok(fleetdns(tmp_path, key, "apply", "--yes"))
    records = table(api)
    assert {k for k in records if k[1] != "TXT"} == {
        ("@", "MX", "mail.example.test."),
        ("mail", "A", "192.0.2.25"),
        ("printer", "A", "192.0.2.50"),
        ("www", "A", "192.0.2.1"),
        ("www", "A", "192.0.2.2"),
        ("www", "A", "198.51.100.7"),
    }
    assert records[("@", "MX", "mail.example.test.")]["MX"] == 10
    assert records[("mail", "A", "192.0.2.25")]["TTL"] == 3600
    assert records[("txt", "TXT", "v=spf1 -all")]["Remark"] == "fleetdns-owner=fleet-main"
    assert records[("printer", "A", "192.0.2.50")] == printer
    assert records[("www", "A", "198.51.100.7")] == telecom
    managed = [r for k, r in records.items() if k[0] not in ("printer",) and r["Line"] == "默认"]
    assert all(comment_owner(r["Remark"]) == "fleet-main" for r in managed)
    assert all(r["Line"] == "默认" for r in managed)

    assert "No changes." in ok(fleetdns(tmp_path, key, "plan", "--detailed-exitcode")).stdout

    # An update keeps the record (same id), a removed record is deleted, the rest is left as it is.
    ids = {k: r["RecordId"] for k, r in records.items()}
    changed = [RECORDS[0].replace("192.0.2.2", "192.0.2.3"), RECORDS[1], RECORDS[2]]
    write_inventory(api, tmp_path, changed)
    api.reset_counts()
    ok(fleetdns(tmp_path, key, "apply", "--yes"))
    after = table(api)
    assert after[("www", "A", "192.0.2.3")]["RecordId"] == ids[("www", "A", "192.0.2.2")]
    assert ("txt", "TXT", "v=spf1 -all") not in after
    assert api.counts["ModifyRecord"] == 1 and api.counts["DeleteRecord"] == 1 and api.counts["CreateRecord"] == 0
    assert after[("printer", "A", "192.0.2.50")] == printer
    assert after[("www", "A", "198.51.100.7")] == telecom
    assert "No changes." in ok(fleetdns(tmp_path, key, "plan")).stdout
    assert default_ns(api) == ns_before  # DNSPod's own NS records: no owner word, never changed


def test_ns_at_the_apex_is_refused_at_its_line_and_nothing_is_sent(api, tmp_path):
    write_inventory(api, tmp_path, [*RECORDS, '          - {name: "@", type: NS, value: [ns1.other.test.]}'])
    for argv in (("validate",), ("plan",), ("apply", "--yes")):
        result = ok(fleetdns(tmp_path, api.secret_key, *argv), 1)
        assert "hosts.yml:20:" in result.stderr, result.stderr
        assert "the dnspod provider 'dp' cannot manage NS records at the zone apex" in result.stderr
        assert "Traceback" not in result.stderr
    assert sum(api.counts.values()) == 0


def test_a_saved_plan_is_refused_after_a_concurrent_change(api, tmp_path):
    write_inventory(api, tmp_path)
    key = api.secret_key
    ok(fleetdns(tmp_path, key, "apply", "--yes"))
    write_inventory(api, tmp_path, [RECORDS[0].replace("192.0.2.2", "192.0.2.9"), *RECORDS[1:]])
    ok(fleetdns(tmp_path, key, "plan", "--out", "plan.json"), 0)
    # Someone edits the record set on DNSPod after the plan was saved.
    record = next(r for r in api.records("example.test") if r["Value"] == "192.0.2.1")
    api.store.edit_record("example.test", record["RecordId"], Value="192.0.2.77")
    before = api.records("example.test")
    api.reset_counts()
    refused = ok(fleetdns(tmp_path, key, "apply", "--plan", "plan.json"), 1)
    assert "plan.json does not match the plan made now from the inventory and the DNS" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert api.records("example.test") == before
    assert not any(api.counts[a] for a in ("CreateRecord", "ModifyRecord", "DeleteRecord", "ModifyDynamicDNS"))


def test_a_throttling_storm_is_waited_out(api, tmp_path):
    write_inventory(api, tmp_path)
    # Every other write is throttled, three times in a row at first: RequestLimitExceeded in a 200 body.
    api.inject(kind="error", code="RequestLimitExceeded", action="CreateRecord", times=3)
    api.inject(kind="error", code="RequestLimitExceeded.RequestLimitExceeded", action="DescribeRecordList", times=2)
    applied = ok(fleetdns(tmp_path, api.secret_key, "apply", "--yes"))
    assert api.counts["error:RequestLimitExceeded"] == 3
    assert api.counts["error:RequestLimitExceeded.RequestLimitExceeded"] == 2
    assert len([k for k in table(api) if k[1] != "NS"]) == 7  # 6 records + gw's ownership marker
    assert "No changes." in ok(fleetdns(tmp_path, api.secret_key, "plan")).stdout
    assert api.secret_key not in applied.stdout + applied.stderr


def test_a_throttling_storm_that_does_not_end_stops_with_a_clear_error(api, tmp_path):
    write_inventory(api, tmp_path)
    api.inject(kind="error", code="RequestLimitExceeded", action="CreateRecord", times=1000)
    failed = ok(fleetdns(tmp_path, api.secret_key, "apply", "--yes"), 1)
    errors = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "DNSPod rate limit reached" in errors[0], failed.stderr
    assert "Traceback" not in failed.stderr


def test_a_failure_between_two_writes_then_apply_again_converges(api, tmp_path):
    write_inventory(api, tmp_path)
    key = api.secret_key
    # The third CreateRecord is refused with an internal error; the API has no rollback.
    api.inject(kind="error", code="InternalError", message="内部错误。", action="CreateRecord", skip=2)
    failed = ok(fleetdns(tmp_path, key, "apply", "--yes"), 1)
    assert "InternalError" in failed.stderr and "Traceback" not in failed.stderr
    partial = [k for k in table(api) if k[1] != "NS"]
    assert len(partial) == 2
    # A write whose answer is lost after DNSPod did it: the zone is read again, the write is not repeated.
    api.inject(kind="drop", action="CreateRecord", after=True)
    api.inject(kind="status", status=502, action="CreateRecord", skip=1)
    ok(fleetdns(tmp_path, key, "apply", "--yes"))
    assert len([k for k in table(api) if k[1] != "NS"]) == 7
    assert "No changes." in ok(fleetdns(tmp_path, key, "plan", "--detailed-exitcode")).stdout


@pytest.mark.parametrize(
    ("change", "code", "credential"),
    [
        ("key", "AuthFailure.SignatureFailure", "secret_key"),
        ("id", "AuthFailure.SecretIdNotFound", "secret_id"),
    ],
)
def test_bad_credentials_are_one_clear_line_naming_the_one_to_check(api, tmp_path, change, code, credential):
    write_inventory(api, tmp_path)
    key = api.secret_key
    if change == "key":
        key = "WrongSecretKey0123456789abcdefgh"
    else:
        api.keys = {"AKIDsomeoneElse0123456789": api.secret_key}
    for argv in (("plan",), ("apply", "--yes")):
        result = ok(fleetdns(tmp_path, key, *argv), 1)
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and code in errors[0], result.stderr
        assert f"check {credential}" in result.stderr
        assert "Traceback" not in result.stderr
        assert key not in result.stdout + result.stderr
    assert api.counts["DescribeRecordList"] == 2 and api.records("example.test") == []
