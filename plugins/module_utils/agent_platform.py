"""What the agent needs from the operating system beyond portable Python: being told when the host's
addresses or routes change, so a pass runs within seconds instead of at the next poll; the
addresses the host's interfaces hold, with the kernel's flags (temporary, deprecated, tentative)
and lifetimes, for the interface detection; and where its files live by default.

On Linux that is a netlink socket subscribed to the kernel's address and route groups (the socket
module's AF_NETLINK, nothing to install). Elsewhere (Windows, macOS, BSD) `address_watcher`
returns None and the agent polls; nothing POSIX-only is imported here, so this module imports on
every platform. The events carry no address: any of them only triggers a pass, which detects as
usual (behind NAT the public address can change without any local event, hence the poll as well).
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import os
import socket
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

NETLINK_ROUTE = 0
# Multicast groups (linux/rtnetlink.h): addresses and routes of both families.
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV4_ROUTE = 0x40
RTMGRP_IPV6_IFADDR = 0x100
RTMGRP_IPV6_ROUTE = 0x400
GROUPS = RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE
# Message types that mean "something changed" (RTM_NEWADDR, RTM_DELADDR, RTM_NEWROUTE, RTM_DELROUTE).
CHANGE_TYPES = {20: "address added", 21: "address removed", 24: "route added", 25: "route removed"}
_HEADER = struct.Struct("=LHHLL")  # struct nlmsghdr: length, type, flags, sequence, port id


class NetlinkWatcher:
    """Sets `trigger` (and calls `report` with what changed) on every address or route change."""

    def __init__(self, trigger: threading.Event, report: Callable[[str], None] | None = None) -> None:
        family = getattr(socket, "AF_NETLINK", None)
        if family is None:
            raise OSError("netlink is not available on this platform")
        self._sock = socket.socket(family, socket.SOCK_RAW, NETLINK_ROUTE)
        self._sock.bind((0, GROUPS))
        self._sock.settimeout(0.5)
        self._trigger = trigger
        self._report = report
        self._closed = threading.Event()
        self.events = 0
        self._thread = threading.Thread(target=self._run, name="fleetdns-netlink", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:  # closed, or the kernel dropped messages (ENOBUFS): a pass sorts it out
                if self._closed.is_set():
                    return
                self._changed("events were lost")
                continue
            what = describe(data)
            if what:
                self._changed(what)

    def _changed(self, what: str) -> None:
        self.events += 1
        if self._report:
            self._report(what)
        self._trigger.set()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._sock.close()
        self._thread.join(2)


def describe(data: bytes) -> str:
    """What the netlink messages in `data` changed ("" when none is an address or route change)."""
    found = []
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind, _flags, _seq, _pid = _HEADER.unpack_from(data, offset)
        if length < _HEADER.size:
            break
        if kind in CHANGE_TYPES and CHANGE_TYPES[kind] not in found:
            found.append(CHANGE_TYPES[kind])
        offset += (length + 3) & ~3
    return ", ".join(found)


def address_watcher(trigger: threading.Event, report: Callable[[str], None] | None = None) -> NetlinkWatcher | None:
    """A watcher of address changes where the platform has one, else None (poll only)."""
    if getattr(socket, "AF_NETLINK", None) is None:
        return None
    try:
        return NetlinkWatcher(trigger, report)
    except OSError:  # a sandbox without netlink: polling still works
        return None


# ---- the addresses the interfaces hold (RTM_GETADDR dump) -----------------------------------------

RTM_NEWADDR, RTM_GETADDR = 20, 22
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
_IFADDRMSG = struct.Struct("=BBBBI")  # family, prefix length, flags (low 8 bits), scope, interface index
_RTATTR = struct.Struct("=HH")  # length, type
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFA_CACHEINFO, IFA_FLAGS = 1, 2, 3, 6, 8
FOREVER = 0xFFFFFFFF  # a lifetime that never ends
# Address flags (linux/if_addr.h) by the names `ip addr` prints.
ADDRESS_FLAGS = {
    0x01: "temporary",  # an RFC 8981 privacy address (IPv4: a secondary address)
    0x02: "nodad",
    0x04: "optimistic",
    0x08: "dadfailed",
    0x10: "home",
    0x20: "deprecated",
    0x40: "tentative",
    0x80: "permanent",  # configured by hand, not by autoconfiguration
    0x100: "mngtmpaddr",
    0x200: "noprefixroute",
    0x400: "autojoin",
    0x800: "stable-privacy",
}
SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
_sequence = itertools.count(1)


@dataclass(frozen=True)
class InterfaceAddress:
    """One address an interface holds, as the kernel describes it."""

    interface: str
    address: str
    family: int  # 4 or 6
    prefixlen: int
    scope: str  # global, site, link, host
    flags: frozenset[str]
    preferred_lifetime: int | None = None  # seconds; None: forever
    valid_lifetime: int | None = None


def parse_address_messages(data: bytes, names: Callable[[int], str] | None = None) -> list[InterfaceAddress]:
    """The RTM_NEWADDR messages in `data` (a netlink dump or event) as addresses; anything else is skipped.

    `names` maps an interface index to its name (default: socket.if_indextoname, else the number)."""
    found: list[InterfaceAddress] = []
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind, _flags, _seq, _pid = _HEADER.unpack_from(data, offset)
        if length < _HEADER.size or offset + length > len(data):
            break
        if kind == RTM_NEWADDR and length >= _HEADER.size + _IFADDRMSG.size:
            item = _address(data[offset + _HEADER.size : offset + length], names or _interface_name)
            if item is not None:
                found.append(item)
        offset += (length + 3) & ~3
    return found


def _address(body: bytes, names: Callable[[int], str]) -> InterfaceAddress | None:
    family, prefixlen, flags, scope, index = _IFADDRMSG.unpack_from(body, 0)
    if family not in (socket.AF_INET, socket.AF_INET6):
        return None
    attributes: dict[int, bytes] = {}
    offset = _IFADDRMSG.size
    while offset + _RTATTR.size <= len(body):
        length, kind = _RTATTR.unpack_from(body, offset)
        if length < _RTATTR.size or offset + length > len(body):
            break
        attributes[kind] = body[offset + _RTATTR.size : offset + length]
        offset += (length + 3) & ~3
    if IFA_FLAGS in attributes and len(attributes[IFA_FLAGS]) >= 4:
        flags = struct.unpack_from("=I", attributes[IFA_FLAGS])[0]  # the full 32 bits
    # IPv4: IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer's on a point-to-point link).
    raw = attributes.get(IFA_LOCAL) if family == socket.AF_INET else None
    raw = raw or attributes.get(IFA_ADDRESS)
    size = 4 if family == socket.AF_INET else 16
    if raw is None or len(raw) != size:
        return None
    preferred = valid = None
    if IFA_CACHEINFO in attributes and len(attributes[IFA_CACHEINFO]) >= 8:
        prefered_raw, valid_raw = struct.unpack_from("=II", attributes[IFA_CACHEINFO])
        preferred = None if prefered_raw == FOREVER else prefered_raw
        valid = None if valid_raw == FOREVER else valid_raw
    return InterfaceAddress(
        interface=names(index),
        address=str(ipaddress.ip_address(raw)),
        family=4 if family == socket.AF_INET else 6,
        prefixlen=prefixlen,
        scope=SCOPES.get(scope, str(scope)),
        flags=frozenset(name for bit, name in ADDRESS_FLAGS.items() if flags & bit),
        preferred_lifetime=preferred,
        valid_lifetime=valid,
    )


def _interface_name(index: int) -> str:
    try:
        return socket.if_indextoname(index)
    except (OSError, AttributeError):
        return str(index)


def interface_addresses(timeout: float = 2.0) -> list[InterfaceAddress] | None:
    """Every address of every interface, from the kernel (netlink); None where the platform has no
    netlink (Windows, macOS, BSD) or a sandbox refuses it. OSError when the dump fails midway."""
    family = getattr(socket, "AF_NETLINK", None)
    if family is None:
        return None
    try:
        sock = socket.socket(family, socket.SOCK_RAW, NETLINK_ROUTE)
    except OSError:
        return None
    with sock:
        sock.settimeout(timeout)
        sock.bind((0, 0))
        sequence = next(_sequence)
        request = _IFADDRMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        header = _HEADER.pack(_HEADER.size + len(request), RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, sequence, 0)
        sock.send(header + request)
        chunks: list[bytes] = []
        while True:
            data = sock.recv(65536)
            chunks.append(data)
            if _dump_ended(data, sequence):
                break
    return parse_address_messages(b"".join(chunks))


def _dump_ended(data: bytes, sequence: int) -> bool:
    """Whether `data` holds the end (NLMSG_DONE) of the dump `sequence`; OSError on NLMSG_ERROR."""
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind, _flags, seq, _pid = _HEADER.unpack_from(data, offset)
        if length < _HEADER.size:
            return True
        if seq == sequence and kind == NLMSG_DONE:
            return True
        if seq == sequence and kind == NLMSG_ERROR:
            code = struct.unpack_from("=i", data, offset + _HEADER.size)[0] if length >= _HEADER.size + 4 else 0
            if code:
                raise OSError(-code, os.strerror(-code))
            return True
        offset += (length + 3) & ~3
    return False


# ---- where the agent's files live -----------------------------------------------------------------

CONFIG_NAME = "agent.json"


@dataclass(frozen=True)
class PlatformPaths:
    """Where the agent looks for its config file when --config is not given; its state file lies
    beside the config (agent.state.json) unless the config says otherwise."""

    config_dir: str
    config_file: str


def is_windows(platform: str | None = None) -> bool:
    return (platform or sys.platform) == "win32"


def platform_paths(platform: str | None = None, environ: dict[str, str] | None = None) -> PlatformPaths:
    """The platform's place for a system service's configuration: %ProgramData%\\fleetdns on
    Windows (C:\\ProgramData\\fleetdns when the variable is unset), /etc/fleetdns elsewhere."""
    env = os.environ if environ is None else environ
    if is_windows(platform):
        import ntpath  # the Windows path rules, whatever runs this

        base = env.get("ProgramData") or env.get("PROGRAMDATA") or "C:\\ProgramData"
        folder = ntpath.join(base, "fleetdns")
        return PlatformPaths(folder, ntpath.join(folder, CONFIG_NAME))
    return PlatformPaths("/etc/fleetdns", "/etc/fleetdns/" + CONFIG_NAME)


def checks_permissions(platform: str | None = None) -> bool:
    """Whether the config file's mode bits say who may read it: POSIX yes; on Windows an ACL
    decides, which this check does not read (docs/agent.md says how to restrict it there)."""
    return not is_windows(platform) and os.name == "posix"
