"""Saved plans: a plan file is a claim about what apply will do, checked and never trusted.

`fleetdns plan --out` writes the JSON plan plus a `saved` block: the file format, the fleetdns
version, per zone a digest of what the inventory asks for there, and (when PLAN_KEY_ENV is set) an
HMAC signature. `apply --plan` reads the file strictly, refuses a missing or wrong signature and
another version, owner id or inventory, then makes the plan afresh from the current inventory
and DNS and compares it with the file change by change. Only that fresh plan is ever applied:
values, ownership flags and owner ids written in the file carry no authority, so an edited file can
at most be refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, NoReturn

from .config import FleetConfig
from .engine import Providers, Report, make_plan
from .errors import FleetDNSError, PlanConflictError, shorten
from .names import relative_name
from .ownership import OWNERSHIP_MODES
from .plan import ACTIONS, Change, Plan, ZonePlan
from .records import RecordSet, sort_key
from .render import plan_json

SAVED_FORMAT = 1
# A plan of 100,000 changes is about 30 MB; anything much larger was not written by fleetdns.
MAX_PLAN_BYTES = 64 * 1024 * 1024
# The environment variable holding the key plans are signed and checked with.
PLAN_KEY_ENV = "FLEETDNS_PLAN_SECRET"
MIN_KEY_LENGTH = 16
# A refusal lists this many differences, then counts the rest.
SHOWN_DIFFERENCES = 10
REMAKE_HINT = "make a new one with: fleetdns plan --out PLAN.json"
REVIEW_HINT = "run `fleetdns plan --out PLAN.json` again and review the new plan"
_SIGNATURE_PREFIX = "hmac-sha256:"


@dataclass(frozen=True)
class SavedPlan:
    """What a plan file claims: the plan and the inventory digests."""

    source: str
    plan: Plan
    targets: dict[str, str]

    @property
    def zones(self) -> list[str]:
        return [z.zone for z in self.plan.zones]

    @property
    def adopts(self) -> bool:
        """Whether the file takes over record sets (made with --adopt)."""
        return any(c.action == "adopt" for z in self.plan.zones for c in z.changes)


def zone_digest(config: FleetConfig, zone: str) -> str:
    """What the inventory asks for in one zone, hashed; secrets are left out entirely, so rotating
    a key does not invalidate a saved plan."""
    desired = config.desired(zone)
    provider = config.providers[config.zones[zone].provider]
    data = {
        "owner": config.owner,
        "ownership": config.zones[zone].ownership,
        "provider": {
            "name": provider.name,
            "type": provider.type,
            "options": {k: v for k, v in sorted(provider.options.items()) if k not in provider.secret_keys},
        },
        "records": sorted((r.to_dict() for r in desired.records.values()), key=lambda r: (r["name"], r["type"])),
        "registered": sorted(list(k) for k in desired.registered),
    }
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def saved_plan_text(plan: Plan, config: FleetConfig, version: str, key: str | None = None) -> str:
    """The plan file's contents: the JSON plan, its `saved` block, signed when a key is given."""
    data = plan_json(plan)
    data["saved"] = {
        "format": SAVED_FORMAT,
        "fleetdns": version,
        "targets": {z.zone: zone_digest(config, z.zone) for z in plan.zones},
    }
    if key:
        data["saved"]["signature"] = _signature(data, _checked_key(key))
    return json.dumps(data, indent=2) + "\n"


def _checked_key(key: str) -> bytes:
    if len(key) < MIN_KEY_LENGTH:
        raise FleetDNSError(
            f"{PLAN_KEY_ENV} is too short to sign plans with ({len(key)} characters)",
            f"use at least {MIN_KEY_LENGTH} random characters, e.g. from: openssl rand -base64 32",
        )
    return key.encode("utf-8")


