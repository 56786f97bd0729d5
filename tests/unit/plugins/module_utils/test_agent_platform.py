from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils import agent_platform
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_platform import address_watcher, describe


def message(kind: int, payload: bytes = b"") -> bytes:
    length = 16 + len(payload)
    return struct.pack("=LHHLL", length, kind, 0, 0, 0) + payload + b"\0" * (-length % 4)


def test_describe_names_the_changes_once_each() -> None:
    data = message(20, b"abc") + message(21) + message(20) + message(24, b"x" * 9) + message(16)  # 16: a link
    assert describe(data) == "address added, address removed, route added"


def test_describe_ignores_other_messages_and_garbage() -> None:
    assert describe(message(16)) == ""
    assert describe(b"\x01\x00") == ""
    assert describe(struct.pack("=LHHLL", 3, 20, 0, 0, 0)) == ""  # a length shorter than the header


def test_no_netlink_means_polling_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(socket, "AF_NETLINK", raising=False)
    assert address_watcher(threading.Event()) is None
    with pytest.raises(OSError, match="not available"):
        agent_platform.NetlinkWatcher(threading.Event())


def test_a_sandbox_refusing_netlink_means_polling_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "AF_NETLINK", 16, raising=False)

    def refuse(*args: object) -> None:
        raise PermissionError("not here")

    monkeypatch.setattr(agent_platform.socket, "socket", refuse)
    assert address_watcher(threading.Event()) is None


POSIX_ONLY = ("fcntl", "termios", "pwd", "grp", "resource", "syslog", "pty", "tty")


def test_the_agent_imports_without_posix_only_modules() -> None:
    """What Windows lacks cannot be imported at module level by the agent or its command."""
    code = (
        "import sys\n"
        f"for name in {POSIX_ONLY!r}:\n"
        "    sys.modules[name] = None\n"
        "import importlib\n"
        "for name in ('agent', 'agent_config', 'agent_detect', 'agent_lookup', 'agent_notify', 'agent_platform',\n"
        "             'agent_state', 'jsonlocate'):\n"
        "    importlib.import_module('ansible_collections.fleetdns.ddns.plugins.module_utils.' + name)\n"
        "try:\n"
        "    import fleetdns.commands.agent\n"
        "except ImportError:  # under ansible-test units the CLI package lies inside the collection\n"
        "    import ansible_collections.fleetdns.ddns.fleetdns.commands.agent\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}  # this run's imports
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert result.returncode == 0, result.stderr
