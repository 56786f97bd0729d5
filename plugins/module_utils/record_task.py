"""The generic runner behind the dns_record module: one task's record sets on one zone provider.

A task is checked with config.py's own checks (so a task accepts exactly what an inventory entry
accepts), the zone is read once, the plan is made by the CLI's own planner (plan.plan_zone: the same
ownership rules and markers, so the CLI and the module agree on what is owned), and every change goes out in ONE
provider.apply call, which packs them into as few UPDATE messages / API batches as fit.

Semantics per listed record set (state present):

- on_existing=replace: the record set becomes exactly the listed values;
- on_existing=keep: the listed values are added beside the ones already there (nothing is
  removed), also on a record set fleetdns does not own, which then stays unowned unless adopt;
- on_existing=fail: a record set that exists with other values is an error;
- an existing record set keeps its TTL unless the task gives one.

state absent without values deletes the whole record set (owned, or any with adopt); with values it
removes just those values (also from an unowned set: naming the values is the permission).
prune deletes the owned record sets of the zone that the task does not list, within the same
safety limit as `fleetdns apply` (allow_deletes lifts it). With ownership=zone every record set of
the zone counts as owned (ownership.claim_zone) and no marker is read or written, as for a zone
with `ownership: zone` in the inventory.

An update-only provider (dyndns2, duckdns, freedns, namecheap) takes one name's A/AAAA with state
present: DNS is asked what the name holds (the provider's `resolver`, else the name's authoritative
servers), the service is sent the addresses only when DNS differs, and DNS is asked again to verify.

Plain Python without Ansible imports, so the agent or the CLI can run a task as well.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any

from .config import (
    DEFAULT_OWNER,
    DEFAULT_TTL,
    ProviderConfig,
    record_rules,
    validate_owner,
    validate_provider,
    validate_records,
)
from .errors import ConfigError, FleetDNSError, PlanConflictError, Problem, SafetyError, shorten
from .limits import marker_problem
from .names import InvalidNameError, normalize_name, normalize_zone, zone_for_name
from .ownership import MARKER_OWNERSHIP, OWNERSHIP_MODES, ZONE_OWNERSHIP, ZoneState
from .plan import Change, Intent, Wording, ZonePlan, check_delete_safety, plan_zone
from .providers import checks_targets, provider_class, provider_libraries, provider_type_names, zone_provider_class
from .providers.base import UpdateOnlyProvider
from .providers.ddns_lookup import provider_lookup
from .rdata import HAS_DNSPYTHON, InvalidValueError, check_ttl
from .records import RecordKey, RecordSet

STATES = ("present", "absent")
ON_EXISTING = ("replace", "keep", "fail")
RECORD_OPTIONS = ("name", "type", "value", "values", "ttl")


@dataclass
class RecordTask:
    """The arguments of one task, as a front received them (validated by `prepare`)."""

    provider: Any
    zone: Any
    records: list[Any]
    state: str = "present"
    on_existing: str = "replace"
    prune: bool = False
    owner: Any = DEFAULT_OWNER
    ownership: str = MARKER_OWNERSHIP
    adopt: bool = False
    device_names: list[Any] = field(default_factory=list)
    ttl: Any = None  # TTL of the entries that give none
    allow_deletes: bool = False
    base_dir: str = "."
    single: bool = False  # one entry from top-level options: problems say `value`, not `records[0].value`
    provider_name: str = "dns_record"  # what the provider's own messages call it


@dataclass
class Prepared:
    """A validated task: absolute names, canonical values."""

    provider: ProviderConfig
    zone: str
    owner: str
    wanted: dict[RecordKey, RecordSet]  # present: values to set or add; absent: values to remove (none: all)
    explicit_ttl: set[RecordKey]
    registered: set[RecordKey]


@dataclass
class TaskPlan:
    """The changes of one task, plus what the user should know about them."""

    zone: str
    changes: list[Change]
    owned_count: int
    notes: list[str]  # worth knowing, not worth a warning
    warnings: list[str]  # the user should act on these


@dataclass
class TaskResult:
    zone: str
    changes: list[Change]
    notes: list[str]  # worth knowing, not worth a warning
    warnings: list[str]  # the user should act on these
    applied: bool


# ---- what a front needs before it runs a task --------------------------------------------------


def provider_argument_spec() -> dict[str, dict[str, Any]]:
    """Sub-options of a front's `provider` option: `type` plus the union of every registered
    provider's options, typed `raw` (config.py checks types per provider) and `no_log` exactly
    for the secret ones, so Ansible hides them everywhere, even in its own invocation log. The
    update-only providers' options are there too (a task sets one name's addresses through them),
    their passwords and tokens hidden."""
    spec: dict[str, dict[str, Any]] = {"type": {"type": "str", "required": True}}
    for type_name in provider_type_names():
        cls = provider_class(type_name)
        for key, option in (cls.OPTIONS if cls else {}).items():
            entry = spec.setdefault(key, {"type": "raw", "no_log": False})
            entry["no_log"] = entry["no_log"] or option.secret
    return spec


def missing_libraries(provider: Any) -> list[str]:
    """Python packages the task cannot run without that are not installed."""
    missing = [] if HAS_DNSPYTHON else ["dnspython"]
    type_name = provider.get("type") if isinstance(provider, dict) else None
    for library in provider_libraries(type_name) if isinstance(type_name, str) else ():
        if importlib.util.find_spec(library) is None:
            missing.append(library)
    return missing


def error_message(exc: FleetDNSError) -> str:
    """One line for a front's failure message: every problem, joined."""
    if isinstance(exc, ConfigError):
        return "; ".join(str(p) for p in exc.problems)
    if isinstance(exc, PlanConflictError):
        text = f"zone {exc.zone}: " + "; ".join(exc.conflicts)
        return f"{text} (hint: {exc.hint})" if exc.hint else text
    return " ".join(str(exc).split("\n"))


