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
        "for name in ('agent', 'agent_config', 'agent_detect', 'agent_lookup', 'agent_metrics', 'agent_notify',\n"
        "             'agent_platform', 'agent_state', 'jsonlocate'):\n"
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


# ---- the interfaces' addresses


def attribute(kind: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * (-length % 4)


def new_address(family: int, address: str, flags: int, scope: int, index: int = 2, **extra: bytes) -> bytes:
    packed = socket.inet_pton(family, address)
    body = struct.pack("=BBBBI", family, 64, flags & 0xFF, scope, index)
    body += attribute(agent_platform.IFA_ADDRESS, extra.pop("peer", packed))
    if "local" in extra:
        body += attribute(agent_platform.IFA_LOCAL, extra.pop("local"))
    body += attribute(agent_platform.IFA_FLAGS, struct.pack("=I", flags))
    body += attribute(agent_platform.IFA_CACHEINFO, extra.pop("cacheinfo", struct.pack("=IIII", 3600, 7200, 0, 0)))
    return message(agent_platform.RTM_NEWADDR, body)


def test_address_messages_are_parsed_with_flags_scope_and_lifetimes() -> None:
    forever = struct.pack("=IIII", 2**32 - 1, 2**32 - 1, 0, 0)
    ptp = {"peer": socket.inet_aton("10.9.9.1"), "local": socket.inet_aton("10.9.9.9")}
    data = (
        new_address(socket.AF_INET6, "2001:4860::1", 0x01 | 0x100, 0)  # temporary; flags beyond 8 bits too
        + new_address(socket.AF_INET6, "2001:4860::2", 0x80, 0, cacheinfo=forever)
        + new_address(socket.AF_INET6, "fe80::1", 0x20 | 0x800, 253)
        + new_address(socket.AF_INET, "10.9.9.9", 0x80, 0, **ptp)
        + message(24, b"route")  # not an address: skipped
    )  # fmt: skip
    found = agent_platform.parse_address_messages(data, names={2: "eth0"}.get)
    assert [(a.interface, a.address, a.family, a.scope) for a in found] == [
        ("eth0", "2001:4860::1", 6, "global"),
        ("eth0", "2001:4860::2", 6, "global"),
        ("eth0", "fe80::1", 6, "link"),
        ("eth0", "10.9.9.9", 4, "global"),  # the local end of a point-to-point link, not the peer
    ]
    assert found[0].flags == {"temporary", "mngtmpaddr"} and found[0].preferred_lifetime == 3600
    assert found[1].flags == {"permanent"} and found[1].preferred_lifetime is None and found[1].valid_lifetime is None
    assert found[2].flags == {"deprecated", "stable-privacy"}


def test_truncated_address_messages_are_skipped() -> None:
    whole = new_address(socket.AF_INET6, "2001:4860::1", 0, 0)
    assert agent_platform.parse_address_messages(whole[:-8]) == []
    short = message(agent_platform.RTM_NEWADDR, struct.pack("=BBBBI", socket.AF_INET6, 64, 0, 0, 1))
    assert agent_platform.parse_address_messages(short) == []  # no address attribute at all


def test_the_kernel_dump_holds_the_loopback_addresses() -> None:
    found = agent_platform.interface_addresses()
    assert found is not None
    assert any(a.address == "127.0.0.1" and a.scope == "host" for a in found)


def test_no_netlink_means_no_interface_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(socket, "AF_NETLINK", raising=False)
    assert agent_platform.interface_addresses() is None


# ---- the platform's paths


def test_windows_keeps_its_config_under_programdata() -> None:
    paths = agent_platform.platform_paths("win32", {"ProgramData": "D:\\Data"})
    assert paths.config_dir == "D:\\Data\\fleetdns"
    assert paths.config_file == "D:\\Data\\fleetdns\\agent.json"
    assert agent_platform.platform_paths("win32", {}).config_file == "C:\\ProgramData\\fleetdns\\agent.json"
    assert not agent_platform.checks_permissions("win32")


def test_posix_keeps_its_config_under_etc() -> None:
    assert agent_platform.platform_paths("linux", {"ProgramData": "D:\\Data"}).config_file == "/etc/fleetdns/agent.json"
    assert agent_platform.checks_permissions("linux") == (os.name == "posix")
