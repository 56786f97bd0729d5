"""The pure, ownership-aware diff between desired and current record sets; a plan is data."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import PlanConflictError, SafetyError
from .names import relative_name
from .ownership import MARKER_OWNERSHIP, OWNERSHIP_MODES, ZONE_OWNERSHIP, ZoneState, claim_zone
from .records import RecordKey, RecordSet, cname_conflicts, sort_key

# A plan may delete this share of the record sets we own in a zone without --allow-deletes ...
DELETE_SHARE_LIMIT = 0.30
# ... and always this many, so small zones are not blocked by one removal.
FREE_DELETES = 5

ACTIONS = ("create", "update", "delete", "adopt", "register")


@dataclass
class ZoneDesired:
    """What the inventory wants in one zone.

    `records` are declared record sets (values managed by fleetdns). `registered` are record sets
    fleetdns owns whose values are set by a device's agent (A/AAAA of `fleetdns_names`).
    """

    zone: str
    records: dict[RecordKey, RecordSet] = field(default_factory=dict)
    registered: set[RecordKey] = field(default_factory=set)


@dataclass(frozen=True)
class Change:
    """One record set changing. `before` pins what was read; applying checks it still holds."""

    action: str
    name: str
    type: str
    before: RecordSet | None
    after: RecordSet | None
    owned_before: bool
    owned_after: bool

    @property
    def key(self) -> RecordKey:
        return (self.name, self.type)

    @property
    def changes_data(self) -> bool:
        return self.before != self.after

    @property
    def changes_owner(self) -> bool:
        return self.owned_before != self.owned_after

    def to_dict(self) -> dict:
        return {
            "action": self.action,
            "name": self.name,
            "type": self.type,
            "before": self.before.to_dict() if self.before else None,
            "after": self.after.to_dict() if self.after else None,
            "owned_before": self.owned_before,
            "owned_after": self.owned_after,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Change:
        return cls(
            data["action"],
            data["name"],
            data["type"],
            RecordSet.from_dict(data["before"]) if data.get("before") else None,
            RecordSet.from_dict(data["after"]) if data.get("after") else None,
            bool(data["owned_before"]),
            bool(data["owned_after"]),
        )


@dataclass
class ZonePlan:
    """The changes for one zone on one provider, plus what the user should know about it."""

    zone: str
    provider: str
    changes: list[Change] = field(default_factory=list)
    owned_count: int = 0
    notes: list[str] = field(default_factory=list)
    ownership: str = MARKER_OWNERSHIP  # or ZONE_OWNERSHIP: no markers, the zone is the inventory's

    @property
    def marked(self) -> bool:
        """Whether applying reads and writes ownership markers."""
        return self.ownership == MARKER_OWNERSHIP

    def counts(self) -> dict[str, int]:
        result = dict.fromkeys(ACTIONS, 0)
        for change in self.changes:
            result[change.action] += 1
        return result

    def to_dict(self) -> dict:
        return {
            "zone": self.zone,
            "provider": self.provider,
            "ownership": self.ownership,
            "owned_count": self.owned_count,
            "counts": self.counts(),
            "changes": [c.to_dict() for c in self.changes],
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict) -> ZonePlan:
        ownership = data.get("ownership", MARKER_OWNERSHIP)
        if ownership not in OWNERSHIP_MODES:
            raise ValueError(f"unknown ownership {ownership!r}")
        return cls(
            data["zone"],
            data["provider"],
            [Change.from_dict(c) for c in data["changes"]],
            int(data.get("owned_count", 0)),
            list(data.get("notes", [])),
            ownership,
        )


@dataclass
class Plan:
    """A whole run: one ZonePlan per zone, in inventory order."""

    owner: str
    zones: list[ZonePlan] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return any(z.changes for z in self.zones)

    def counts(self) -> dict[str, int]:
        total = dict.fromkeys(ACTIONS, 0)
        for zone in self.zones:
            for action, count in zone.counts().items():
                total[action] += count
        return total

    def to_dict(self) -> dict:
        return {"format": 1, "owner": self.owner, "counts": self.counts(), "zones": [z.to_dict() for z in self.zones]}

    @classmethod
    def from_dict(cls, data: dict) -> Plan:
        return cls(data["owner"], [ZonePlan.from_dict(z) for z in data["zones"]])


def make_zone_plan(
    desired: ZoneDesired,
    current: ZoneState,
    owner: str,
    provider: str,
    adopt: bool = False,
    ownership: str = MARKER_OWNERSHIP,
) -> ZonePlan:
    """Diff one zone. Raises PlanConflictError when reaching the desired state would change
    record sets that fleetdns does not own (or that another owner id owns).

    Under zone ownership every record set of the zone is ours (ownership.claim_zone), so record
    sets the inventory does not list are deleted, and no markers are involved."""
    zone = desired.zone
    conflicts: list[str] = []
    changes: list[Change] = []
    whole_zone = ownership == ZONE_OWNERSHIP
    if whole_zone:
        current, foreign = claim_zone(current, set(desired.records), owner)
        conflicts.extend(foreign)
    plan = ZonePlan(
        zone, provider, owned_count=sum(1 for o in current.owners.values() if o == owner), ownership=ownership
    )
    if not current.complete:
        plan.notes.append(
            "the zone could not be transferred (AXFR refused): only declared names were read, so record "
            "sets removed from the inventory are not deleted; allow AXFR for the key to fix this"
        )
    plan.notes.extend(current.warnings)

    for key, want in desired.records.items():
        have = current.records.get(key)
        holder = current.owners.get(key)
        if holder is not None and holder != owner:
            conflicts.append(f"{_label(key, zone)} is owned by '{holder}', not by '{owner}'")
        elif holder == owner:
            if have != want:
                changes.append(Change("update" if have else "create", *key, have, want, True, True))
        elif have is None:
            changes.append(Change("create", *key, None, want, False, True))
        elif adopt:
            changes.append(Change("adopt", *key, have, want, False, True))
        elif have == want:
            plan.notes.append(
                f"{_label(key, zone)} exists as declared but is not owned; left as is (--adopt takes ownership)"
            )
        else:
            conflicts.append(
                f"{_label(key, zone)} exists with other values ({_summary(have)}) and is not owned by fleetdns; "
                "remove it, or run with --adopt to take it over"
            )

    registered, in_the_way = device_name_changes(
        desired.registered - desired.records.keys(), current, owner, adopt, not whole_zone, "run with --adopt"
    )
    changes.extend(registered)
    conflicts.extend(in_the_way)

    for key, holder in current.owners.items():
        if holder == owner and key not in desired.records and key not in desired.registered:
            changes.append(Change("delete", *key, current.records.get(key), None, True, False))

    conflicts.extend(_cname_conflicts(current, changes, zone))
    conflicts.extend(orphaned_targets(current, changes, zone))
    if conflicts:
        raise PlanConflictError(zone, conflicts, "fleetdns never changes record sets it does not own")
    plan.changes = sorted(changes, key=lambda c: sort_key(c.key))
    return plan


def device_name_changes(
    keys: set[RecordKey], current: ZoneState, owner: str, adopt: bool, marked: bool, adopt_how: str
) -> tuple[list[Change], list[str]]:
    """The ownership rule for device names (the A/AAAA a host's agent sets), for every front.

    A device name's record set becomes fleetdns's like a declared one does: one that does not exist
    yet is registered (its marker written, so the agent's first address is ours); one that exists
    without our marker is someone else's, a conflict unless adopted (`adopt_how` says how, in the
    front's words); one marked by another owner id is always a conflict. Under zone ownership
    (`marked` false) every record set is ours already and nothing is written for it.

    Returns the changes in `keys`' display order and the conflicts."""
    zone = current.zone
    changes: list[Change] = []
    conflicts: list[str] = []
    for key in sorted(keys, key=sort_key):
        holder = current.owners.get(key)
        if holder == owner:
            continue
        if holder is not None:
            conflicts.append(f"{_label(key, zone)} is owned by '{holder}', not by '{owner}'")
            continue
        if not marked:
            continue
        have = current.records.get(key)
        if have is None:
            changes.append(Change("register", *key, None, None, False, True))
        elif adopt:
            changes.append(Change("adopt", *key, have, have, False, True))
        else:
            conflicts.append(
                f"{_label(key, zone)} exists ({_summary(have)}) and is not owned by fleetdns, but "
                f"{relative_name(key[0], zone)} is a device name; remove the record, or {adopt_how} to take it over"
            )
    return changes, conflicts


def _cname_conflicts(current: ZoneState, changes: list[Change], zone: str) -> list[str]:
    """CNAME beside other data after the plan, where the other data is not ours to remove."""
    after = set(current.records)
    for change in changes:
        if change.after is None:
            after.discard(change.key)
        else:
            after.add(change.key)
    result = []
    for name, others in cname_conflicts(after):
        result.append(
            f"{relative_name(name, zone)} would hold a CNAME beside {', '.join(others)}; a CNAME must stand alone"
        )
    return result


def orphaned_targets(current: ZoneState, changes: list[Change], zone: str) -> list[str]:
    """Names whose last address the plan deletes while an NS or MX record set still points at them:
    BIND refuses such an update whole ("has no address records") and named-checkzone rejects such
    a file, so say so before anything is sent (typically: a zone owned whole that does not list the
    address of its own name server)."""
    gone = {c.name for c in changes if c.after is None and c.type in ("A", "AAAA")}
    if not gone:
        return []
    changed = {c.key: c.after for c in changes}

    def after(key: RecordKey) -> RecordSet | None:
        return changed[key] if key in changed else current.records.get(key)

    pointing: dict[str, list[str]] = {}
    for key in current.records.keys() | changed.keys():
        rrset = after(key) if key[1] in ("NS", "MX") else None
        for value in rrset.values if rrset else ():
            target = value.rsplit(" ", 1)[-1]
            if target in gone:
                pointing.setdefault(target, []).append(_label(key, zone))
    return [
        f"{relative_name(name, zone)} would lose its last address while {', '.join(sorted(pointing[name]))} "
        "points at it, which a server refuses; keep (list) the address, or change those records too"
        for name in sorted(pointing)
        if after((name, "A")) is None and after((name, "AAAA")) is None
    ]


def check_delete_safety(plan: ZonePlan, allow_deletes: bool) -> None:
    """Refuse a plan that deletes a large share of what we own, unless explicitly allowed."""
    deletes = plan.counts()["delete"]
    if allow_deletes or deletes <= FREE_DELETES or deletes <= plan.owned_count * DELETE_SHARE_LIMIT:
        return
    share = 100 * deletes / plan.owned_count if plan.owned_count else 100
    raise SafetyError(
        f"zone {plan.zone}: the plan deletes {deletes} of the {plan.owned_count} record sets fleetdns owns "
        f"({share:.0f}%), above the {DELETE_SHARE_LIMIT:.0%} safety limit",
        "check that the inventory is complete; if the deletions are intended, re-run with --allow-deletes",
    )


def _label(key: RecordKey, zone: str) -> str:
    return f"{relative_name(key[0], zone)} {key[1]}"


def _summary(rrset: RecordSet) -> str:
    values = rrset.sorted_values()
    shown = ", ".join(values[:3]) + (f", ... ({len(values)} values)" if len(values) > 3 else "")
    return f"ttl {rrset.ttl}: {shown}"
