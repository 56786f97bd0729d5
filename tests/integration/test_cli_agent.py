"""`fleetdns agent` as a user runs it: a process, its exit codes, its output; zone files as the
backend (no server, no credentials), so only the command's own behaviour is under test here
(tests/integration/test_agent_bind.py runs it against BIND)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ansible_collections.fleetdns.ddns.plugins.module_utils.record_task import RecordTask, run_task

ROOT = Path(__file__).resolve().parents[2]


def agent_config(tmp_path: Path, **extra: object) -> Path:
    zones = tmp_path / "zones"
    files = {"type": "zonefile", "directory": "zones"}
    run_task(
        RecordTask(
            {**files, "directory": str(zones)}, "example.test", [], owner="fleet-main", device_names=["gw.example.test"]
        )
    )
    data = {
        "owner": "fleet-main",
        "names": [{"name": "gw.example.test", "providers": ["files"]}],
        "providers": {"files": {**files, "zone": "example.test"}},
        "detect": {"ipv4": {"static": "8.8.8.8"}, "ipv6": False},
        **extra,
    }
    path = tmp_path / "agent.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return path


def fleetdns(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fleetdns", *args], capture_output=True, text=True, timeout=60, check=False, cwd=ROOT
    )


def test_once_then_status(tmp_path: Path) -> None:
    config = agent_config(tmp_path)
    before = fleetdns("agent", "--config", str(config), "--status")
    assert before.returncode == 3
    assert before.stdout.startswith("gw.example.test via files: never; address none; last update never")

    once = fleetdns("agent", "--config", str(config), "--once")
    assert once.returncode == 0, once.stderr
    assert once.stdout.splitlines() == [
        "detected IPv4 8.8.8.8 (static)",
        "updated: gw.example.test via files: A 8.8.8.8 (was A nothing)",
        "verified: gw.example.test via files: the authoritative servers answer A 8.8.8.8",
    ]
    after = fleetdns("agent", "--config", str(config), "--status", "--json")
    assert after.returncode == 0
    entry = json.loads(after.stdout)["entries"][0]
    assert (entry["state"], entry["addresses"], entry["updates"], entry["last_error"]) == (
        "ok",
        {"A": "8.8.8.8"},
        1,
        None,
    )
    assert entry["last_verified"] >= entry["last_update"] > 0


def test_an_invalid_config_is_located_and_changes_nothing(tmp_path: Path) -> None:
    config = agent_config(tmp_path, interval="often")
    zone_before = (tmp_path / "zones" / "example.test.zone").read_text(encoding="utf-8")
    result = fleetdns("agent", "--config", str(config), "--once")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"error: {config}:24:15: interval: 'often' is not a number of seconds" in result.stderr
    assert "nothing was read or changed" in result.stderr
    assert (tmp_path / "zones" / "example.test.zone").read_text(encoding="utf-8") == zone_before
    assert not (tmp_path / "agent.state.json").exists()


def test_a_missing_config_file(tmp_path: Path) -> None:
    result = fleetdns("agent", "--config", str(tmp_path / "nope.json"), "--once")
    assert result.returncode == 1
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr


def test_the_service_runs_until_sigterm(tmp_path: Path) -> None:
    config = agent_config(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "fleetdns", "agent", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        lines = []
        ends = time.monotonic() + 30
        while not any(line.startswith("verified:") for line in lines):
            assert time.monotonic() < ends, lines
            lines.append(process.stdout.readline().strip())
        time.sleep(0.3)
        assert process.poll() is None  # still running, waiting for the next poll
        os.kill(process.pid, signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert lines[0] == "started: 1 name(s), poll every 300 s, events: netlink"
    assert out.strip().splitlines()[-1] == "stopped: agent exiting"


def test_the_readme_example_on_the_demo_zone_files(tmp_path: Path) -> None:
    """The README's zero-credential example, as written there, on what `make demo` leaves."""
    demo = tmp_path / "demo"
    subprocess.run([str(ROOT / "scripts" / "demo"), str(demo)], check=True, capture_output=True, timeout=300)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("cat > agent.json <<'EOF'\n", 1)[1]
    config, rest = block.split("\nEOF\n", 1)
    expected = [line[2:] for line in rest.split("```", 1)[0].splitlines() if line.startswith("# ")]
    (demo / "agent.json").write_text(config + "\n", encoding="utf-8")
    (demo / "agent.json").chmod(0o600)

    result = fleetdns("agent", "--config", str(demo / "agent.json"), "--once")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected
    plan = subprocess.run(
        [sys.executable, "-m", "fleetdns", "plan", "-i", "hosts.yml", "--detailed-exitcode"],
        capture_output=True, text=True, timeout=120, check=False, cwd=demo,
    )  # fmt: skip
    assert plan.returncode == 0, plan.stdout + plan.stderr  # the agent's address is no change for the inventory
