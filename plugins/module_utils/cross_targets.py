"""Targets that lie in another zone of the inventory, checked on the state after the whole plan.

targets.py judges what a record points at inside its own zone. An MX, NS or SRV record may as
well point into a sibling zone the same inventory manages (`MX 10 mx.mail.example.` from
`example.`): that zone's plan says whether the name will have an address once everything is
applied. A device name (`fleetdns_names`) counts as having one: its agent sets it. Where the
zone is not read in this run (not selected, update-only, failed to read), nothing is judged.

A finding about a record the plan writes is an error when the writing zone's server checks targets
(an UPDATE server) or the zone asks for `strict_checks`; otherwise, and for what a zone already
held, it is a warning. A CNAME into a sibling zone whose target would hold nothing is a warning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .names import relative_name, zone_for_name
from .records import RecordKey, RecordSet, key_label
from .targets import ADDRESS_TYPES, CHECKED_BY_SERVER, TARGET_FIELD, TargetFindings


@dataclass(frozen=True)
class Pointer:
    """One record set's target outside its own zone."""

    label: str  # "@ MX", as the zone's plan names it
    rtype: str
    target: str
    written: bool  # the plan writes this record set


@dataclass
class ZoneView:
    """What one zone holds once its plan is applied, as far as other zones' targets care."""

    zone: str
    complete: bool
    addressed: set[str] = field(default_factory=set)  # names with an A or AAAA
    named: set[str] = field(default_factory=set)  # names holding any data
    pointers: list[Pointer] = field(default_factory=list)


def zone_view(
    zone: str, current: dict[RecordKey, RecordSet], changed: dict[RecordKey, RecordSet | None], complete: bool
) -> ZoneView:
    """The view of `zone` once `changed` (key -> after, None: deleted) is applied over `current`."""
    view = ZoneView(zone, complete)
    for key in current.keys() | changed.keys():
        rrset = changed[key] if key in changed else current.get(key)
        if rrset is None or not rrset.values:
            continue
        name, rtype = key
        view.named.add(name)
        if rtype in ADDRESS_TYPES:
            view.addressed.add(name)
        index = TARGET_FIELD.get(rtype, 0 if rtype == "CNAME" else None)
        if index is None:
            continue
        for value in rrset.values:
            fields = value.split()
            if len(fields) > index and fields[index] != "." and not _inside(fields[index], zone):
                view.pointers.append(Pointer(key_label(key, zone), rtype, fields[index], key in changed))
    return view


def check_cross_zone(
    views: dict[str, ZoneView],
    zones: Iterable[str],
    devices: Iterable[str],
    strict: dict[str, bool],
    server_checks: dict[str, bool],
) -> dict[str, TargetFindings]:
    """Findings per zone for its targets inside other zones of `zones` (every inventory zone).
    `strict[zone]`: every finding about what the zone's plan writes is an error; `server_checks[zone]`:
    its server refuses MX and NS targets without an address, so those findings are errors."""
    all_zones = list(zones)
    device_names = set(devices)
    found: dict[str, TargetFindings] = {}
    for zone, view in views.items():
        for pointer in view.pointers:
            home = zone_for_name(pointer.target, all_zones)
            other = views.get(home) if home and home != zone else None
            if other is None or pointer.target in device_names:
                continue
            wanted = other.named if pointer.rtype == "CNAME" else other.addressed
            if pointer.target in wanted or not other.complete:
                continue
            findings = found.setdefault(zone, TargetFindings())
            where = f"{pointer.target} (zone {home})"
            if pointer.rtype == "CNAME":
                message = f"{pointer.label} points at {where}, which would hold no record: lookups will find nothing"
            else:
                message = f"{pointer.label} points at {where}, which would have no address record (A/AAAA) there"
            refused = server_checks.get(zone, False) and pointer.rtype in CHECKED_BY_SERVER
            if pointer.written and (strict.get(zone, False) or refused):
                findings.conflicts.append(
                    f"{message}; add an address for {relative_name(pointer.target, home)} in {home}, point the "
                    "record elsewhere, or give the name to a device (fleetdns_names)"
                )
            else:
                findings.warnings.append(message)
    return found


def _inside(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)