def _signature(data: dict, key: bytes) -> str:
    """HMAC-SHA256 over the canonical JSON of everything but the signature itself."""
    saved = {k: v for k, v in data["saved"].items() if k != "signature"}
    canonical = json.dumps({**data, "saved": saved}, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return _SIGNATURE_PREFIX + hmac.new(key, canonical.encode("ascii"), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- reading the file


def read_saved_plan(path: str, version: str, key: str | None = None) -> SavedPlan:
    """Read a plan file, check its signature (see check_signature) and that fleetdns `version` made
    it, and parse it strictly; every problem names where in the file it is."""
    with open(path, "rb") as handle:
        raw = handle.read(MAX_PLAN_BYTES + 1)
    if len(raw) > MAX_PLAN_BYTES:
        raise FleetDNSError(
            f"{path} is larger than {MAX_PLAN_BYTES // (1024 * 1024)} MiB: not a plan fleetdns wrote", REMAKE_HINT
        )
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise FleetDNSError(f"{path} is not a fleetdns plan file (invalid JSON: {shorten(exc)})", REMAKE_HINT) from None
    check_signature(path, data, key)
    return _Reader(path).saved_plan(data, version)


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false"}
    return "null" if value is None else names.get(type(value), "a number")


class _Reader:
    """Turns the file's JSON into plan objects, insisting on the exact types fleetdns writes."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, what: str) -> NoReturn:
        raise FleetDNSError(f"{self.source} is damaged: {where}: {what}", REMAKE_HINT)

    def obj(self, value: object, where: str, required: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            self.fail(where, f"expected an object, found {_kind(value)}")
        missing = [k for k in required if k not in value]
        if missing:
            self.fail(where, f"missing {', '.join(missing)}")
        return value

    def items(self, value: object, where: str) -> list:
        if not isinstance(value, list):
            self.fail(where, f"expected a list, found {_kind(value)}")
        return value

    def text(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            self.fail(where, f"expected a string, found {_kind(value)}")
        return value

    def name(self, value: object, where: str) -> str:
        """A DNS name as fleetdns writes them: printable, no white space (a newline here would be
        zone-file syntax if anything ever trusted it)."""
        text = self.text(value, where)
        if not text or any(c.isspace() or not c.isprintable() for c in text):
            self.fail(where, f"not a DNS name: {shorten(repr(text))}")
        return text

    def flag(self, value: object, where: str) -> bool:
        if not isinstance(value, bool):
            self.fail(where, f"expected true or false, found {shorten(json.dumps(value))}")
        return value

    def number(self, value: object, where: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(where, f"expected a whole number, found {shorten(json.dumps(value))}")
        return value

    def rrset(self, value: object, where: str) -> RecordSet | None:
        if value is None:
            return None
        data = self.obj(value, where, ("name", "type", "ttl", "values"))
        values = self.items(data["values"], f"{where}.values")
        return RecordSet(
            self.name(data["name"], f"{where}.name"),
            self.name(data["type"], f"{where}.type"),
            self.number(data["ttl"], f"{where}.ttl"),
            frozenset(self.text(v, f"{where}.values[{i}]") for i, v in enumerate(values)),
        )

    def change(self, value: object, where: str) -> Change:
        data = self.obj(value, where, ("action", "name", "type", "before", "after", "owned_before", "owned_after"))
        action = self.text(data["action"], f"{where}.action")
        if action not in ACTIONS:
            self.fail(f"{where}.action", f"unknown action {shorten(repr(action))}")
        return Change(
            action,
            self.name(data["name"], f"{where}.name"),
            self.name(data["type"], f"{where}.type"),
            self.rrset(data["before"], f"{where}.before"),
            self.rrset(data["after"], f"{where}.after"),
            self.flag(data["owned_before"], f"{where}.owned_before"),
            self.flag(data["owned_after"], f"{where}.owned_after"),
        )

    def zone(self, value: object, where: str) -> ZonePlan:
        data = self.obj(value, where, ("zone", "provider", "ownership", "owned_count", "changes"))
        ownership = self.text(data["ownership"], f"{where}.ownership")
        if ownership not in OWNERSHIP_MODES:
            self.fail(f"{where}.ownership", f"unknown ownership {shorten(repr(ownership))}")
        changes = []
        seen: set[tuple[str, str]] = set()
        for index, item in enumerate(self.items(data["changes"], f"{where}.changes")):
            change = self.change(item, f"{where}.changes[{index}]")
            if change.key in seen:
                self.fail(f"{where}.changes[{index}]", f"a second change for {shorten(' '.join(change.key))}")
            seen.add(change.key)
            changes.append(change)
        return ZonePlan(
            self.name(data["zone"], f"{where}.zone"),
            self.text(data["provider"], f"{where}.provider"),
            changes,
            self.number(data["owned_count"], f"{where}.owned_count"),
            ownership=ownership,
        )

    def saved_plan(self, value: object, version: str) -> SavedPlan:
        saved = self.obj(value["saved"], "saved", ("format", "fleetdns", "targets"))  # (check_signature: a dict)
        made_by = self.text(saved["fleetdns"], "saved.fleetdns")
        if made_by != version:
            raise FleetDNSError(
                f"{self.source} cannot be applied: it was made by fleetdns {shorten(made_by)}, this is {version}; "
                "a saved plan applies only with the version that made it",
                REVIEW_HINT,
            )
        if saved["format"] != SAVED_FORMAT:
            self.fail(
                "saved.format", f"format {shorten(json.dumps(saved['format']))}, this fleetdns reads {SAVED_FORMAT}"
            )
        data = self.obj(value, "the plan", ("owner", "zones"))
        zones = [self.zone(z, f"zones[{i}]") for i, z in enumerate(self.items(data["zones"], "zones"))]
        names = [z.zone for z in zones]
        if len(set(names)) != len(names):
            self.fail("zones", "a zone is listed twice")
        targets = self.obj(saved["targets"], "saved.targets", ())
        if sorted(targets) != sorted(names) or not all(isinstance(v, str) for v in targets.values()):
            self.fail("saved.targets", "does not hold one digest for each zone of the plan")
        return SavedPlan(self.source, Plan(self.text(data["owner"], "owner"), zones), dict(targets))


def check_signature(path: str, data: dict, key: str | None) -> None:
    """With a key, only a plan signed with that key applies; a signed plan needs the key to be checked."""
    if not isinstance(data, dict) or not isinstance(data.get("saved"), dict):
        raise FleetDNSError(f"{path} is not a plan saved by `fleetdns plan --out`", REMAKE_HINT)
    signature = data["saved"].get("signature")
    if not key and signature is None:
        return
    if not key:
        raise FleetDNSError(
            f"{path} is signed, but {PLAN_KEY_ENV} is not set here, so the signature cannot be checked; "
            "the saved plan was not applied",
            f"set {PLAN_KEY_ENV} to the key the plan was made with",
        )
    if signature is None:
        raise FleetDNSError(
            f"{path} is not signed, and {PLAN_KEY_ENV} is set: only plans signed with that key are applied",
            f"make the plan with {PLAN_KEY_ENV} set: fleetdns plan --out PLAN.json",
        )
    if not isinstance(signature, str) or not hmac.compare_digest(signature, _signature(data, _checked_key(key))):
        raise FleetDNSError(
            f"{path}: the signature does not match: the file was changed after it was signed, or signed with "
            f"another key; the saved plan was not applied",
            REVIEW_HINT,
        )


# ---------------------------------------------------------------- checking it against now


def check_inventory(saved: SavedPlan, config: FleetConfig) -> None:
    """Refuse a plan made for another owner id or from another inventory."""
    source = saved.source
    if saved.plan.owner != config.owner:
        raise FleetDNSError(
            f"{source} was made for owner id {shorten(repr(saved.plan.owner))}, but the inventory now says "
            f"{config.owner!r}",
            REMAKE_HINT,
        )
    stale = []
    for zone in saved.zones:
        if zone not in config.zones:
            stale.append(f"{shorten(zone)} is no longer in fleetdns_zones")
        elif saved.targets[zone] != zone_digest(config, zone):
            stale.append(f"{zone}: its records, device names, ownership or provider settings changed")
    if stale:
        raise FleetDNSError(
            f"the inventory changed since {source} was made ({'; '.join(stale)}); the saved plan was not applied",
            REVIEW_HINT,
        )


def make_checked_plan(
    saved: SavedPlan,
    config: FleetConfig,
    providers: Providers,
    adopt: bool = False,
    report: Report | None = None,
) -> Plan:
    """The plan to apply: made afresh (as `fleetdns plan` makes it, over the zones of the file) and
    returned only when it is exactly the saved one; otherwise refused, naming every difference.

    `adopt` is the caller's own --adopt: taking over record sets is never the file's decision."""
    check_inventory(saved, config)
    if saved.adopts and not adopt:
        raise FleetDNSError(
            f"{saved.source} takes over record sets fleetdns does not own yet (adopt); nothing was sent",
            "after reviewing the plan, apply it with --adopt to confirm",
        )
    try:
        fresh = make_plan(config, providers, saved.zones, adopt=adopt, report=report)
    except PlanConflictError as exc:
        raise FleetDNSError(
            f"{saved.source} cannot be applied: the DNS changed since it was made, {exc.message}", exc.hint
        ) from None
    found = differences(saved.plan, fresh)
    if found:
        shown = [f"  - {d}" for d in found[:SHOWN_DIFFERENCES]]
        if len(found) > SHOWN_DIFFERENCES:
            shown.append(f"  - ... and {len(found) - SHOWN_DIFFERENCES} more")
        raise FleetDNSError(
            f"{saved.source} does not match the plan made now from the inventory and the DNS "
            f"({len(found)} difference{'s' if len(found) != 1 else ''}); nothing was sent:\n" + "\n".join(shown),
            "the DNS changed since the plan was made, or the file was edited; " + REVIEW_HINT,
        )
    return fresh


_CHANGE_FIELDS = ("action", "before", "after", "owned_before", "owned_after")


def differences(saved: Plan, fresh: Plan) -> list[str]:
    """Every way the saved plan differs from the fresh one, each naming the zone and record set."""
    found = []
    now_by_zone = {z.zone: z for z in fresh.zones}
    for claimed in saved.zones:
        zone = claimed.zone
        now = now_by_zone[zone]
        for attribute in ("provider", "ownership"):
            if getattr(claimed, attribute) != getattr(now, attribute):
                found.append(
                    f"zone {zone}: {attribute} is {_shown(getattr(claimed, attribute))} in the file, "
                    f"{_shown(getattr(now, attribute))} now"
                )
        theirs = {c.key: c for c in claimed.changes}
        ours = {c.key: c for c in now.changes}
        for key in sorted(theirs.keys() | ours.keys(), key=sort_key):
            label = f"{zone} {shorten(relative_name(key[0], zone))} {shorten(key[1], 16)}"
            if key not in ours:
                found.append(f"{label}: the file would {theirs[key].action} it; a plan made now leaves it alone")
            elif key not in theirs:
                found.append(f"{label}: a plan made now would {ours[key].action} it; the file has no change for it")
            else:
                found += [
                    f"{label}: {name} is {_shown(getattr(theirs[key], name))} in the file, "
                    f"{_shown(getattr(ours[key], name))} now"
                    for name in _CHANGE_FIELDS
                    if getattr(theirs[key], name) != getattr(ours[key], name)
                ]
    return found


def _shown(value: Any) -> str:
    """A field of a change as a message shows it: short, one line."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, RecordSet):
        return shorten(f"ttl {value.ttl}: {', '.join(value.sorted_values()) or 'no values'}")
    return shorten(repr(value))
