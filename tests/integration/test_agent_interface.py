"""The interface detection against the real kernel, in a network namespace this test makes
(`unshare -n`, as root): a veth interface holding a stable autoconfigured-style IPv6 address
(mngtmpaddr, from which the kernel itself makes a temporary privacy address), a deprecated one, a
ULA, a link-local one, and a private and a public IPv4 address. The agent's netlink dump must
agree with `ip -j addr` on every address and flag, and the detection must pick the stable global
IPv6 address and the public IPv4 one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, subprocess, sys, time
from pathlib import Path

def ip(*args):
    subprocess.run(["ip", *args], check=True)

ip("link", "set", "lo", "up")
ip("link", "add", "v0", "type", "veth", "peer", "name", "v1")
subprocess.run(["sysctl", "-qw", "net.ipv6.conf.v0.use_tempaddr=2"], check=True)
ip("link", "set", "v0", "up")
ip("link", "set", "v1", "up")
ip("-6", "addr", "add", "2a00:1450:4001::7/64", "dev", "v0", "mngtmpaddr", "nodad",
   "valid_lft", "900", "preferred_lft", "800")
ip("-6", "addr", "add", "2a00:1450:4002::6/64", "dev", "v0", "nodad", "valid_lft", "600", "preferred_lft", "0")
ip("-6", "addr", "add", "fd00:5::5/64", "dev", "v0", "nodad")
ip("-4", "addr", "add", "10.5.0.5/24", "dev", "v0")
ip("-4", "addr", "add", "8.8.4.4/32", "dev", "v0")

def ip_json():
    return json.loads(subprocess.run(["ip", "-j", "addr", "show"], check=True, capture_output=True, text=True).stdout)

ends = time.monotonic() + 10
while time.monotonic() < ends:  # the kernel makes the temporary address and the link-local one shortly
    infos = [a for link in ip_json() if link["ifname"] == "v0" for a in link["addr_info"]]
    if any(a.get("temporary") for a in infos) and any(a.get("scope") == "link" for a in infos):
        break
    time.sleep(0.1)

from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import load_agent_config
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_detect import detect_all
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_platform import interface_addresses

work = Path(sys.argv[1])
report = {"ip": ip_json(), "dump": [
    {"interface": a.interface, "address": a.address, "scope": a.scope, "flags": sorted(a.flags),
     "preferred": a.preferred_lifetime}
    for a in interface_addresses()
]}
for label, interface in (("v0", "v0"), ("any", True)):
    config = {
        "names": [{"name": "gw.example.test", "providers": ["z"]}],
        "providers": {"z": {"type": "zonefile", "zone": "example.test", "directory": "."}},
        "detect": {"ipv4": {"interface": interface}, "ipv6": {"interface": interface}},
    }
    path = work / f"{label}.json"
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    found = detect_all(load_agent_config(str(path)).detect)
    report[label] = {f"ipv{f}": [d.address, d.how, d.error] for f, d in found.items()}
print(json.dumps(report))
"""

FLAGS = ("temporary", "deprecated", "tentative", "dadfailed", "mngtmpaddr", "nodad")


