"""Event-triggered passes, in a network namespace this test makes (`unshare -n`, as root): a real
BIND on the namespace's loopback, the agent service loop with its netlink watcher, and the device's
address taken from the interface by a command source. Changing the interface's address must bring
the authoritative answer along within seconds, long before the 300 s poll."""

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
import json, os, subprocess, sys, threading, time
from pathlib import Path

def ip(*args):
    subprocess.run(["ip", *args], check=True)

ip("link", "set", "lo", "up")
ip("addr", "add", "10.20.0.1/32", "dev", "lo")

from lab.bind import BindLab
from ansible_collections.fleetdns.ddns.plugins.module_utils import process_runner
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent import Agent
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import load_agent_config
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_platform import address_watcher
from ansible_collections.fleetdns.ddns.plugins.module_utils.record_task import RecordTask, run_task
from fleetdns.process import run_command

process_runner.command_runner = run_command
work = Path(sys.argv[1])
report = {}
with BindLab() as lab:
    run_task(RecordTask(lab.provider_options("admin"), lab.zone, [], owner="o", device_names=["host1.example.test"]))
    key = lab.keys["host1key"]
    show = "ip -4 -o addr show dev lo scope global | awk '{print $4}' | cut -d/ -f1 | head -1"
    config = {
        "owner": "o", "interval": 300, "debounce": 0.5, "min_update_interval": 0, "verify_interval": 0.1,
        "allow_non_global": True,
        "names": [{"name": "host1.example.test", "providers": ["lab"]}],
        "providers": {"lab": {"type": "rfc2136", "zone": "example.test", "server": lab.host, "port": lab.port,
                              "tsig_key_name": key.name, "tsig_algorithm": key.algorithm, "tsig_secret": key.secret}},
        "detect": {"ipv4": {"command": ["sh", "-c", show]}, "ipv6": False},
    }
    path = work / "agent.json"
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    lines = []
    agent = Agent(load_agent_config(str(path)), lines.append)
    stop, trigger = threading.Event(), threading.Event()
    watcher = address_watcher(trigger)
    report["watcher"] = watcher is not None
    thread = threading.Thread(target=agent.run_forever, args=(stop, trigger), daemon=True)
    thread.start()

    def wait_for(address, limit):
        ends = time.monotonic() + limit
        while time.monotonic() < ends:
            if lab.query("host1.example.test", "A") == {address}:
                return True
            time.sleep(0.05)
        return False

    report["first"] = wait_for("10.20.0.1", 20)
    time.sleep(1)  # past the debounce of the first pass
    started = time.monotonic()
    ip("addr", "del", "10.20.0.1/32", "dev", "lo")
    ip("addr", "add", "10.20.0.2/32", "dev", "lo")
    report["followed"] = wait_for("10.20.0.2", 15)
    report["seconds"] = time.monotonic() - started
    stop.set()
    thread.join(10)
    if watcher:
        watcher.close()
    report["lines"] = lines
print(json.dumps(report))
"""


def test_an_address_change_is_followed_within_seconds(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.fail("the event test needs root, unshare (util-linux) and ip (iproute2)", pytrace=False)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    result = subprocess.run(
        ["unshare", "--net", sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["watcher"] and report["first"], report
    assert report["followed"], report
    assert report["seconds"] < 5, report  # the median target is under 2 s; one sample on a busy machine gets room
    assert "triggered: an address or route changed" in report["lines"]
    assert "updated: host1.example.test via lab: A 10.20.0.2 (was A 10.20.0.1)" in report["lines"]
