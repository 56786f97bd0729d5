"""The pure, ownership-aware diff between desired and current record sets; a plan is data."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import PlanConflictError, SafetyError
from .names import relative_name
from .ownership import MARKER_OWNERSHIP, OWNERSHIP_MODES, ZONE_OWNERSHIP, ZoneState, claim_zone
from .records import RecordKey, RecordSet, cname_conflicts, key_label, sort_key, values_summary
from .targets import check_targets

# A plan may delete this share of the record sets we own in a zone without --allow-deletes ...
DELETE_SHARE_LIMIT = 0.30
# ... and always this many, so small zones are not blocked by one removal.
FREE_DELETES = 5

ACTIONS = ("create", "update", "delete", "adopt", "register")
# Types that hold one value: on_existing: keep cannot add a second one.
SINGLE_VALUE_TYPES = ("CNAME", "DNAME")


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


@dataclass(frozen=True)
class Wording:
    """How a front names its ways out of a conflict: the CLI's flags, a module's options."""

    adopt: str  # the switch that takes unowned record sets over
    set_adopt: str  # how to turn it on
    other_ways: str  # further ways out of "exists with other values" ("" when there are none)
    wanted: str  # what the user's record sets are called ("declared", "wanted")
    incomplete: str  # why deletes were limited when the zone could not be listed whole


CLI_WORDING = Wording(
    adopt="--adopt",
    set_adopt="run with --adopt",
    other_ways="",
    wanted="declared",
    incomplete="the zone could not be transferred (AXFR refused): only declared names were read, so record "
    "sets removed from the inventory are not deleted; allow AXFR for the key to fix this",
)


@dataclass(frozen=True)
class Intent:
    """What a plan is asked to do in one zone; an inventory zone is: present, replace, prune.

    `wanted`: with `present`, the record sets to set (`replace`), to add values to (`keep`) or to
    set only where nothing else is there (`fail`); without it, the values to remove (none: the whole
    record set). `registered`: the A/AAAA of device names, owned by fleetdns, values set by agents.
    `ttl_kept`: wanted record sets that keep the TTL they have (the task gave none for them).
    `prune`: delete the owned record sets the intent does not list. `server_checks_targets`: the
    zone's server refuses MX/NS targets without an address (so the plan does, before sending)."""

    wanted: dict[RecordKey, RecordSet]
    registered: frozenset[RecordKey] = frozenset()
    present: bool = True
    on_existing: str = "replace"
    ttl_kept: frozenset[RecordKey] = frozenset()
    prune: bool = True
    adopt: bool = False
    whole_zone: bool = False
    server_checks_targets: bool = False
    strict_targets: bool = False  # the zone's strict_checks: every target finding on what it writes blocks


@dataclass
class Planned:
    """The changes of one zone, what is worth knowing (notes) and what the user should act on."""

    changes: list[Change]
    owned_count: int
    notes: list[str]
    warnings: list[str]


def make_zone_plan(
    desired: ZoneDesired,
    current: ZoneState,
    owner: str,
    provider: str,
    adopt: bool = False,
    ownership: str = MARKER_OWNERSHIP,
    server_checks_targets: bool = False,
    strict_targets: bool = False,
) -> ZonePlan:
    """Diff one inventory zone (present, replace, prune). Raises PlanConflictError when reaching the
    desired state would change record sets that fleetdns does not own (or another owner id owns).

    Under zone ownership every record set of the zone is ours (ownership.claim_zone), so record
    sets the inventory does not list are deleted, and no markers are involved."""
    intent = Intent(
        desired.records,
        frozenset(desired.registered),
        adopt=adopt,
        whole_zone=ownership == ZONE_OWNERSHIP,
        server_checks_targets=server_checks_targets,
        strict_targets=strict_targets,
    )
    planned = plan_zone(intent, current, desired.zone, owner, CLI_WORDING)
    return ZonePlan(
        desired.zone, provider, planned.changes, planned.owned_count, planned.warnings + planned.notes, ownership
    )


