"""fleetdns.ddns.dns_record with a `dnspod` provider, run by the real ansible-playbook against the DNSPod
emulator over TLS (every TC3 signature checked): creates, then changes nothing, keeps the remark a user
wrote, and hides the SecretKey even with -vvvv; check mode writes nothing and its diff shows the change;
an update in place, a delete, unmanaged records (another remark, another line) untouched, a throttling
storm waited out, and a refusal with no write when the zone changes between the read and the apply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.cloudflare_records import comment_owner
from emulators.dnspod import DnspodEmulator

from .playbook_runner import run_playbook

TASKS = """\
    - name: Static records of example.test
      fleetdns.ddns.dns_record:
        provider:
          type: dnspod
          secret_id: {secret_id}
          secret_key: "{{{{ lookup('env', 'FLEETDNS_TEST_DNSPOD_KEY') }}}}"
          endpoint: {endpoint}
          ca_bundle: {ca_bundle}
        zone: example.test
        owner: fleet-main
        ttl: 600
        records:
          - {{name: www, type: A, value: [192.0.2.1, 192.0.2.2]}}
          - {{name: "@", type: MX, value: "10 mail"}}
          - {{name: front, type: A, value: 192.0.2.80}}
      register: r
    - ansible.builtin.copy: {{content: "{{{{ {{'r': r}} | to_json }}}}", dest: "{{{{ results_file }}}}"}}
"""


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DnspodEmulator]:
    with DnspodEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.domain = emulator.add_domain("example.test")
        monkeypatch.setenv("FLEETDNS_TEST_DNSPOD_KEY", emulator.secret_key)
        yield emulator


def test_dns_record_on_dnspod(api, tmp_path):
    tasks = TASKS.format(secret_id=api.secret_id, endpoint=api.https_url, ca_bundle=api.ca_file)
    front = api.add_record(api.domain, SubDomain="front", RecordType="A", Value="192.0.2.8",
                           Remark="CDN front fleetdns-owner=fleet-main", Weight=10)  # fmt: skip
    first = run_playbook(tmp_path, tasks, "-vvvv", name="first")
    assert first.returncode == 0, first.output[-3000:]
    assert first.results()["r"]["changed"] is True
    records = {(r["Name"], r["Type"], r["Value"]): r for r in api.records("example.test")}
    assert set(records) == {
        ("www", "A", "192.0.2.1"),
        ("www", "A", "192.0.2.2"),
        ("@", "MX", "mail.example.test."),
        ("front", "A", "192.0.2.80"),
    }
    changed = records[("front", "A", "192.0.2.80")]
    assert changed["RecordId"] == front["RecordId"] and changed["Remark"] == front["Remark"]
    assert changed["Weight"] == 10
    assert all(comment_owner(r["Remark"]) == "fleet-main" for r in records.values())
    assert api.counts["CreateRecord"] == 3 and api.counts["ModifyRecord"] == 1

    second = run_playbook(tmp_path, tasks, "-vvvv", name="second")
    assert second.returncode == 0, second.output[-3000:]
    assert second.results()["r"]["changed"] is False
    for run in (first, second):
        assert api.secret_key not in run.output


SETS = """\
    - name: www of example.test
      fleetdns.ddns.dns_record:
        provider:
          type: dnspod
          secret_id: {secret_id}
          secret_key: "{{{{ lookup('env', 'FLEETDNS_TEST_DNSPOD_KEY') }}}}"
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
WRITES = ("CreateRecord", "ModifyRecord", "DeleteRecord", "ModifyDynamicDNS")


def sets(api: DnspodEmulator, www: str, state: str = "present") -> str:
    return SETS.format(secret_id=api.secret_id, endpoint=api.https_url, ca_bundle=api.ca_file, www=www, state=state)


def writes(api: DnspodEmulator) -> int:
    return sum(api.counts[action] for action in WRITES)


