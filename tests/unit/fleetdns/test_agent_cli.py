"""The agent's command line outside a pass: what the service's idle parent imports, the one-file
agent's --version, and the service with its passes in its own process (the Windows way)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("dns", "requests", "urllib3")


def same_imports() -> dict[str, str]:
    """The environment for a child Python that imports what this test process imports (under
    `ansible-test units` the collection and the CLI come from its own copy of the tree)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def test_the_idle_parent_imports_neither_dnspython_nor_requests() -> None:
    code = (
        "import sys, subprocess\n"
        "from fleetdns import agent_cli\n"
        "from ansible_collections.fleetdns.ddns.plugins.module_utils import agent_platform, agent_schedule\n"
        "import argparse\n"
        "parser = argparse.ArgumentParser(); agent_cli.add_arguments(parser)\n"
        "parser.parse_args(['--config', 'x.json'])\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m.endswith('.agent')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=same_imports()
    )
    assert result.stdout.strip() == "[]", result.stdout


def zonefile_config(tmp_path: Path) -> Path:
    from ansible_collections.fleetdns.ddns.plugins.module_utils.record_task import RecordTask, run_task

    zones = tmp_path / "zones"
    files = {"type": "zonefile", "directory": str(zones)}
    run_task(RecordTask(files, "example.test", [], owner="o", device_names=["gw.example.test"]))
    path = tmp_path / "agent.json"
    path.write_text(
        json.dumps(
            {
                "owner": "o",
                "names": [{"name": "gw.example.test", "providers": ["files"]}],
                "providers": {"files": {**files, "zone": "example.test"}},
                "detect": {"ipv4": {"static": "8.8.8.8"}, "ipv6": False},
            }
        ),
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def test_the_service_in_one_process_where_there_are_no_child_passes(tmp_path: Path) -> None:
    config = zonefile_config(tmp_path)
    code = (
        "import sys\nfrom fleetdns import agent_cli\nagent_cli.CHILD_PASSES = False\n"
        "from fleetdns.cli import main\nsys.exit(main(['agent', '--config', sys.argv[1]]))\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=same_imports(),
    )  # fmt: skip
    try:
        lines: list[str] = []
        ends = time.monotonic() + 30
        while not any(line.startswith("verified:") for line in lines):
            assert time.monotonic() < ends and process.poll() is None, lines
            lines.append(process.stdout.readline().strip())
        os.kill(process.pid, signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert lines[0] == "started: 1 name(s), poll every 300 s, events: netlink"
    assert out.strip().splitlines()[-1] == "stopped: agent exiting"


def test_the_one_file_agent_prints_its_version_and_checks_a_config(tmp_path: Path) -> None:
    archive = tmp_path / "fleetdns-agent.pyz"
    subprocess.run([str(ROOT / "scripts" / "build-agent-zipapp"), str(archive)], check=True, capture_output=True)
    version = subprocess.run([sys.executable, str(archive), "--version"], capture_output=True, text=True, check=False)
    assert version.returncode == 0
    project = (ROOT / "pyproject.toml").read_text(encoding="utf-8").split('version = "', 1)[1].split('"', 1)[0]
    assert version.stdout.startswith(f"fleetdns-agent {project}"), version.stdout  # +g<commit> in a git checkout
    config = zonefile_config(tmp_path)
    check = subprocess.run(
        [sys.executable, str(archive), "--config", str(config), "--check-config"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0 and "valid: 1 name(s), 1 provider(s)" in check.stdout, check
    config.chmod(0o644)
    refused = subprocess.run(
        [sys.executable, str(archive), "--config", str(config), "--check-config"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
