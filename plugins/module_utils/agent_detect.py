"""The agent's address detection: IPv4 and IPv6 independently, each from a static address, a user's
command, the addresses a local interface holds, or several public_ip sources that must agree; and the
one rule that keeps a non-global address (private, loopback, link-local, CGNAT, documentation, ...)
out of public DNS.

The interface detection reads the kernel's view of the addresses (agent_platform) and picks one the
way a host that holds its public address wants it published: never a temporary (privacy) IPv6
address, which changes every day or so and is meant for outgoing connections only; never a
deprecated one (its preferred lifetime is over, the prefix is going away) nor one still being
checked for duplicates (tentative) or found to be a duplicate; then a permanent (configured) address
before an autoconfigured one, and the longest preferred lifetime first.

The command source runs a program through process_runner (the front sets it): engine modules
start no processes themselves.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from . import agent_platform, process_runner
from .agent_config import ANY_INTERFACE, FamilyDetect
from .agent_platform import InterfaceAddress
from .errors import shorten
from .public_ip import PublicIPError, detect

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_DOCUMENTATION = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20")
)


@dataclass(frozen=True)
class Detected:
    """One family's outcome: the address to publish (or None), how it was found, why there is none."""

    family: int
    address: str | None
    how: str
    error: str | None = None


def non_global_reason(text: str) -> str | None:
    """Why `text` must not be published in public DNS (None when it is a global address)."""
    address = ipaddress.ip_address(text)
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.version == 4 and address in _CGNAT:
        return "a carrier-grade NAT address (100.64.0.0/10): the public address is the carrier's"
    if any(address.version == n.version and address in n for n in _DOCUMENTATION):
        return "a documentation address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "not a unicast address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a global address"
    return None


def detect_family(spec: FamilyDetect, allow_non_global: bool = False) -> Detected:
    """The address of one family to publish; never raises (a failure is `error`)."""
    if spec.static is not None:
        found, how, error = spec.static, "static", None
    elif spec.command:
        found, error = _from_command(spec)
        how = f"command {spec.command[0]}"
    elif spec.interface is not None:
        how = "interface " + ("(any)" if spec.interface == ANY_INTERFACE else spec.interface)
        found, error = _from_interface(spec, allow_non_global)
    else:
        how = "sources " + ",".join(dict.fromkeys(s.name for s in spec.sources))
        try:
            found, error = detect(spec.sources, spec.family, spec.timeout, spec.quorum).address, None
        except PublicIPError as exc:
            found, error = None, str(exc)
    if found is None:
        return Detected(spec.family, None, how, error)
    reason = non_global_reason(found)
    if reason and not allow_non_global:
        return Detected(
            spec.family,
            None,
            how,
            f"{found} is {reason}; not published (set allow_non_global: true for LAN-only DNS)",
        )
    return Detected(spec.family, found, how)


def detect_all(detect_specs: dict[int, FamilyDetect], allow_non_global: bool = False) -> dict[int, Detected]:
    return {family: detect_family(spec, allow_non_global) for family, spec in sorted(detect_specs.items())}


def _from_command(spec: FamilyDetect) -> tuple[str | None, str | None]:
    """The one address the command printed (first word of its first non-empty line)."""
    runner = process_runner.command_runner
    if runner is None:
        return None, "command sources need a front that can run programs (the fleetdns CLI)"
    try:
        code, output = runner(list(spec.command), spec.timeout)
    except TimeoutError:
        return None, f"{spec.command[0]} ran past {spec.timeout:g} s"
    except OSError as exc:
        return None, f"cannot run {spec.command[0]}: {exc.strerror or exc}"
    if code != 0:
        return None, f"{spec.command[0]} exited with {code}: {shorten(output)}"
    words = output.split()
    if not words:
        return None, f"{spec.command[0]} printed nothing"
    try:
        address = ipaddress.ip_address(words[0].strip("[]"))
    except ValueError:
        return None, f"{spec.command[0]} printed {shorten(words[0])!r}, which is not an IP address"
    if address.version != spec.family:
        return None, f"{spec.command[0]} printed {address}, an IPv{address.version} address, for IPv{spec.family}"
    return str(address), None


def _from_interface(spec: FamilyDetect, allow_non_global: bool) -> tuple[str | None, str | None]:
    try:
        addresses = agent_platform.interface_addresses()
    except OSError as exc:
        return None, f"cannot read the interfaces' addresses: {exc.strerror or exc}"
    if addresses is None:
        return None, (
            "reading the interfaces' addresses needs netlink (Linux); on this platform use sources "
            "(e.g. the built-in 'interface' source: the outgoing route's address) or a command"
        )
    return choose_interface_address(addresses, spec.family, spec.interface or ANY_INTERFACE, allow_non_global)


def skip_reason(item: InterfaceAddress, allow_non_global: bool) -> str | None:
    """Why an interface address must not be published (None when it may be)."""
    if "tentative" in item.flags:
        return "tentative (duplicate address detection not finished)"
    if "dadfailed" in item.flags:
        return "a duplicate of another host's address"
    if "deprecated" in item.flags or item.preferred_lifetime == 0:
        return "deprecated (its preferred lifetime is over)"
    if item.family == 6 and "temporary" in item.flags:
        return "a temporary (privacy) address"
    if item.scope in ("link", "host", "nowhere"):
        return f"of {item.scope} scope"
    reason = non_global_reason(item.address)
    if reason and not allow_non_global:
        return reason
    return None


def choose_interface_address(
    addresses: list[InterfaceAddress], family: int, interface: str = ANY_INTERFACE, allow_non_global: bool = False
) -> tuple[str | None, str | None]:
    """(the address to publish, None) or (None, why none), from what the interfaces hold."""
    mine = [a for a in addresses if a.family == family and (interface == ANY_INTERFACE or a.interface == interface)]
    if interface == ANY_INTERFACE:
        mine = [a for a in mine if not ipaddress.ip_address(a.address).is_loopback]
    where = "any interface" if interface == ANY_INTERFACE else f"interface {interface}"
    if not mine:
        return None, f"{where} holds no IPv{family} address"
    usable, skipped = [], []
    for item in mine:
        reason = skip_reason(item, allow_non_global)
        if reason:
            skipped.append(f"{item.address} on {item.interface}: {reason}")
        else:
            usable.append(item)
    if not usable:
        return None, f"no IPv{family} address of {where} may be published ({'; '.join(skipped)})"

    def rank(item: InterfaceAddress) -> tuple[int, int, float, str]:
        non_global = 1 if non_global_reason(item.address) else 0  # with allow_non_global: global ones first
        configured = 0 if "permanent" in item.flags else 1
        lifetime = float("inf") if item.preferred_lifetime is None else float(item.preferred_lifetime)
        return non_global, configured, -lifetime, item.address

    return min(usable, key=rank).address, None
