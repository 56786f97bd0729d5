"""Run Debian's ddclient once in the foreground against a local emulator, with a 0600 config file.

ddclient reads one option per line (`key=value`, the host name last). Its cache file is removed first so
each run decides afresh; `-verbose` makes it print what it sent and received, which tests assert on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def ddclient_binary() -> str:
    """The ddclient program; a failure naming the package when it is missing (never a skip)."""
    binary = shutil.which("ddclient") or "/usr/bin/ddclient"
    if not os.path.exists(binary):
        pytest.fail("ddclient not found: run `make test` (or `make system-packages`), which installs it", pytrace=False)
    return binary


def run_ddclient(tmp_path: Path, options: dict[str, str], hosts: list[str]) -> subprocess.CompletedProcess:
    """One run with `options` (protocol, server, login, password, ...) updating `hosts`; output in text."""
    lines = ["daemon=0", *(f"{key}={value}" for key, value in options.items()), ",".join(hosts), ""]
    config = tmp_path / "ddclient.conf"
    config.write_text("\n".join(lines))
    config.chmod(0o600)
    cache = tmp_path / "ddclient.cache"
    cache.unlink(missing_ok=True)
    command = [ddclient_binary(), "-foreground", "-daemon=0", "-noquiet", "-verbose", "-file", str(config)]
    return subprocess.run([*command, "-cache", str(cache)], capture_output=True, text=True, timeout=60, check=False)


def tls_options(ca_file: str | None) -> dict[str, str]:
    """ddclient over HTTPS trusting only the test CA."""
    assert ca_file, "the emulator was started without tls_dir"
    return {"ssl": "yes", "ssl_ca_file": ca_file}
