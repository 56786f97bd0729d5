"""What the agent needs from the operating system beyond portable Python: being told when the host's
addresses or routes change, so a pass runs within seconds instead of at the next poll.

On Linux that is a netlink socket subscribed to the kernel's address and route groups (the socket
module's AF_NETLINK, nothing to install). Elsewhere (Windows, macOS, BSD) `address_watcher`
returns None and the agent polls; nothing POSIX-only is imported here, so this module imports on
every platform. The events carry no address: any of them only triggers a pass, which detects as
usual (behind NAT the public address can change without any local event, hence the poll as well).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable

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
