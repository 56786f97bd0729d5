"""What `fleetdns import` takes from a zone as read by a zone provider, and how each record set is
written as an inventory entry.

Pure: the input is the ZoneState any ZoneProvider's `read` returns, so every zone provider (AXFR,
REST APIs, zone files) imports the same way. A record set is imported as declared exactly when
planning the written inventory against the same zone gives no change: its type is one an
inventory can declare and the provider can manage, it is not fleetdns's own ownership marker, no
other owner id holds it, it is not a device name's address (a host's agent keeps those), and it
is not declared already (a declared one is left as the inventory says, its difference reported).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .errors import FleetDNSError
from .names import relative_name
from .ownership import ZoneState
from .rdata import InvalidValueError, is_managed_type, normalize_value
from .records import RecordKey, RecordSet, key_label, sort_key, values_summary


@dataclass
class ImportSelection:
    """The record sets to write, in display order, and one line per record set left out (and why)."""

    zone: str
    records: list[RecordSet] = field(default_factory=list)
    unchanged: list[RecordKey] = field(default_factory=list)  # declared already, with the same data
    skipped: list[str] = field(default_factory=list)
    owned: list[RecordKey] = field(default_factory=list)  # imported record sets already marked as ours


def select_records(
    state: ZoneState,
    owner: str,
    record_types: tuple[str, ...] | None = None,
    declared: dict[RecordKey, RecordSet] | None = None,
    device_names: dict[str, str] | None = None,
) -> ImportSelection:
    """The record sets of `state` to import. `record_types`: what the provider can manage (None:
    any an inventory can declare); `declared`: the zone's record sets in the inventory already;
    `device_names`: absolute device name -> host, for names some host's agent keeps."""
    zone = state.zone
    if not state.complete:
        raise FleetDNSError(
            f"zone {zone} could not be listed whole (the server refused the zone transfer)",
            "allow the key to transfer the zone (BIND: allow-transfer { key NAME; };) and import again",
        )
    if not state.records:
        raise FleetDNSError(
            f"zone {zone} holds no records there: nothing to import",
            "check the zone name and the provider (a zone file that does not exist reads as empty)",
        )
    declared = declared or {}
    device_names = device_names or {}
    selection = ImportSelection(zone)
    for key in sorted(state.records, key=sort_key):
        rrset = state.records[key]
        label = key_label(key, zone)
        holder = state.owners.get(key)
        if not is_managed_type(key[1]):
            selection.skipped.append(f"{label}: the {key[1]} type is not declared in an inventory (left as it is)")
        elif record_types is not None and key[1] not in record_types:
            selection.skipped.append(f"{label}: the provider cannot manage {key[1]} records (left as it is)")
        elif holder is not None and holder != owner:
            selection.skipped.append(f"{label}: owned by '{holder}', another inventory (left to it)")
        elif key[1] in ("A", "AAAA") and key[0] in device_names:
            selection.skipped.append(
                f"{label}: a device name of host '{device_names[key[0]]}', whose agent keeps its address"
            )
        elif key in declared:
            if declared[key] == rrset:
                selection.unchanged.append(key)
            else:
                selection.skipped.append(
                    f"{label}: declared already with {values_summary(declared[key])}; the zone holds "
                    f"{values_summary(rrset)}; the inventory's entry is kept (plan shows the difference)"
                )
        else:
            selection.records.append(rrset)
            if holder == owner:
                selection.owned.append(key)
    return selection


def common_ttl(records: list[RecordSet], fallback: int) -> int:
    """The TTL most record sets have (the smallest of equally common ones), for a new zone's default_ttl."""
    if not records:
        return fallback
    counts = Counter(r.ttl for r in records)
    best = max(counts.values())
    return min(ttl for ttl, count in counts.items() if count == best)


def record_entry(rrset: RecordSet, zone: str, default_ttl: int) -> dict[str, Any]:
    """The inventory entry for one record set: {name, type, value[, ttl]}, the value a scalar when
    there is one and a sorted list otherwise, each in the simplest form that reads back as the same
    canonical value."""
    values = [friendly_value(rrset.type, value, zone) for value in rrset.sorted_values()]
    entry: dict[str, Any] = {"name": relative_name(rrset.name, zone), "type": rrset.type}
    entry["value"] = values[0] if len(values) == 1 else values
    if rrset.ttl != default_ttl:
        entry["ttl"] = rrset.ttl
    return entry


def friendly_value(rtype: str, canonical: str, zone: str) -> str:
    """A TXT (or SPF-like) value of one string without its quotes when that means the same; any
    other value as its canonical text."""
    if rtype == "TXT" and len(canonical) >= 2 and canonical[0] == canonical[-1] == '"':
        bare = canonical[1:-1]
        if '"' not in bare and "\\" not in bare and bare == bare.strip() and bare:
            try:
                if normalize_value(rtype, bare, zone) == canonical:
                    return bare
            except InvalidValueError:
                pass
    return canonical