# ---- validation ----------------------------------------------------------------------------------


def prepare(task: RecordTask) -> Prepared:
    """Check every argument; raise one ConfigError listing all problems."""
    problems: list[Problem] = []
    if task.state not in STATES:
        problems.append(Problem(f"{task.state!r} is not one of {', '.join(STATES)}", "state"))
    if task.on_existing not in ON_EXISTING:
        problems.append(Problem(f"{task.on_existing!r} is not one of {', '.join(ON_EXISTING)}", "on_existing"))
    if task.ownership not in OWNERSHIP_MODES:
        problems.append(Problem(f"{task.ownership!r} is not one of {', '.join(OWNERSHIP_MODES)}", "ownership"))
    if task.state == "absent":
        if task.prune:
            problems.append(Problem("prune works only with state: present", "prune", "remove prune, or use present"))
        if task.device_names:
            problems.append(Problem("device_names work only with state: present", "device_names"))
    provider = _collect(problems, validate_provider, task.provider, "provider", task.provider_name, True)
    if provider is not None and zone_provider_class(provider.type) is None:
        problems.extend(_update_only_problems(task, provider))
    cls = zone_provider_class(provider.type) if provider is not None else None
    if task.ownership == ZONE_OWNERSHIP and cls is not None and not cls.CAPABILITIES.zone_ownership:
        problems.append(
            Problem(f"ownership: zone is not available with the {provider.type} provider", "ownership", "use markers")
        )
    owner = _collect(problems, validate_owner, task.owner)
    zone = ""
    try:
        zone = normalize_zone(task.zone)
    except InvalidNameError as exc:
        problems.append(Problem(str(exc), "zone", "a zone is a domain name like example.com"))
    default_ttl = DEFAULT_TTL
    if task.ttl is not None:
        try:
            default_ttl = check_ttl(task.ttl)
        except InvalidValueError as exc:
            problems.append(Problem(str(exc), "ttl", "a TTL is a whole number of seconds, like 300"))
    wanted: dict[RecordKey, RecordSet] = {}
    explicit: set[RecordKey] = set()
    registered: set[RecordKey] = set()
    if zone:
        entries = _entries(task.records, problems)
        if entries is not None:
            rules = record_rules(provider, task.ownership)
            found = _collect(problems, validate_records, entries, zone, default_ttl, task.state == "present", rules)
            if found is not None:
                wanted = found
                # every entry passed, so the dict holds them in order, one per entry
                explicit = {
                    key for key, entry in zip(found, entries, strict=True) if "ttl" in entry or task.ttl is not None
                }
        registered = _registered(task.device_names, zone, wanted, problems, task.ownership == MARKER_OWNERSHIP)
    if provider is not None and zone_provider_class(provider.type) is None and len({n for n, _t in wanted}) > 1:
        problems.append(
            Problem(
                f"the {provider.type} provider sets the addresses of one name per task; the task lists "
                f"{len({n for n, _t in wanted})}",
                "records",
                "give one name (its A and/or AAAA) per task",
            )
        )
    if task.single:
        problems = [_unprefixed(p) for p in problems]
    if problems or provider is None or owner is None:  # (without problems, both are set)
        raise ConfigError(problems)
    return Prepared(provider, zone, owner, wanted, explicit, registered)


