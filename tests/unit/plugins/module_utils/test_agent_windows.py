"""The agent on Windows, as far as a Linux CI can tell: a Python that says it is Windows
(sys.platform "win32"), where every POSIX-only module fails to import, os has no uid/gid or fchmod
and socket has no AF_NETLINK, must import the agent, its command and the CLI, choose the Windows
paths, poll instead of watching netlink, skip the mode-bit check of the config file, and run a pass
on zone files (locked through msvcrt, which the simulation provides over the real flock). Nothing
here runs on real Windows; docs/agent.md says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ansible_collections.fleetdns.ddns.plugins.module_utils.record_task import RecordTask, run_task

POSIX_ONLY = ("fcntl", "termios", "pwd", "grp", "resource", "syslog", "pty", "tty", "posix_ipc")

# The standard and third-party modules that choose their implementation by platform at import are
# imported first, as the real ones (they support Windows themselves); then the platform is faked and
# fleetdns's own modules are imported under it.
SIMULATION = r"""
import json, os, socket, sys
import contextlib, ctypes, http.client, importlib, ssl, subprocess, tempfile, shutil, threading, uuid
import dns.resolver, dns.query, dns.tsig, requests
import fcntl as posix_fcntl, types

msvcrt = types.ModuleType("msvcrt")  # Windows' own module, standing in: locks through the real flock
msvcrt.LK_NBLCK = 2
msvcrt.locks = []
def locking(fd, mode, nbytes):
    msvcrt.locks.append((mode, nbytes))
    posix_fcntl.flock(fd, posix_fcntl.LOCK_EX | posix_fcntl.LOCK_NB)
msvcrt.locking = locking
sys.modules["msvcrt"] = msvcrt
# shutil.which asks Windows' _winapi on "win32" from Python 3.12; it says yes unless the
# NoDefaultCurrentDirectoryInExePath variable is set.
if getattr(shutil, "_winapi", True) is None:
    shutil._winapi = types.SimpleNamespace(NeedCurrentDirectoryForExePath=lambda name: True)
for name in POSIX_ONLY:
    sys.modules[name] = None
sys.platform = "win32"
for attr in ("getuid", "geteuid", "getgid", "getegid", "fchmod", "fchown", "setsid", "killpg"):
    if hasattr(os, attr):
        delattr(os, attr)
if hasattr(socket, "AF_NETLINK"):
    del socket.AF_NETLINK
for name in [n for n in sys.modules if n.startswith(("ansible_collections.fleetdns", "fleetdns"))]:
    del sys.modules[name]
os.environ["ProgramData"] = "C:\\ProgramData"

base = "ansible_collections.fleetdns.ddns.plugins.module_utils."
for name in ("agent", "agent_config", "agent_detect", "agent_lookup", "agent_metrics", "agent_notify",
             "agent_platform", "agent_state", "public_ip", "providers.zonefile", "providers.rfc2136",
             "providers.dyndns2", "providers.duckdns", "providers.cloudflare"):
    importlib.import_module(base + name)
try:
    from fleetdns.cli import main
    import fleetdns.commands.agent
except ImportError:  # under ansible-test units the CLI package lies inside the collection
    from ansible_collections.fleetdns.ddns.fleetdns.cli import main
import threading
platform = importlib.import_module(base + "agent_platform")
report = {
    "config_file": platform.platform_paths().config_file,
    "checks_permissions": platform.checks_permissions(),
    "watcher": platform.address_watcher(threading.Event()) is not None,
    "interfaces": platform.interface_addresses(),
    "code": main(["agent", "--config", sys.argv[1], "--once"]),
}
report["msvcrt_locks"] = msvcrt.locks
print(json.dumps(report))
""".replace("POSIX_ONLY", repr(POSIX_ONLY))


def test_the_agent_imports_and_runs_a_pass_as_on_windows(tmp_path: Path) -> None:
    zones = tmp_path / "zones"
    run_task(RecordTask({"type": "zonefile", "directory": str(zones)}, "example.test", [], owner="fleet-main",
                        device_names=["gw.example.test"]))  # fmt: skip
    config = {
        "owner": "fleet-main",
        "names": [{"name": "gw.example.test", "providers": ["files"]}],
        "providers": {"files": {"type": "zonefile", "directory": "zones", "zone": "example.test"}},
        "detect": {"ipv4": {"static": "8.8.8.8"}, "ipv6": False},
    }
    path = tmp_path / "agent.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    path.chmod(0o644)  # readable by others: refused on POSIX, not checked on Windows (an ACL decides there)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    result = subprocess.run(
        [sys.executable, "-c", SIMULATION, str(path)],
        capture_output=True, text=True, timeout=120, check=False, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    report = json.loads(lines[-1])
    assert report == {
        "config_file": "C:\\ProgramData\\fleetdns\\agent.json",
        "checks_permissions": False,
        "watcher": False,
        "interfaces": None,
        "code": 0,
        "msvcrt_locks": [[2, 1]],  # the zone file was locked the Windows way
    }, result.stdout
    assert "updated: gw.example.test via files: A 8.8.8.8 (was A nothing)" in lines
    assert "8.8.8.8" in (zones / "example.test.zone").read_text(encoding="utf-8")
