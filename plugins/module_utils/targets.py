"""Integrity of names records point at inside their own zone, checked on the state after a plan.

An MX, SRV or NS record whose target lies in the zone needs an address (A or AAAA) there: BIND
refuses such an UPDATE whole ("has no address records") and named-checkzone rejects such a zone
file, so a plan finds it before anything is sent. A device name is no exception until its agent
has set its address: the server checks the zone as it is at the update. A CNAME whose target lies
in the zone and holds nothing is only worth a warning: servers accept it, resolvers find nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from .names import relative_name
from .records import RecordKey, RecordSet, key_label

# Which field of the value names the target: NS host, MX preference host, SRV prio weight port host.
TARGET_FIELD = {"NS": 0, "MX": 1, "SRV": 3}
# The targets a DNS UPDATE server checks (BIND refuses an MX or NS target without an address; it
# does not look at SRV targets). Zone files and REST APIs accept all three.
CHECKED_BY_SERVER = ("NS", "MX")
ADDRESS_TYPES = ("A", "AAAA")


@dataclass
class TargetFindings:
    """`conflicts`: the plan would make a server refuse the zone; `warnings`: worth fixing, not fatal."""

    conflicts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_targets(
    current: dict[RecordKey, RecordSet],
    changed: dict[RecordKey, RecordSet | None],
    zone: str,
    device_names: Iterable[str] = (),
    complete: bool = True,
    server_checks: bool = True,
    strict: bool = False,
) -> TargetFindings:
    """Findings for the zone `current` becomes once `changed` (key -> after, None: deleted) is
    applied. What the change causes is a conflict where the server would refuse it (`server_checks`:
    an UPDATE server, for MX and NS), else a warning; what the zone already held is a warning.
    Where the zone could not be read whole (`complete` false), a name missing from `current` may
    still hold an address, so only the addresses the change itself deletes are judged. `strict` (the
    zone's strict_checks): every finding about what the change writes is a conflict."""

    def after(key: RecordKey) -> RecordSet | None:
        return changed[key] if key in changed else current.get(key)

    devices = set(device_names)
    # Only record sets that point somewhere are walked (a zone of 10,000 A records has none).
    pointing = sorted(key for key in current.keys() | changed.keys() if key[1] in TARGET_FIELD)
    delegated = {name for name, rtype in pointing if rtype == "NS" and name != zone and after((name, rtype))}
    lost = {name for (name, rtype), rrset in changed.items() if rrset is None and rtype in ADDRESS_TYPES}

    def addressed(name: str) -> bool:
        return any(after((name, rtype)) for rtype in ADDRESS_TYPES)

    findings = TargetFindings()
    losing: dict[str, list[str]] = {}
    for key in pointing:
        rrset = after(key)
        if rrset is None:
            continue
        for target in _targets(rrset, TARGET_FIELD[key[1]]):
            if not _inside(target, zone) or addressed(target):
                continue
            if key[1] != "NS" and _below_delegation(target, delegated, zone):
                continue  # the child zone's data, not this zone's
            label, where = key_label(key, zone), relative_name(target, zone)
            if target in lost:
                losing.setdefault(target, []).append(label)
            elif not complete:
                continue
            elif key in changed and (strict or (server_checks and key[1] in CHECKED_BY_SERVER)):
                by_server = server_checks and key[1] in CHECKED_BY_SERVER
                refused = "a server refuses that" if by_server else "the zone asks for strict_checks"
                fix = (
                    f"apply this once {where}'s agent has set its address"
                    if target in devices
                    else f"add an address for {where}, or point the record elsewhere"
                )
                findings.conflicts.append(
                    f"{label} points at {where}, which would have no address record (A/AAAA) in the zone, and "
                    f"{refused}; {fix}"
                )
            else:
                findings.warnings.append(
                    f"{label} points at {where}, which {'would have' if key in changed else 'has'} no address "
                    "record in the zone"
                )
    findings.conflicts.extend(
        f"{relative_name(name, zone)} would lose its last address while {', '.join(sorted(losing[name]))} "
        "points at it, which a server refuses; keep (list) the address, or change those records too"
        for name in sorted(losing)
    )
    if complete:
        names: set[str] = set()

        def holds_data(name: str) -> bool:
            if not names:  # built on the first CNAME into the zone only
                names.update(key[0] for key in current.keys() | changed.keys() if after(key) is not None)
            return name in devices or name in names

        dangling = list(_dangling_aliases(changed, zone, holds_data))
        (findings.conflicts if strict else findings.warnings).extend(dangling)
    return findings


def _targets(rrset: RecordSet, index: int) -> Iterator[str]:
    for value in rrset.values:
        fields = value.split()
        if len(fields) > index and fields[index] != ".":  # "." : no such service (RFC 2782, RFC 7505)
            yield fields[index]


def _inside(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


def _below_delegation(name: str, delegated: set[str], zone: str) -> bool:
    labels = name.split(".")
    return any(".".join(labels[i:]) in delegated for i in range(len(labels) - len(zone.split(".")) + 1))


def _dangling_aliases(
    changed: dict[RecordKey, RecordSet | None], zone: str, exists: Callable[[str], bool]
) -> Iterator[str]:
    """CNAMEs the change writes whose target lies in the zone and holds no data at all."""
    for (name, rtype), rrset in sorted(changed.items()):
        if rtype != "CNAME" or rrset is None:
            continue
        for target in rrset.values:
            if _inside(target, zone) and not exists(target):
                yield (
                    f"{relative_name(name, zone)} CNAME points at {relative_name(target, zone)}, which holds no "
                    "record in the zone: lookups of it will find nothing"
                )