def _update_only_problems(task: RecordTask, provider: ProviderConfig) -> list[Problem]:
    """What a task may not ask of an update-only provider: it only sets one name's addresses."""
    cls = provider_class(provider.type)
    types = cls.CAPABILITIES.record_types if cls is not None else ()
    what = f"the {provider.type} provider only sets the {'/'.join(types)} addresses of one name"
    problems = []
    for key, allowed, value in (
        ("state", "present", task.state),
        ("on_existing", "replace", task.on_existing),
        ("ownership", MARKER_OWNERSHIP, task.ownership),
    ):
        if value != allowed:
            problems.append(Problem(f"{what}: {key}: {value} is not available", key, f"use {key}: {allowed}"))
    for key in ("prune", "device_names"):
        if getattr(task, key):
            problems.append(Problem(f"{what}: {key} is not available", key, f"remove {key}"))
    entries = task.records if isinstance(task.records, list) else []
    for index, entry in enumerate(entries):
        rtype = entry.get("type") if isinstance(entry, dict) else None
        if isinstance(rtype, str) and rtype.upper() not in types:
            problems.append(
                Problem(f"{what}: it cannot set {rtype} records", f"records[{index}].type", f"use {' or '.join(types)}")
            )
    return problems


def _collect(problems: list[Problem], check: Any, *args: Any) -> Any:
    try:
        return check(*args)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None


def _entries(records: Any, problems: list[Problem]) -> list[dict] | None:
    """Record entries without the keys a front filled with None (Ansible does for unset sub-options)."""
    if not isinstance(records, list):
        problems.append(Problem("records must be a list of {name, type, value}", "records"))
        return None
    return [{k: v for k, v in item.items() if v is not None} if isinstance(item, dict) else item for item in records]