def test_the_interface_detection_reads_the_kernel_and_skips_temporary_and_deprecated(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.fail("the interface test needs root, unshare (util-linux) and ip (iproute2)", pytrace=False)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    result = subprocess.run(
        ["unshare", "--net", sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    dump = {(a["interface"], a["address"]): a for a in report["dump"]}
    seen = {(link["ifname"], info["local"]): info for link in report["ip"] for info in link["addr_info"]}
    assert set(dump) == set(seen), (dump, seen)  # the same addresses as iproute2 sees
    for key, info in seen.items():
        mine = dump[key]
        assert mine["scope"] == info["scope"], key
        assert {f for f in FLAGS if info.get(f)} == {f for f in FLAGS if f in mine["flags"]}, (key, info, mine)
        forever = info["preferred_life_time"] == 4294967295
        assert (mine["preferred"] is None) == forever, (key, info, mine)
    temporary = [a for a in report["dump"] if "temporary" in a["flags"]]
    assert temporary and temporary[0]["address"].startswith("2a00:1450:4001:"), report["dump"]  # made by the kernel
    for label, how in (("v0", "interface v0"), ("any", "interface (any)")):
        assert report[label]["ipv6"] == ["2a00:1450:4001::7", how, None], report[label]
        assert report[label]["ipv4"] == ["8.8.4.4", how, None], report[label]


RENUMBER = r"""
import json, subprocess, sys, threading, time
from pathlib import Path

def ip(*args):
    subprocess.run(["ip", *args], check=True)

ip("link", "set", "lo", "up")
ip("link", "add", "v0", "type", "veth", "peer", "name", "v1")
subprocess.run(["sysctl", "-qw", "net.ipv6.conf.v0.use_tempaddr=2"], check=True)
ip("link", "set", "v0", "up")
ip("link", "set", "v1", "up")
ip("-6", "addr", "add", "2a00:1450:4001::7/64", "dev", "v0", "mngtmpaddr", "nodad",
   "valid_lft", "900", "preferred_lft", "800")

from ansible_collections.fleetdns.ddns.plugins.module_utils import process_runner
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent import Agent
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import load_agent_config
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_platform import address_watcher
from fleetdns.process import run_command

process_runner.command_runner = run_command
work = Path(sys.argv[1])
zone = work / "zones" / "example.test.zone"
lines = []
agent = Agent(load_agent_config(str(work / "agent.json")), lines.append, base_dir=str(work))
stop, trigger = threading.Event(), threading.Event()
watcher = address_watcher(trigger)
thread = threading.Thread(target=agent.run_forever, args=(stop, trigger), daemon=True)
thread.start()

def wait_for(new, old, limit):
    ends = time.monotonic() + limit
    while time.monotonic() < ends:
        text = zone.read_text()
        if new in text and (old is None or old not in text):
            return True
        time.sleep(0.05)
    return False

report = {"watcher": watcher is not None, "first": wait_for("2a00:1450:4001::7", None, 20)}
time.sleep(1)  # past the first pass's debounce
started = time.monotonic()
# Renumbering: the new prefix arrives, the old one is deprecated (its preferred lifetime ends).
ip("-6", "addr", "add", "2a00:1450:4003::9/64", "dev", "v0", "mngtmpaddr", "nodad",
   "valid_lft", "900", "preferred_lft", "800")
ip("-6", "addr", "change", "2a00:1450:4001::7/64", "dev", "v0", "valid_lft", "900", "preferred_lft", "0")
report["followed"] = wait_for("2a00:1450:4003::9", "2a00:1450:4001::7", 15)
report["seconds"] = time.monotonic() - started
stop.set()
thread.join(10)
if watcher:
    watcher.close()
report["lines"] = lines
report["temporary"] = subprocess.run(["ip", "-6", "addr", "show", "dev", "v0", "temporary"],
                                     capture_output=True, text=True).stdout
print(json.dumps(report))
"""


def test_a_renumbered_ipv6_prefix_is_followed_within_seconds(tmp_path: Path) -> None:
    """The service loop with the interface detection: the stable address of the new prefix replaces
    the deprecated one in the zone, long before the poll, and no temporary address is ever published."""
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.fail("the interface test needs root, unshare (util-linux) and ip (iproute2)", pytrace=False)
    from ansible_collections.fleetdns.ddns.plugins.module_utils.record_task import RecordTask, run_task

    run_task(RecordTask({"type": "zonefile", "directory": str(tmp_path / "zones")}, "example.test", [],
                        owner="fleet-main", device_names=["gw.example.test"]))  # fmt: skip
    config = {
        "owner": "fleet-main",
        "interval": 300, "debounce": 0.5, "min_update_interval": 0, "verify_interval": 0.1,
        "names": [{"name": "gw.example.test", "providers": ["files"]}],
        "providers": {"files": {"type": "zonefile", "directory": "zones", "zone": "example.test"}},
        "detect": {"ipv4": False, "ipv6": {"interface": "v0"}},
    }  # fmt: skip
    path = tmp_path / "agent.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    path.chmod(0o600)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    result = subprocess.run(
        ["unshare", "--net", sys.executable, "-c", RENUMBER, str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["watcher"] and report["first"], report
    assert report["followed"], report
    assert report["seconds"] < 5, report
    assert "2a00:1450:4003:" in report["temporary"], report  # the kernel made privacy addresses meanwhile
    assert "triggered: an address or route changed" in report["lines"]
    assert "updated: gw.example.test via files: AAAA 2a00:1450:4003::9 (was AAAA 2a00:1450:4001::7)" in report["lines"]
    published = [line for line in report["lines"] if line.startswith("detected IPv6")]
    assert {line.split()[2] for line in published} <= {"2a00:1450:4001::7", "2a00:1450:4003::9"}, published