def test_check_diff_update_in_place_delete_and_unmanaged_untouched(api, tmp_path):
    printer = api.add_record(api.domain, SubDomain="printer", RecordType="A", Value="192.0.2.50", Remark="office")
    telecom = api.add_record(api.domain, SubDomain="www", RecordType="A", Value="198.51.100.7", RecordLine="电信")
    checked = run_playbook(tmp_path, sets(api, "[192.0.2.1, 192.0.2.2]"), "--check", "--diff", "-vvvv", name="check")
    assert checked.returncode == 0, checked.output[-3000:]
    assert checked.results()["r"]["changed"] is True
    assert "+www.example.test. 600 IN A 192.0.2.2" in checked.output
    assert "+example.test. 600 IN MX 10 mail.example.test." in checked.output
    assert writes(api) == 0  # check mode changed nothing
    assert api.records("example.test") == [printer, telecom]

    first = run_playbook(tmp_path, sets(api, "[192.0.2.1, 192.0.2.2]"), "--diff", "-vvvv", name="first")
    assert first.returncode == 0, first.output[-3000:]
    assert first.results()["r"]["changed"] is True
    ids = {r["Value"]: r["RecordId"] for r in api.records("example.test") if r["Name"] == "www"}
    assert set(ids) == {"192.0.2.1", "192.0.2.2", "198.51.100.7"}

    before = writes(api)
    checked = run_playbook(tmp_path, sets(api, "[192.0.2.1, 192.0.2.3]"), "--check", "--diff", name="check2")
    assert checked.returncode == 0, checked.output[-3000:]
    assert checked.results()["r"]["changed"] is True
    assert "-www.example.test. 600 IN A 192.0.2.2" in checked.output
    assert "+www.example.test. 600 IN A 192.0.2.3" in checked.output
    assert "198.51.100.7" not in checked.results()["r"]["diff"][0]["after"]  # the other line is not ours
    assert writes(api) == before

    third = run_playbook(tmp_path, sets(api, "[192.0.2.1, 192.0.2.3]"), "-vvvv", name="third")
    assert third.returncode == 0, third.output[-3000:]
    www = {r["Value"]: r["RecordId"] for r in api.records("example.test") if r["Name"] == "www"}
    assert www == {"192.0.2.1": ids["192.0.2.1"], "192.0.2.3": ids["192.0.2.2"], "198.51.100.7": ids["198.51.100.7"]}
    assert api.counts["ModifyRecord"] == 1 and api.counts["DeleteRecord"] == 0  # updated in place

    gone = run_playbook(tmp_path, sets(api, "[192.0.2.1, 192.0.2.3]", state="absent"), "-vvvv", name="gone")
    assert gone.returncode == 0, gone.output[-3000:]
    assert gone.results()["r"]["changed"] is True
    assert api.records("example.test") == [printer, telecom]
    for run in (checked, first, third, gone):
        assert api.secret_key not in run.output
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in gone.output


def test_a_throttling_storm_is_waited_out(api, tmp_path):
    api.inject(kind="error", code="RequestLimitExceeded", action="CreateRecord", times=3)
    api.inject(kind="error", code="RequestLimitExceeded.RequestLimitExceeded", action="DescribeRecordList", times=2)
    run = run_playbook(tmp_path, sets(api, "[192.0.2.1, 192.0.2.2]"), name="storm")
    assert run.returncode == 0, run.output[-3000:]
    assert run.results()["r"]["changed"] is True
    assert api.counts["error:RequestLimitExceeded"] == 3
    assert api.counts["error:RequestLimitExceeded.RequestLimitExceeded"] == 2
    assert sorted(r["Value"] for r in api.records("example.test") if r["Name"] == "www") == ["192.0.2.1", "192.0.2.2"]
    assert all(comment_owner(r["Remark"]) == "fleet-main" for r in api.records("example.test"))


def test_refuses_with_no_write_when_the_zone_changes_under_it(api, tmp_path):
    first = run_playbook(tmp_path, sets(api, "[192.0.2.1, 192.0.2.2]"), name="first")
    assert first.returncode == 0, first.output[-3000:]
    www = next(r for r in api.records("example.test") if r["Value"] == "192.0.2.2")

    def someone_else_edits() -> None:  # between the task's read and its apply's re-read
        api.store.edit_record("example.test", www["RecordId"], Value="192.0.2.99")

    api.inject(kind="hook", action="DescribeRecordList", skip=1, hook=someone_else_edits)
    before = writes(api)
    changed = run_playbook(tmp_path, sets(api, "[192.0.2.1, 192.0.2.3]"), name="changed")
    assert changed.returncode != 0
    assert "changed on DNSPod since the plan was made" in changed.output, changed.output[-3000:]
    assert "192.0.2.99" in changed.output and "Traceback" not in changed.output.split("fatal:", 1)[-1][:2000]
    assert writes(api) == before
    assert sorted(r["Value"] for r in api.records("example.test") if r["Name"] == "www") == ["192.0.2.1", "192.0.2.99"]
    assert api.secret_key not in changed.output
