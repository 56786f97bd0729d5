"""`fleetdns agent --once` keeping a device name current through the `alidns` zone provider, against the
Alibaba Cloud DNS emulator over TLS: the name registered by `dns_record`'s engine (its marker), the
agent's single-address update through the one planner, the address verified by reading it back, a
second pass that sends no write, and the AccessKey secret never printed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.cloudflare_records import comment_owner
from ansible_collections.fleetdns.ddns.plugins.module_utils.record_task import RecordTask, run_task
from emulators.alidns import AliDnsEmulator

ROOT = Path(__file__).resolve().parents[2]


def fleetdns(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fleetdns", *args], capture_output=True, text=True, timeout=120, check=False, cwd=ROOT
    )


def test_the_agent_updates_a_device_name_through_alidns(tmp_path):
    with AliDnsEmulator(tls_dir=tmp_path / "tls") as ali:
        ali.add_domain("example.test")
        options = {"type": "alidns", "access_key_id": ali.key_id, "access_key_secret": ali.key_secret,
                   "endpoint": ali.https_url, "ca_bundle": ali.ca_file}  # fmt: skip
        run_task(RecordTask(options, "example.test", [], owner="fleet-main", device_names=["gw.example.test"]))
        assert sorted(r["RR"] for r in ali.records("example.test")) == ["a.gw._fleetdns", "aaaa.gw._fleetdns"]
        config = tmp_path / "agent.json"
        config.write_text(json.dumps({
            "owner": "fleet-main",
            "names": [{"name": "gw.example.test", "providers": ["ali"]}],
            "providers": {"ali": {**options, "zone": "example.test"}},
            "detect": {"ipv4": {"static": "8.8.8.8"}, "ipv6": False},
            "state_file": str(tmp_path / "state.json"),
        }), encoding="utf-8")  # fmt: skip
        config.chmod(0o600)

        once = fleetdns("agent", "--config", str(config), "--once")
        assert once.returncode == 0, once.stdout + once.stderr
        assert "updated: gw.example.test via ali: A 8.8.8.8 (was A nothing)" in once.stdout
        assert "verified: gw.example.test via ali" in once.stdout
        (record,) = [r for r in ali.records("example.test") if r["Type"] == "A"]
        assert (record["RR"], record["Value"], comment_owner(record.get("Remark"))) == ("gw", "8.8.8.8", "fleet-main")
        assert [r["RR"] for r in ali.records("example.test") if "_fleetdns" in r["RR"]] == ["aaaa.gw._fleetdns"]

        writes = sum(ali.counts[a] for a in ("AddDomainRecord", "UpdateDomainRecord", "DeleteDomainRecord"))
        again = fleetdns("agent", "--config", str(config), "--once")
        assert again.returncode == 0, again.stdout + again.stderr
        assert writes == sum(ali.counts[a] for a in ("AddDomainRecord", "UpdateDomainRecord", "DeleteDomainRecord"))
        for result in (once, again):
            assert ali.key_secret not in result.stdout + result.stderr
        assert ali.key_secret not in (tmp_path / "state.json").read_text(encoding="utf-8")
