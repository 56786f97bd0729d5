"""fleetdns.ddns.dns_record with an `alidns` provider, run by the real ansible-playbook against the
Alibaba Cloud DNS emulator over TLS: create, idempotent re-run, an update in place, a delete, an
unmanaged record and its remark untouched, and the AccessKey secret hidden even with -vvvv; check mode
writes nothing and its diff shows the change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.cloudflare_records import comment_owner
from emulators.alidns import AliDnsEmulator

from .playbook_runner import run_playbook

TASKS = """\
    - name: Static records of example.test
      fleetdns.ddns.dns_record:
        provider:
          type: alidns
          access_key_id: {key_id}
          access_key_secret: "{{{{ lookup('env', 'FLEETDNS_TEST_ALI_SECRET') }}}}"
          endpoint: {endpoint}
          ca_bundle: {ca_bundle}
        zone: example.test
        owner: fleet-main
        ttl: 600
        records:
          - {{name: www, type: A, value: {www}}}
          - {{name: "@", type: MX, value: "10 mail"}}
        state: {state}
      register: r
    - ansible.builtin.copy: {{content: "{{{{ {{'r': r}} | to_json }}}}", dest: "{{{{ results_file }}}}"}}
      check_mode: false
"""


@pytest.fixture
def ali(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AliDnsEmulator]:
    with AliDnsEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.add_domain("example.test")
        monkeypatch.setenv("FLEETDNS_TEST_ALI_SECRET", emulator.key_secret)
        yield emulator


def tasks(ali: AliDnsEmulator, www: str, state: str = "present") -> str:
    return TASKS.format(key_id=ali.key_id, endpoint=ali.https_url, ca_bundle=ali.ca_file, www=www, state=state)


def test_dns_record_on_alidns(ali, tmp_path):
    printer = ali.add_record("example.test", "printer", "A", "192.0.2.50", remark="office")
    first = run_playbook(tmp_path, tasks(ali, "[192.0.2.1, 192.0.2.2]"), "-vvvv", name="first")
    assert first.returncode == 0, first.output[-3000:]
    assert first.results()["r"]["changed"] is True
    records = {(r["RR"], r["Type"], r["Value"]): r for r in ali.records("example.test")}
    assert set(records) == {
        ("www", "A", "192.0.2.1"), ("www", "A", "192.0.2.2"), ("@", "MX", "mail.example.test"),
        ("printer", "A", "192.0.2.50"),
    }  # fmt: skip
    assert all(comment_owner(r.get("Remark")) == "fleet-main" for k, r in records.items() if k[0] != "printer")

    second = run_playbook(tmp_path, tasks(ali, "[192.0.2.1, 192.0.2.2]"), "-vvvv", name="second")
    assert second.returncode == 0, second.output[-3000:]
    assert second.results()["r"]["changed"] is False

    ids = {r["Value"]: r["RecordId"] for r in ali.records("example.test")}
    third = run_playbook(tmp_path, tasks(ali, "[192.0.2.1, 192.0.2.3]"), name="third")
    assert third.returncode == 0, third.output[-3000:]
    www = {r["Value"]: r["RecordId"] for r in ali.records("example.test") if r["RR"] == "www"}
    assert www == {"192.0.2.1": ids["192.0.2.1"], "192.0.2.3": ids["192.0.2.2"]}  # updated in place

    gone = run_playbook(tmp_path, tasks(ali, "[192.0.2.1, 192.0.2.3]", state="absent"), name="gone")
    assert gone.returncode == 0, gone.output[-3000:]
    assert ali.records("example.test") == [printer]
    for run in (first, second, third, gone):
        assert ali.key_secret not in run.output


def test_dns_record_on_alidns_waits_out_a_throttling_storm(ali, tmp_path):
    ali.inject(kind="code", code="Throttling.User", times=2)
    ali.inject(kind="code", code="Throttling", status=200, action="UpdateDomainRecordRemark", times=2)
    run = run_playbook(tmp_path, tasks(ali, "[192.0.2.1, 192.0.2.2]"), name="storm")
    assert run.returncode == 0, run.output[-3000:]
    assert run.results()["r"]["changed"] is True
    assert ali.counts["error:Throttling.User"] == 2 and ali.counts["error:Throttling"] == 2
    assert sorted(r["Value"] for r in ali.records("example.test") if r["RR"] == "www") == ["192.0.2.1", "192.0.2.2"]
    assert all(comment_owner(r.get("Remark")) == "fleet-main" for r in ali.records("example.test"))


def test_dns_record_on_alidns_refuses_when_the_zone_changes_under_it(ali, tmp_path):
    first = run_playbook(tmp_path, tasks(ali, "[192.0.2.1, 192.0.2.2]"), name="first")
    assert first.returncode == 0, first.output[-3000:]
    www = next(r for r in ali.records("example.test") if r["Value"] == "192.0.2.2")

    def someone_else_edits() -> None:  # between the task's read and its apply's re-read
        ali.store.update({"RecordId": www["RecordId"], "RR": "www", "Type": "A", "Value": "192.0.2.99", "TTL": "600"})

    ali.faults.clear()
    ali.inject(kind="slow", action="DescribeDomainRecords", times=1)  # the task's read goes through
    ali.inject(kind="hook", action="DescribeDomainRecords", hook=someone_else_edits)
    before_writes = sum(ali.counts[a] for a in ("AddDomainRecord", "UpdateDomainRecord", "DeleteDomainRecord"))
    changed = run_playbook(tmp_path, tasks(ali, "[192.0.2.1, 192.0.2.3]"), name="changed")
    assert changed.returncode != 0
    assert "changed on Alibaba Cloud DNS since the plan was made" in changed.output
    assert "192.0.2.99" in changed.output and "Traceback" not in changed.output.split("fatal:", 1)[-1][:2000]
    writes = sum(ali.counts[a] for a in ("AddDomainRecord", "UpdateDomainRecord", "DeleteDomainRecord"))
    assert writes == before_writes
    assert sorted(r["Value"] for r in ali.records("example.test") if r["RR"] == "www") == ["192.0.2.1", "192.0.2.99"]


WRITES = ("AddDomainRecord", "UpdateDomainRecord", "DeleteDomainRecord", "UpdateDomainRecordRemark")


def test_check_mode_writes_nothing_and_the_diff_shows_the_change(ali, tmp_path):
    printer = ali.add_record("example.test", "printer", "A", "192.0.2.50", remark="office")
    checked = run_playbook(tmp_path, tasks(ali, "[192.0.2.1, 192.0.2.2]"), "--check", "--diff", "-vvvv", name="c1")
    assert checked.returncode == 0, checked.output[-3000:]
    assert checked.results()["r"]["changed"] is True
    assert "+www.example.test. 600 IN A 192.0.2.2" in checked.output
    assert "+example.test. 600 IN MX 10 mail.example.test." in checked.output
    assert not any(ali.counts[a] for a in WRITES)
    assert ali.records("example.test") == [printer]

    applied = run_playbook(tmp_path, tasks(ali, "[192.0.2.1, 192.0.2.2]"), "--diff", "-vvvv", name="applied")
    assert applied.returncode == 0, applied.output[-3000:]
    before = {a: ali.counts[a] for a in WRITES}
    records = ali.records("example.test")
    checked = run_playbook(tmp_path, tasks(ali, "[192.0.2.1, 192.0.2.3]"), "--check", "--diff", "-vvvv", name="c2")
    assert checked.returncode == 0, checked.output[-3000:]
    assert checked.results()["r"]["changed"] is True
    assert "-www.example.test. 600 IN A 192.0.2.2" in checked.output
    assert "+www.example.test. 600 IN A 192.0.2.3" in checked.output
    assert {a: ali.counts[a] for a in WRITES} == before and ali.records("example.test") == records
    for run in (checked, applied):
        assert ali.key_secret not in run.output
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in checked.output