def plan_zone(intent: Intent, current: ZoneState, zone: str, owner: str, wording: Wording) -> Planned:
    """The one planner: the changes that bring `current` to `intent`, pure. Every rule lives here:
    ownership (markers or the whole zone), adopting, device names, pruning, CNAME exclusivity and
    the addresses NS/MX targets need. Raises PlanConflictError listing every record set in the way."""
    return _Planner(intent, current, zone, owner, wording).plan()


class _Planner:
    def __init__(self, intent: Intent, current: ZoneState, zone: str, owner: str, wording: Wording) -> None:
        self.intent = intent
        self.zone = zone
        self.owner = owner
        self.words = wording
        self.conflicts: list[str] = []
        if intent.whole_zone:
            current, self.conflicts = claim_zone(current, set(intent.wanted), owner)
        self.current = current
        self.changes: list[Change] = []
        self.notes: list[str] = []
        self.warnings: list[str] = list(current.warnings)

    def plan(self) -> Planned:
        owned_count = sum(1 for o in self.current.owners.values() if o == self.owner)
        for key, want in self.intent.wanted.items():
            holder = self.current.owners.get(key)
            if holder is not None and holder != self.owner:
                self.conflicts.append(f"{self._label(key)} is owned by '{holder}', not by '{self.owner}'")
                continue
            have = self.current.records.get(key)
            if self.intent.present:
                self._present(key, want, have, holder == self.owner)
            else:
                self._absent(key, want, have, holder == self.owner)
        if self.intent.present:
            self._register()
        if self.intent.prune:
            self._prune()
        self.conflicts.extend(self._cname_conflicts())
        changed = {c.key: c.after for c in self.changes if c.changes_data}
        devices = {name for name, _rtype in self.intent.registered}
        targets = check_targets(
            self.current.records,
            changed,
            self.zone,
            devices,
            self.current.complete,
            self.intent.server_checks_targets,
            self.intent.strict_targets,
        )
        self.conflicts.extend(targets.conflicts)
        self.warnings.extend(targets.warnings)
        if self.conflicts:
            raise PlanConflictError(
                self.zone,
                self.conflicts,
                "fleetdns never changes record sets it does not own, nor sends what a server refuses",
            )
        changes = sorted(self.changes, key=lambda c: sort_key(c.key))
        return Planned(changes, owned_count, self.notes, self.warnings)

    def _present(self, key: RecordKey, want: RecordSet, have: RecordSet | None, owned: bool) -> None:
        mode = self.intent.on_existing
        if have is not None and (mode != "replace" or (have.ttl != want.ttl and key in self.intent.ttl_kept)):
            label = self._label(key)
            ttl = have.ttl if key in self.intent.ttl_kept else want.ttl
            values = have.values | want.values if mode == "keep" else want.values
            if mode == "keep" and key[1] in SINGLE_VALUE_TYPES and len(values) > 1:
                self.conflicts.append(
                    f"{label} holds {values_summary(have)}; a {key[1]} holds one value, so on_existing: keep "
                    "cannot add another (use on_existing: replace)"
                )
                return
            if mode == "fail" and values != have.values:
                self.conflicts.append(
                    f"{label} exists with other values ({values_summary(have)}) and on_existing is fail"
                )
                return
            want = RecordSet(want.name, want.type, ttl, values)
        if owned:
            if have != want:
                self._add("update" if have else "create", key, have, want, owned_before=True, owned_after=True)
        elif have is None:
            self._add("create", key, None, want, owned_before=False, owned_after=True)
        elif self.intent.adopt:
            self._add("adopt", key, have, want, owned_before=False, owned_after=True)
        elif have == want:
            self.notes.append(
                f"{self._label(key)} exists as {self.words.wanted} but is not owned; left as is "
                f"({self.words.adopt} takes ownership)"
            )
        elif mode == "keep":
            self._add("update", key, have, want, owned_before=False, owned_after=False)
        else:
            self.conflicts.append(
                f"{self._label(key)} exists with other values ({values_summary(have)}) and is not owned by fleetdns; "
                f"remove it,{'' if self.words.other_ways else ' or'} {self.words.set_adopt} to take it over"
                f"{self.words.other_ways}"
            )

    def _absent(self, key: RecordKey, want: RecordSet, have: RecordSet | None, owned: bool) -> None:
        if not want.values:  # the whole record set
            if owned:
                self._add("delete", key, have, None, owned_before=True, owned_after=False)
            elif have is not None and self.intent.adopt:
                self._add("delete", key, have, None, owned_before=False, owned_after=False)
            elif have is not None:
                self.conflicts.append(
                    f"{self._label(key)} is not owned by fleetdns; {self.words.set_adopt} to delete it anyway, "
                    "or list the values to remove"
                )
            return
        if have is None or not have.values & want.values:
            return
        remaining = have.values - want.values
        after = RecordSet(have.name, have.type, have.ttl, remaining) if remaining else None
        self._add(
            "update" if after else "delete",
            key,
            have,
            after,
            owned_before=owned,
            owned_after=owned and after is not None,
        )

    def _register(self) -> None:
        """Device names (the A/AAAA a host's agent sets) follow the rules of declared record sets: one
        that does not exist yet is registered (its marker written, so the agent's first address is
        ours); one that exists without our marker is someone else's, a conflict unless adopted; one
        marked by another owner id is always a conflict. In a zone owned whole every record set is
        ours already and nothing is written for it."""
        for key in sorted(self.intent.registered - self.intent.wanted.keys(), key=sort_key):
            holder = self.current.owners.get(key)
            if holder == self.owner:
                continue
            if holder is not None:
                self.conflicts.append(f"{self._label(key)} is owned by '{holder}', not by '{self.owner}'")
                continue
            if self.intent.whole_zone:
                continue
            have = self.current.records.get(key)
            if have is None:
                self._add("register", key, None, None, owned_before=False, owned_after=True)
            elif self.intent.adopt:
                self._add("adopt", key, have, have, owned_before=False, owned_after=True)
            else:
                self.conflicts.append(
                    f"{self._label(key)} exists ({values_summary(have)}) and is not owned by fleetdns, but "
                    f"{relative_name(key[0], self.zone)} is a device name; remove the record, or "
                    f"{self.words.set_adopt} to take it over"
                )

    def _prune(self) -> None:
        if not self.current.complete:
            self.warnings.insert(0, self.words.incomplete)  # first: it limits everything below it
        listed = self.intent.wanted.keys() | self.intent.registered
        for key, holder in self.current.owners.items():
            if holder == self.owner and key not in listed:
                self._add("delete", key, self.current.records.get(key), None, owned_before=True, owned_after=False)

    def _add(
        self,
        action: str,
        key: RecordKey,
        before: RecordSet | None,
        after: RecordSet | None,
        *,
        owned_before: bool,
        owned_after: bool,
    ) -> None:
        self.changes.append(Change(action, *key, before, after, owned_before=owned_before, owned_after=owned_after))

    def _cname_conflicts(self) -> list[str]:
        """A CNAME beside other data after the plan (RFC 1034 §3.6.2), at a name the plan writes: a
        server would refuse or silently drop part of it, so say so before anything is sent. Where the
        zone already holds one at a name the plan does not write, a warning says so."""
        after = set(self.current.records)
        for change in self.changes:
            if change.after is None:
                after.discard(change.key)
            else:
                after.add(change.key)
        touched = {c.name for c in self.changes if c.after is not None}
        conflicts = []
        for name, others in cname_conflicts(after):
            where = f"{relative_name(name, self.zone)} {'would hold' if name in touched else 'holds'} a CNAME beside"
            if name in touched:
                conflicts.append(f"{where} {', '.join(others)}; a CNAME must stand alone")
            else:  # already so, and not ours to change: the plan neither causes nor fixes it
                self.warnings.append(
                    f"{where} {', '.join(others)}, which a server refuses (and a zone file with it does not "
                    "load); fleetdns leaves it as it is: fix it by hand"
                )
        return conflicts

    def _label(self, key: RecordKey) -> str:
        return key_label(key, self.zone)


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
