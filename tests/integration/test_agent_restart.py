"""Killing the agent mid-update and starting it again, against the real BIND lab.

The agent (`python -m fleetdns agent --once`, a real process) sends its UPDATE to BIND and is killed
with SIGKILL while it verifies: a second server the agent asks still answers the old address (a
lagging secondary, a fake responder). The state file must be whole, and the agent started again must
not send the UPDATE a second time: while the secondary still lags it holds back
(min_update_interval, counted from the attempt it wrote before sending), and once the secondary
has caught up it finds the address published. UPDATE messages are counted in BIND's log.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ansible_collections.fleetdns.ddns.plugins.module_utils.record_task import RecordTask, run_task
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.public_ip_fakes import DnsBehaviour, DnsResponder

ROOT = Path(__file__).resolve().parents[2]
NAME = "host1.example.test"


def device_updates(bind: Any) -> int:
    return sum(1 for line in bind.log_text().splitlines() if "key host1key: updating zone" in line)


def agent(config: Path) -> list[str]:
    return [sys.executable, "-m", "fleetdns", "agent", "--config", str(config), "--once"]


def test_a_kill_mid_update_then_a_restart_sends_nothing_twice(bind: Any, tmp_path: Path, servers: list) -> None:
    run_task(RecordTask(bind.provider_options("admin"), bind.zone, [], owner="fleet-main", device_names=[NAME]))
    bind.nsupdate(f"update add {NAME}. 60 A 192.0.2.1")
    secondary = DnsResponder(DnsBehaviour(["192.0.2.1"]))
    servers.append(secondary)
    key = bind.keys["host1key"]
    config = tmp_path / "agent.json"
    config.write_text(
        json.dumps(
            {
                "owner": "fleet-main",
                "names": [{"name": NAME, "providers": ["lab"]}],
                "providers": {
                    "lab": {
                        "type": "rfc2136",
                        "zone": "example.test",
                        "server": bind.host,
                        "port": bind.port,
                        "tsig_key_name": key.name,
                        "tsig_algorithm": key.algorithm,
                        "tsig_secret": key.secret,
                        "verify_servers": [f"{bind.host}:{bind.port}", f"{secondary.host}:{secondary.port}"],
                    }
                },
                "detect": {"ipv4": {"static": "8.8.4.4"}, "ipv6": False},
                "verify_deadline": 60,
                "verify_interval": 0.2,
                "min_update_interval": 600,
            }
        ),
        encoding="utf-8",
    )
    config.chmod(0o600)
    state_file = tmp_path / "agent.state.json"

    process = subprocess.Popen(agent(config), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        ends = time.monotonic() + 30
        line = ""
        while not line.startswith("updated:"):
            assert time.monotonic() < ends and process.poll() is None, line
            line = process.stdout.readline()
        time.sleep(0.5)  # verifying now: the secondary still answers 192.0.2.1
        assert process.poll() is None
        os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert bind.query(NAME, "A") == {"8.8.4.4"}
    assert device_updates(bind) > 0
    sent = device_updates(bind)
    state = json.loads(state_file.read_text(encoding="utf-8"))  # whole: the previous or the new state
    entry = state["entries"][f"{NAME}. lab"]
    assert entry["last_attempt"] is not None  # written before the UPDATE went out

    lagging = subprocess.run(agent(config), capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
    assert lagging.returncode == 2, lagging.stdout + lagging.stderr
    assert f"backing off: {NAME} via lab: last update" in lagging.stdout
    assert device_updates(bind) == sent  # held back: not sent again

    secondary.behaviour.values = ["8.8.4.4"]  # the secondary caught up
    caught_up = subprocess.run(agent(config), capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
    assert caught_up.returncode == 0, caught_up.stdout + caught_up.stderr
    assert f"unchanged: {NAME} via lab: already published: A 8.8.4.4" in caught_up.stdout
    assert device_updates(bind) == sent
    entry = json.loads(state_file.read_text(encoding="utf-8"))["entries"][f"{NAME}. lab"]
    assert entry["addresses"] == {"A": "8.8.4.4"} and entry["last_checked"] is not None
    assert entry["failures"] == 0 and entry["stopped"] is None
