"""The unit fleetdns manages: a record set, (owner name, type) -> (TTL, set of values)."""

from __future__ import annotations

from dataclasses import dataclass

from .names import relative_name

RecordKey = tuple[str, str]  # (absolute lower-case name, upper-case type)


@dataclass(frozen=True, slots=True)
class RecordSet:
    """All records of one name and type. Values are canonical texts (see rdata.normalize_value)."""

    name: str
    type: str
    ttl: int
    values: frozenset[str]

    @property
    def key(self) -> RecordKey:
        return (self.name, self.type)

    def sorted_values(self) -> list[str]:
        return sorted(self.values)

    def to_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "ttl": self.ttl, "values": self.sorted_values()}

    @classmethod
    def from_dict(cls, data: dict) -> RecordSet:
        return cls(data["name"], data["type"], int(data["ttl"]), frozenset(data["values"]))


def cname_conflicts(keys: list[RecordKey] | set[RecordKey]) -> list[tuple[str, list[str]]]:
    """Names that would hold a CNAME beside other data (RFC 1034 §3.6.2), with the other types."""
    with_cname = {name for name, rtype in keys if rtype == "CNAME"}
    if not with_cname:
        return []
    types_by_name: dict[str, list[str]] = {}
    for name, rtype in keys:
        if name in with_cname:
            types_by_name.setdefault(name, []).append(rtype)
    conflicts = []
    for name, types in sorted(types_by_name.items()):
        if "CNAME" in types and len(types) > 1:
            conflicts.append((name, sorted(t for t in types if t != "CNAME")))
    return conflicts


def sort_key(key: RecordKey) -> tuple:
    """Display order: by name read from the zone apex down, then type."""
    name, rtype = key
    return (tuple(reversed(name.split("."))), rtype)


def key_label(key: RecordKey, zone: str) -> str:
    """How messages name a record set: its name relative to the zone, and its type (`www A`)."""
    return f"{relative_name(key[0], zone)} {key[1]}"


def values_summary(rrset: RecordSet, shown: int = 3) -> str:
    """A record set's TTL and first values, for a message that must stay one line."""
    values = rrset.sorted_values()
    text = ", ".join(values[:shown]) + (f", ... ({len(values)} values)" if len(values) > shown else "")
    return f"ttl {rrset.ttl}: {text}"