def _registered(
    names: Any, zone: str, wanted: dict[RecordKey, RecordSet], problems: list[Problem], marked: bool
) -> set[RecordKey]:
    """A and AAAA of device names in this zone: owned by fleetdns, their values set by each agent.
    Checked as fleetdns_names are: a valid name of the zone whose markers (`marked`) fit DNS."""
    result: set[RecordKey] = set()
    if not isinstance(names, list):
        problems.append(Problem("device_names must be a list of fully qualified names", "device_names"))
        return result
    for index, raw in enumerate(names):
        path = f"device_names[{index}]"
        if not isinstance(raw, str) or not raw.strip("."):
            problems.append(Problem(f"{shorten(repr(raw))} is not a name", path, "write a name like gw.example.com"))
            continue
        absolute = raw.lower() if raw.endswith(".") else raw.lower() + "."
        if zone_for_name(absolute, [zone]) is None:
            problems.append(Problem(f"{shorten(raw)} is not in the zone {zone}", path, "list only names of this zone"))
            continue
        try:
            name = normalize_name(absolute, zone)
        except InvalidNameError as exc:
            problems.append(Problem(str(exc), path, "write a fully qualified name like gw.example.com"))
            continue
        marker = marker_problem(name, "AAAA", zone) if marked else None
        if marker:
            problems.append(Problem(f"device name {shorten(name, 40)}: {marker}", path, "choose a shorter name"))
            continue
        clash = [t for t in ("A", "AAAA", "CNAME") if (name, t) in wanted]
        if clash:
            problems.append(
                Problem(
                    f"{name} is a device name but the task also lists {'/'.join(clash)} for it",
                    path,
                    "a device's agent sets its A/AAAA; remove the record or the device name",
                )
            )
            continue
        result.update({(name, "A"), (name, "AAAA")})
    return result


def _unprefixed(problem: Problem) -> Problem:
    """`records[0].value` -> `value` when the task gave its one record set as top-level options."""
    path = problem.path
    if path == "records[0]":
        path = ""
    elif path.startswith("records[0]."):
        path = path[len("records[0].") :]
    return Problem(problem.message, path, problem.hint, problem.location)


# ---- planning ------------------------------------------------------------------------------------


MODULE_WORDING = Wording(
    adopt="adopt: true",
    set_adopt="set adopt: true",
    other_ways=", or on_existing: keep to add values beside the ones there",
    wanted="wanted",
    incomplete="the zone could not be listed whole (for rfc2136: AXFR refused), so prune only saw the record "
    "sets of this task; allow AXFR for the key to prune the rest",
)


def plan_task(task: RecordTask, prepared: Prepared, current: ZoneState) -> TaskPlan:
    """The changes that bring `current` to what the task asks; pure (the CLI's planner, configured
    by the task). Raises PlanConflictError for record sets in the way, SafetyError when prune would
    delete too much."""
    intent = Intent(
        prepared.wanted,
        frozenset(prepared.registered),
        present=task.state == "present",
        on_existing=task.on_existing,
        ttl_kept=frozenset(prepared.wanted.keys() - prepared.explicit_ttl),
        prune=task.prune,
        adopt=task.adopt,
        whole_zone=task.ownership == ZONE_OWNERSHIP,
        server_checks_targets=checks_targets(prepared.provider.type),
    )
    planned = plan_zone(intent, current, prepared.zone, prepared.owner, MODULE_WORDING)
    if task.prune and not task.allow_deletes:
        pruned = [c for c in planned.changes if c.action == "delete" and c.key not in prepared.wanted]
        try:
            check_delete_safety(ZonePlan(prepared.zone, prepared.provider.name, pruned, planned.owned_count), False)
        except SafetyError as exc:
            raise SafetyError(
                f"prune: {exc.message}",
                "check that the task lists every record set; if the deletions are intended, set allow_deletes: true",
            ) from None
    return TaskPlan(prepared.zone, planned.changes, planned.owned_count, planned.notes, planned.warnings)


# ---- running -------------------------------------------------------------------------------------


def run_task(task: RecordTask, check_mode: bool = False) -> TaskResult:
    """Validate, read the zone once, plan, and (unless check_mode) apply every change in one call."""
    prepared = prepare(task)
    if zone_provider_class(prepared.provider.type) is None:
        return _run_update(task, prepared, check_mode)
    cls = zone_provider_class(prepared.provider.type)
    if cls is None:  # (ruled out above; keeps the type checker informed)
        raise FleetDNSError(f"unknown provider type {prepared.provider.type!r}")
    with cls(prepared.provider.name, prepared.provider.options, task.base_dir) as provider:
        current = provider.read(prepared.zone, set(prepared.wanted) | prepared.registered)
        plan = plan_task(task, prepared, current)
        if plan.changes and not check_mode:
            marker_owner = None if task.ownership == ZONE_OWNERSHIP else prepared.owner
            provider.apply(prepared.zone, plan.changes, marker_owner)
    return TaskResult(prepared.zone, plan.changes, plan.notes, plan.warnings, bool(plan.changes) and not check_mode)


