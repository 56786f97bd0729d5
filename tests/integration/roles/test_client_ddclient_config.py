"""The ddclient.conf the client role writes, read by Debian's ddclient 3.10 itself (through the role's
check script, which loads /usr/bin/ddclient as a library), for every protocol the role writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.client_files import ClientSettings, device_files
from ansible_collections.fleetdns.ddns.plugins.module_utils.fleet import build_fleet
from ansible_collections.fleetdns.ddns.plugins.module_utils.tsig import TsigKey

from ..ddclient_runner import ddclient_binary

ROOT = Path(__file__).resolve().parents[3]
CHECK = ROOT / "roles" / "client" / "files" / "ddclient-check-config.pl"
sys.path.insert(0, str(ROOT / "tests" / "unit" / "plugins" / "module_utils"))
from test_client_files import INVENTORY  # noqa: E402  (the unit tests' inventory: every provider type)


def check(path: Path) -> subprocess.CompletedProcess:
    ddclient_binary()  # a failure naming the package when ddclient is missing
    return subprocess.run(["perl", str(CHECK), str(path)], capture_output=True, text=True, timeout=60, check=False)


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "ddclient.conf"
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    "names",
    [
        ["d.example.test", "e.example.test"],
        ["a.cf.test", "a.duckdns.org", "a.ddns.net", "a.dyn.test", "a.nc.test", "a.mooo.com"],
    ],
)
def test_ddclient_reads_what_the_role_writes_without_a_warning(tmp_path: Path, names: list[str]) -> None:
    fleet = build_fleet(INVENTORY, {"d": {"fleetdns_names": names, "fleetdns_agent": "ddclient"}})
    key = TsigKey("d", "hmac-sha256", "ZGV2aWNlLXNlY3JldC1kZXZpY2Utc2VjcmV0IQ==")
    files = device_files(fleet, fleet.clients["d"], ClientSettings(static_ipv4="192.0.2.9"), key)
    assert not files.problems
    result = check(write(tmp_path, files.ddclient_conf))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("text", "mode", "message"),
    [
        ("protocol=nosuch\nh1.example.test\n", 0o600, "Invalid Value for keyword 'protocol'"),
        ("protocol=dyndns2\nfrobnicate=1\nh1.example.test\n", 0o600, "unrecognized keyword 'frobnicate'"),
        ("protocol=dyndns2\nlogin=a\npassword='b'\nh1.example.test\n", 0o644, "must be accessible only by its owner"),
        ("protocol=dyndns2\n", 0o600, "names no host"),
    ],
)
def test_the_check_refuses_what_ddclient_warns_about(tmp_path: Path, text: str, mode: int, message: str) -> None:
    result = check(write(tmp_path, text, mode))
    assert result.returncode == 1 and message in result.stderr
