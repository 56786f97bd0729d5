"""`fleetdns agent` keeping a device name current on DNSPod (the emulator, TC3 checked on every request):
the first address is a CreateRecord of the registered name, a later one a ModifyDynamicDNS of that
record (the call made for a single address), the remark with fleetdns's owner word kept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import ZoneDesired, make_zone_plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.dnspod import DnspodProvider
from emulators.dnspod import DnspodEmulator

ROOT = Path(__file__).resolve().parents[2]
ZONE = "example.test."


def register(api: DnspodEmulator) -> None:
    """What `fleetdns apply` does for a host's fleetdns_names: gw A is fleet-main's, still empty."""
    opts = {k: spec.default for k, spec in DnspodProvider.OPTIONS.items()}
    opts.update(secret_id=api.secret_id, secret_key=api.secret_key, endpoint=api.https_url, ca_bundle=api.ca_file)
    with DnspodProvider("dp", opts) as p:
        want = ZoneDesired(ZONE, {}, {(f"gw.{ZONE}", "A")})
        plan = make_zone_plan(want, p.read(ZONE, set(want.registered)), "fleet-main", "dp")
        p.apply(ZONE, plan.changes, "fleet-main")


def run_agent(tmp_path: Path, api: DnspodEmulator, address: str) -> subprocess.CompletedProcess[str]:
    provider = {
        "type": "dnspod",
        "zone": "example.test",
        "ttl": 600,  # DNSPod's free plan refuses less
        "secret_id": api.secret_id,
        "secret_key": api.secret_key,
        "endpoint": api.https_url,
        "ca_bundle": api.ca_file,
    }
    data = {
        "owner": "fleet-main",
        "state_file": str(tmp_path / "state.json"),
        "min_update_interval": 0,
        "names": [{"name": "gw.example.test", "providers": ["dp"]}],
        "providers": {"dp": provider},
        "detect": {"ipv4": {"static": address}, "ipv6": False},
    }
    path = tmp_path / "agent.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    path.chmod(0o600)
    return subprocess.run(
        [sys.executable, "-m", "fleetdns", "agent", "--config", str(path), "--once"],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
    )  # fmt: skip


def test_the_agent_creates_then_updates_through_modify_dynamic_dns(tmp_path):
    with DnspodEmulator(tls_dir=tmp_path / "tls") as api:
        api.add_domain("example.test")
        register(api)
        first = run_agent(tmp_path, api, "8.8.8.8")
        assert first.returncode == 0, first.stdout + first.stderr
        assert "updated: gw.example.test via dp: A 8.8.8.8" in first.stdout
        (gw,) = [r for r in api.records("example.test") if r["Name"] == "gw"]
        assert (gw["Value"], gw["TTL"], gw["Remark"]) == ("8.8.8.8", 600, "fleetdns-owner=fleet-main")
        assert not [r for r in api.records("example.test") if r["Type"] == "TXT"]  # the marker went

        api.reset_counts()
        second = run_agent(tmp_path, api, "8.8.4.4")
        assert second.returncode == 0, second.stdout + second.stderr
        assert "verified: gw.example.test via dp" in second.stdout
        assert api.counts["ModifyDynamicDNS"] == 1, api.counts
        assert not any(api.counts[a] for a in ("ModifyRecord", "CreateRecord", "DeleteRecord"))
        (after,) = [r for r in api.records("example.test") if r["Name"] == "gw"]
        assert after["RecordId"] == gw["RecordId"] and after["Value"] == "8.8.4.4"
        assert after["Remark"] == "fleetdns-owner=fleet-main" and after["TTL"] == 600

        third = run_agent(tmp_path, api, "8.8.4.4")
        assert third.returncode == 0, third.stdout + third.stderr
        assert "unchanged: gw.example.test via dp: already published: A 8.8.4.4" in third.stdout
        assert api.counts["ModifyDynamicDNS"] == 1  # nothing more sent
        for run in (first, second, third):
            assert api.secret_key not in run.stdout + run.stderr
