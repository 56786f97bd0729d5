"""The one-file agent (`make agent-zipapp`) on Debian 12 as a small device has it: a debootstrap root
with nothing but python3 and the distribution's python3-dnspython (2.3) and python3-requests
(2.28), built by scripts/build-device-root. The agent runs in it with chroot, which keeps the
host's network, so it updates the real BIND lab on 127.0.0.1 with the device key.

A chroot rather than a container: `make fresh-check` runs the suite inside a container without
podman; debootstrap and chroot work there as on the host (both need root, as the event test does).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.record_task import RecordTask, run_task

ROOT = Path(__file__).resolve().parents[2]
OWNER = "fleet-main"
NAME = "host1.example.test"


@pytest.fixture(scope="module")
def device_root() -> Path:
    if os.geteuid() != 0 or shutil.which("chroot") is None:
        pytest.fail("the Debian 12 device test needs root and chroot (coreutils)", pytrace=False)
    if shutil.which("debootstrap") is None:
        pytest.fail("debootstrap not found: install the debootstrap package (make system-packages)", pytrace=False)
    built = subprocess.run(
        [str(ROOT / "scripts" / "build-device-root")], capture_output=True, text=True, timeout=900, check=False
    )
    assert built.returncode == 0, built.stderr
    return Path(built.stdout.strip().splitlines()[-1])


@pytest.fixture
def workdir(device_root: Path, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder inside the device root holding the freshly built agent: (host path, path in the root)."""
    inside = f"/tmp/{tmp_path.name}"
    host = device_root / inside.lstrip("/")
    host.mkdir(parents=True)
    built = subprocess.run(
        [str(ROOT / "scripts" / "build-agent-zipapp"), str(host / "fleetdns-agent.pyz")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    try:
        yield host, inside
    finally:
        shutil.rmtree(host, ignore_errors=True)


def in_root(device_root: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["chroot", str(device_root), *argv],
        capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
    )  # fmt: skip


def test_the_root_is_debian_12_with_only_the_distributions_libraries(device_root: Path) -> None:
    versions = in_root(device_root, "dpkg-query", "-W", "-f", "${Package} ${Version}\n", "python3*")
    assert versions.returncode == 0, versions.stderr
    installed = dict(line.split(" ", 1) for line in versions.stdout.splitlines() if " " in line)
    assert installed["python3-dnspython"].startswith("2.3.0"), installed
    assert installed["python3-requests"].startswith("2.28.1"), installed
    assert installed["python3"].startswith("3.11."), installed
    assert "bookworm" in (device_root / "etc" / "os-release").read_text(encoding="utf-8")
    for module in ("ansible", "jinja2", "yaml"):
        probe = in_root(device_root, "python3", "-c", f"import {module}")
        assert probe.returncode != 0, f"{module} is importable in the device root"


def test_the_one_file_agent_updates_bind_with_debians_dnspython(
    bind: Any, device_root: Path, workdir: tuple[Path, str]
) -> None:
    host, inside = workdir
    run_task(RecordTask(bind.provider_options("admin"), bind.zone, [], owner=OWNER, device_names=[NAME]))
    bind.nsupdate(f"update add {NAME}. 300 A 192.0.2.1\nupdate add {NAME}. 300 AAAA 2001:db8::1")
    key = bind.keys["host1key"]
    config = {
        "owner": OWNER,
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
            }
        },
        "detect": {"ipv4": {"static": "8.8.4.4"}, "ipv6": False},
        "verify_deadline": 10,
        "verify_interval": 0.2,
        "min_update_interval": 0,
    }
    (host / "agent.json").write_text(json.dumps(config), encoding="utf-8")
    (host / "agent.json").chmod(0o600)
    agent = ["python3", f"{inside}/fleetdns-agent.pyz", "--config", f"{inside}/agent.json"]

    version = in_root(device_root, *agent[:2], "--version")
    assert version.returncode == 0 and version.stdout.startswith("fleetdns-agent 0."), version
    check = in_root(device_root, *agent, "--check-config")
    assert check.returncode == 0, check.stderr
    first = in_root(device_root, *agent, "--once")

    assert first.returncode == 0, first.stdout + first.stderr
    assert f"updated: {NAME} via lab: A 8.8.4.4 (was A 192.0.2.1)" in first.stdout
    assert f"verified: {NAME} via lab" in first.stdout
    assert bind.query(NAME, "A") == {"8.8.4.4"}
    assert bind.query(NAME, "AAAA") == {"2001:db8::1"}  # the other family kept
    assert key.secret not in first.stdout + first.stderr
    updates = [line for line in bind.log_text().splitlines() if "key host1key: updating zone" in line]
    assert updates, "the device key's UPDATE did not reach BIND"

    again = in_root(device_root, *agent, "--once")  # nothing changed: nothing sent
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"unchanged: {NAME} via lab: already published: A 8.8.4.4" in again.stdout
    after = [line for line in bind.log_text().splitlines() if "key host1key: updating zone" in line]
    assert after == updates
    status = in_root(device_root, *agent, "--status")
    assert status.returncode == 0 and f"{NAME} via lab: ok; address A 8.8.4.4" in status.stdout, status


def test_an_invalid_config_is_located_in_the_root(device_root: Path, workdir: tuple[Path, str]) -> None:
    host, inside = workdir
    (host / "agent.json").write_text('{\n  "names": [],\n  "providers": {},\n  "intervall": 5\n}\n', encoding="utf-8")
    (host / "agent.json").chmod(0o600)
    result = in_root(
        device_root, "python3", f"{inside}/fleetdns-agent.pyz", "--config", f"{inside}/agent.json", "--check-config"
    )
    assert result.returncode == 1
    assert f"{inside}/agent.json:4:" in result.stderr and "Traceback" not in result.stderr, result.stderr
