"""The real `fleetdns validate` on zonefile provider options that would end up in a zone file: an SOA
contact with zone-file syntax in it is refused at its own line, before any file is touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FLEETDNS = Path(sys.executable).parent / "fleetdns"
INVENTORY = """\
all:
  vars:
    fleetdns_owner: fleet-main
    fleetdns_providers:
      files:
        type: zonefile
        soa_email: {email}
    fleetdns_zones:
      example.test:
        provider: files
        records:
          - {{name: www, type: A, value: 192.0.2.1}}
"""


def fleetdns(cwd: Path, *argv: str) -> subprocess.CompletedProcess:
    if not FLEETDNS.exists():
        pytest.fail(f"{FLEETDNS} not found: run `make venv`", pytrace=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETDNS_")}
    return subprocess.run(
        [str(FLEETDNS), *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    "email",
    ["host;master@example.test", "host(master@example.test", 'host"master@example.test', "hostmaster@example.test\n"],
    ids=["semicolon", "parenthesis", "quote", "newline"],
)
def test_a_soa_email_with_zone_file_syntax_is_refused_at_its_line(tmp_path: Path, email: str) -> None:
    (tmp_path / "hosts.yml").write_text(INVENTORY.format(email=json.dumps(email)))
    for command in ("validate", "apply"):
        proc = fleetdns(tmp_path, command, "-i", "hosts.yml")
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, proc.stderr
        assert errors[0].startswith("error: hosts.yml:7:20: fleetdns_providers.files.soa_email: ")
    assert not (tmp_path / "zones").exists()


def test_a_plain_soa_email_lands_escaped_in_a_file_that_loads(tmp_path: Path) -> None:
    (tmp_path / "hosts.yml").write_text(INVENTORY.format(email="first.last@example.test"))
    proc = fleetdns(tmp_path, "apply", "-i", "hosts.yml", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    soa = next(line for line in (tmp_path / "zones" / "example.test.zone").read_text().splitlines() if "SOA" in line)
    assert " first\\.last.example.test. " in soa