def _run_update(task: RecordTask, prepared: Prepared, check_mode: bool) -> TaskResult:
    """One name's addresses through an update-only provider: DNS is asked first, the service only
    when DNS differs (set_addresses), DNS again after. Records without ownership: such a service
    touches only the name it is given."""
    cls = provider_class(prepared.provider.type)
    if cls is None or not issubclass(cls, UpdateOnlyProvider):  # validate_provider rules this out
        raise FleetDNSError(f"unknown provider type {prepared.provider.type!r}")
    name = next(iter(prepared.wanted))[0]
    wanted = {rtype: rrset.values for (_n, rtype), rrset in prepared.wanted.items()}
    notes: list[str] = []
    warnings: list[str] = []
    with cls(prepared.provider.name, prepared.provider.options, task.base_dir) as provider:
        lookup = provider_lookup(prepared.provider.options)
        if check_mode:
            before = {rtype: lookup(name, rtype) for rtype in wanted}
        else:
            result = provider.set_addresses(name, wanted, lookup)
            before = dict(result.before)
            if result.answer is not None:
                notes.append(f"{prepared.provider.type} answered: {result.answer.text}")
            if result.sent and not result.verified:
                warnings.append(
                    f"DNS does not give {name} the new address yet (the service's servers may take a moment)"
                )
    if prepared.explicit_ttl:
        notes.append(f"the {prepared.provider.type} service sets the TTL itself; ttl was not sent")
    changes = []
    for rtype, values in wanted.items():
        if before.get(rtype, frozenset()) == values:
            continue
        ttl = prepared.wanted[(name, rtype)].ttl
        old = RecordSet(name, rtype, ttl, before[rtype]) if before.get(rtype) else None
        changes.append(
            Change(
                "update" if old else "create",
                name,
                rtype,
                old,
                RecordSet(name, rtype, ttl, values),
                owned_before=False,
                owned_after=False,
            )
        )
    return TaskResult(prepared.zone, changes, notes, warnings, bool(changes) and not check_mode)


# ---- output --------------------------------------------------------------------------------------


def change_dicts(changes: list[Change]) -> list[dict[str, Any]]:
    """The changes as a front returns them: action, name, type, before/after {ttl, values}, ownership."""
    return [
        {
            "action": c.action,
            "name": c.name,
            "type": c.type,
            "before": {"ttl": c.before.ttl, "values": c.before.sorted_values()} if c.before else None,
            "after": {"ttl": c.after.ttl, "values": c.after.sorted_values()} if c.after else None,
            "owned_before": c.owned_before,
            "owned_after": c.owned_after,
        }
        for c in changes
    ]


def diff_entries(changes: list[Change], owner: str) -> list[dict[str, str]]:
    """Ansible's diff format, one entry per record set: its records in zone-file lines, before and after."""
    return [
        {
            "before_header": f"{c.name} {c.type}",
            "after_header": f"{c.name} {c.type}",
            "before": _zone_text(c.before, c.owned_before, owner),
            "after": _zone_text(c.after, c.owned_after, owner),
        }
        for c in changes
    ]


def _zone_text(rrset: RecordSet | None, owned: bool, owner: str) -> str:
    lines = [f"{r.name} {r.ttl} IN {r.type} {v}\n" for r in ([rrset] if rrset else []) for v in r.sorted_values()]
    if owned:
        lines.append(f"; owned by fleetdns owner '{owner}'\n")
    return "".join(lines)
