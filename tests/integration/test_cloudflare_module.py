"""fleetdns.ddns.dns_record with a `cloudflare` provider, run by the real ansible-playbook against the
Cloudflare emulator over TLS: one batch per task, idempotent, proxied/comments kept, and the token
hidden even with -vvvv."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.cloudflare_records import comment_owner
from emulators.cloudflare import CloudflareEmulator

from .playbook_runner import run_playbook

TASKS = """\
    - name: Static records of example.test
      fleetdns.ddns.dns_record:
        provider:
          type: cloudflare
          api_token: "{{{{ lookup('env', 'FLEETDNS_TEST_CF_TOKEN') }}}}"
          base_url: {base_url}
          ca_bundle: {ca_bundle}
        zone: example.test
        owner: fleet-main
        ttl: 300
        records:
          - {{name: www, type: A, value: [192.0.2.1, 192.0.2.2]}}
          - {{name: "@", type: MX, value: "10 mail"}}
          - {{name: front, type: A, value: 192.0.2.80}}
      register: r
    - ansible.builtin.copy: {{content: "{{{{ {{'r': r}} | to_json }}}}", dest: "{{{{ results_file }}}}"}}
"""


@pytest.fixture
def cf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudflareEmulator]:
    with CloudflareEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.zone = emulator.add_zone("example.test")
        monkeypatch.setenv("FLEETDNS_TEST_CF_TOKEN", emulator.token)
        yield emulator


def test_dns_record_on_cloudflare(cf, tmp_path):
    tasks = TASKS.format(base_url=cf.https_url, ca_bundle=cf.ca_file)
    proxied = cf.add_record(cf.zone, name="front", type="A", content="192.0.2.8", proxied=True, ttl=300,
                            comment="CDN front fleetdns-owner=fleet-main")  # fmt: skip
    first = run_playbook(tmp_path, tasks, "-vvvv", name="first")
    assert first.returncode == 0, first.output[-3000:]
    assert first.results()["r"]["changed"] is True
    assert cf.counts["dns_records.batch"] == 1  # the whole task in one transaction
    records = {(r["name"], r["type"], r["content"]): r for r in cf.records(cf.zone)}
    assert set(records) == {
        ("www.example.test", "A", "192.0.2.1"),
        ("www.example.test", "A", "192.0.2.2"),
        ("example.test", "MX", "mail.example.test"),
        ("front.example.test", "A", "192.0.2.80"),
    }
    front = records[("front.example.test", "A", "192.0.2.80")]
    assert front["id"] == proxied["id"] and front["proxied"] is True and front["comment"] == proxied["comment"]
    assert all(comment_owner(r["comment"]) == "fleet-main" for r in records.values())

    second = run_playbook(tmp_path, tasks, "-vvvv", name="second")
    assert second.returncode == 0, second.output[-3000:]
    assert second.results()["r"]["changed"] is False
    for run in (first, second):
        assert cf.token not in run.output
