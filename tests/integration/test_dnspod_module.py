"""fleetdns.ddns.dns_record with a `dnspod` provider, run by the real ansible-playbook against the DNSPod
emulator over TLS (every TC3 signature checked): creates, then changes nothing, keeps the remark a user
wrote, and hides the SecretKey even with -vvvv."""

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
