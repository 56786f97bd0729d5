"""Ownership markers for backends without per-record metadata (RFC 2136 servers, zone files).

fleetdns owns a record set (N, T) in zone Z when the TXT record set

    <t>.<N relative to Z>._fleetdns.<Z>     TXT "fleetdns-owner=<owner id>"

exists (`<t>` is the lower-case type; the apex has no relative part: `mx._fleetdns.<Z>`; a
wildcard label `*` is written `wildcard-`, a label no declared name can have, because a `*` that
is not the leftmost label makes BIND warn about a non-terminal wildcard).
All markers sit in one subtree, so they never land below a delegation or beside a CNAME, a
device key that may only touch its own A/AAAA never touches them, and `dig TXT` shows who
owns what. A marker may exist without its record set: a registered device name whose agent
has not reported an address yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .names import relative_name
from .rdata import MANAGED_TYPES
from .records import RecordKey, RecordSet, sort_key

MARKER_LABEL = "_fleetdns"
_WILDCARD = "wildcard-"
_PREFIX = "fleetdns-owner="


@dataclass
class ZoneState:
    """What a backend holds for one zone, split into record sets and who owns them.

    `complete` is False when the backend could only be queried name by name (zone transfer
    refused): then owned record sets missing from the inventory cannot be discovered.
    """

    zone: str
    records: dict[RecordKey, RecordSet] = field(default_factory=dict)
    owners: dict[RecordKey, str] = field(default_factory=dict)
    complete: bool = True
    warnings: list[str] = field(default_factory=list)
    changed: dict[RecordKey, str] = field(default_factory=dict)  # when it last changed, where the backend says


def marker_root(zone: str) -> str:
    return f"{MARKER_LABEL}.{zone}"


def marker_name(key: RecordKey, zone: str) -> str:
    """Owner name of the marker for record set `key` of `zone`."""
    name, rtype = key
    relative = "" if name == zone else name[: -len(zone)]  # keeps the trailing dot of the label part
    if relative.startswith("*."):
        relative = _WILDCARD + relative[1:]
    return f"{rtype.lower()}.{relative}{MARKER_LABEL}.{zone}"


def marker_value(owner: str) -> str:
    """Canonical TXT text of a marker (as rdata.normalize_value would print it)."""
    return f'"{_PREFIX}{owner}"'


def parse_marker(name: str, zone: str) -> RecordKey | None:
    """Record set a marker name stands for, or None when `name` is not a well-formed marker."""
    suffix = f"{MARKER_LABEL}.{zone}"
    if not name.endswith("." + suffix):
        return None
    head = name[: -len(suffix) - 1]  # "<t>" or "<t>.<relative>"
    rtype, _dot, relative = head.partition(".")
    if not rtype:
        return None
    if relative == _WILDCARD or relative.startswith(_WILDCARD + "."):
        relative = "*" + relative[len(_WILDCARD) :]
    return (f"{relative}.{zone}" if relative else zone, rtype.upper())


def parse_owner(values: frozenset[str]) -> str | None:
    """Owner id from a marker's TXT values; None when none of them is a fleetdns marker."""
    for value in values:
        if value.startswith('"' + _PREFIX) and value.endswith('"') and " " not in value:
            return value[len(_PREFIX) + 1 : -1]
    return None


def is_marker_name(name: str, zone: str) -> bool:
    root = marker_root(zone)
    return name == root or name.endswith("." + root)


def split_markers(zone: str, rrsets: dict[RecordKey, RecordSet]) -> ZoneState:
    """Turn the raw record sets of a zone (markers included) into a ZoneState."""
    state = ZoneState(zone)
    root = marker_root(zone)
    dotted_root = "." + root
    for key, rrset in rrsets.items():
        name = key[0]
        if name.endswith(dotted_root) or name == root:
            target = parse_marker(name, zone) if key[1] == "TXT" else None
            owner = parse_owner(rrset.values) if target else None
            if target and owner is not None:
                state.owners[target] = owner
            else:
                state.warnings.append(
                    f"{name} {key[1]} sits in the reserved {root} subtree but is not a fleetdns marker; left alone"
                )
            continue
        state.records[key] = rrset
    return state


# ---- zone ownership: the inventory owns the whole zone, no markers -----------------------------------------------

ZONE_OWNERSHIP = "zone"
MARKER_OWNERSHIP = "markers"
OWNERSHIP_MODES = (MARKER_OWNERSHIP, ZONE_OWNERSHIP)
_MANAGED = frozenset(MANAGED_TYPES)


def claim_zone(state: ZoneState, declared: set[RecordKey], owner: str) -> tuple[ZoneState, list[str]]:
    """Zone ownership: every record set of the zone whose type an inventory can declare is
    `owner`'s, marked or not, except the apex NS set unless `declared`. The SOA, DNSSEC data and
    types fleetdns does not manage (HINFO, KEY, private types, ...) are never owned: nothing in the
    inventory could keep them.

    Returns the claimed state (noting markers of `owner` left from marker ownership, which stay)
    and one conflict per record set marked by another owner id: two inventories cannot both
    manage a zone that one of them owns whole."""
    apex_ns = (state.zone, "NS")
    owners = {key: owner for key in state.records if key[1] in _MANAGED and (key != apex_ns or key in declared)}
    conflicts = [
        f"{relative_name(key[0], state.zone)} {key[1]} is marked as owned by '{holder}', but this inventory "
        "owns the whole zone (ownership: zone)"
        for key, holder in sorted(state.owners.items(), key=lambda item: sort_key(item[0]))
        if holder != owner
    ]
    warnings = list(state.warnings)
    left_over = sum(1 for holder in state.owners.values() if holder == owner)
    if left_over:
        warnings.append(
            f"{left_over} ownership marker(s) of '{owner}' remain under {marker_root(state.zone)} from marker "
            "ownership; zone ownership neither reads nor writes them (delete them to tidy the zone)"
        )
    return ZoneState(state.zone, state.records, owners, state.complete, warnings), conflicts
