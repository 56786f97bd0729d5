"""Run NewFuture's `ddns` client (the PyPI package, installed by the test extra) once against an emulator.

It takes the service's base URL as `--endpoint` and a CA file as `--ssl`, so it reaches the emulator over
HTTPS trusting only the test CA. The address comes from a `shell:echo` rule: no address detection,
no cache, no proxy, and HOME/cwd in the test's directory so nothing is written elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def ddns_binary() -> str:
    binary = Path(sys.executable).parent / "ddns"
    if not binary.exists():
        pytest.fail("the `ddns` client is missing: run `make venv` (the test extra installs ddns)", pytrace=False)
    return str(binary)


def run_ddns(
    tmp_path: Path,
    dns: str,
    endpoint: str,
    ca_file: str,
    user: str,
    token: str,
    ipv4: tuple[str, str] | None = None,
    ipv6: tuple[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """One run updating `ipv4` = (host, address) and/or `ipv6` = (host, address); output as text."""
    command = [ddns_binary(), "--dns", dns, "--id", user, "--token", token, "--endpoint", endpoint, "--ssl", ca_file]
    for family, wanted in (("4", ipv4), ("6", ipv6)):
        if wanted is None:
            command += [f"--index{family}", "false"]
        else:
            command += [f"--ipv{family}", wanted[0], f"--index{family}", f"shell:echo {wanted[1]}"]
    command += ["--no-cache", "--proxy", "DIRECT", "--log_level", "INFO"]
    env = {**os.environ, "HOME": str(tmp_path)}
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60, check=False)
