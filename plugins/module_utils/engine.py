"""Plan and apply over a validated FleetConfig: read each zone, diff it, push the changes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from .config import FleetConfig, ProviderConfig
from .cross_targets import ZoneView, check_cross_zone, zone_view
from .errors import FleetDNSError, PlanConflictError
from .plan import Plan, ZonePlan, check_delete_safety, make_zone_plan
from .providers import checks_targets, provider_class, zone_provider_class
from .providers.base import Meanwhile, Progress, ZoneProvider

Report = Callable[[str], None]
# Zones read at once: enough to hide network round trips, few enough for one server or API account.
DEFAULT_WORKERS = 8


class Providers:
    """Opens each provider once per run and closes them all at the end.

    `get` is the run's one instance of a provider (applying uses it). Reading several zones at once,
    `reading` lends each thread an instance of its own where the provider type allows it
    (CONCURRENT_READS), else the shared one, one zone at a time."""

    def __init__(self, config: FleetConfig, base_dir: str) -> None:
        self._config = config
        self._base_dir = base_dir
        self._open: dict[str, ZoneProvider] = {}
        self._extra: list[ZoneProvider] = []
        self._local = threading.local()
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def _make(self, name: str) -> ZoneProvider:
        provider: ProviderConfig = self._config.providers[name]
        cls = zone_provider_class(provider.type)
        if cls is None:  # validation rules this out; guard against a hand-edited saved plan
            raise FleetDNSError(f"provider '{name}' has unknown type {provider.type!r}")
        return cls(name, provider.options, self._base_dir)

    def get(self, name: str) -> ZoneProvider:
        with self._guard:
            if name not in self._open:
                self._open[name] = self._make(name)
            return self._open[name]

    @contextmanager
    def reading(self, name: str) -> Iterator[ZoneProvider]:
        """An instance of provider `name` this thread may read with."""
        shared = self.get(name)
        if shared.CONCURRENT_READS:
            mine = getattr(self._local, "providers", None)
            if mine is None:
                mine = self._local.providers = {}
            if name not in mine:
                mine[name] = self._make(name)
                with self._guard:
                    self._extra.append(mine[name])
            yield mine[name]
            return
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            yield shared

    def update_only(self, name: str) -> str | None:
        """The type of provider `name` when it is update-only (it cannot list a zone), else None."""
        provider = self._config.providers.get(name)
        cls = provider_class(provider.type) if provider is not None else None
        return provider.type if cls is not None and not cls.CAPABILITIES.lists_zone else None

    def close(self) -> None:
        for provider in [*self._open.values(), *self._extra]:
            provider.close()
        self._open.clear()
        self._extra.clear()

    def __enter__(self) -> Providers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def select_zones(config: FleetConfig, only: list[str] | None) -> list[str]:
    """Zones to work on, in inventory order; unknown names in `only` are an error."""
    if not only:
        return list(config.zones)
    wanted = [z.lower().rstrip(".") + "." for z in only]
    unknown = [z for z in wanted if z not in config.zones]
    if unknown:
        raise FleetDNSError(
            f"zone {', '.join(unknown)} is not in fleetdns_zones", f"known zones: {', '.join(config.zones) or 'none'}"
        )
    return wanted


@dataclass
class ZoneFailure:
    """A zone that could not be read, planned or applied; `done`: its changes that went through."""

    zone: str
    provider: str
    error: FleetDNSError
    done: int = 0
    total: int = 0


@dataclass
class _Read:
    plan: ZonePlan | None = None
    view: ZoneView | None = None
    error: FleetDNSError | None = None


def make_plan(
    config: FleetConfig,
    providers: Providers,
    zones: list[str],
    adopt: bool = False,
    report: Report | None = None,
    failures: list[ZoneFailure] | None = None,
    workers: int = DEFAULT_WORKERS,
    progress: Progress | None = None,
) -> Plan:
    """Read every selected zone and diff it against the inventory, up to `workers` zones at once;
    the plan lists the zones in inventory order whatever order they were read in. A zone of an
    update-only provider is left out: it cannot be read, and its names are set one by one by the
    agents of their hosts.

    A zone that fails (unreachable, blocked plan) raises its error, the first in inventory order,
    unless `failures` is given: then it is appended there and the other zones are still planned.
    `report` is only ever called from the calling thread, in inventory order; `progress(done,
    total)` after each zone is read."""
    plan = Plan(config.owner)
    readable = []
    for zone in zones:
        provider_name = config.zones[zone].provider
        update_only = providers.update_only(provider_name)
        if update_only:
            if report:
                report(
                    f"not planning {zone}: its {update_only} provider '{provider_name}' only sets the addresses of "
                    "single names, which the agents of their hosts keep current"
                )
            continue
        readable.append(zone)
    results = _read_all(config, providers, readable, adopt, max(1, workers), report, progress)
    views = {zone: result.view for zone, result in results.items() if result.view is not None}
    cross = check_cross_zone(
        views,
        config.zones,
        (name for host in config.hosts.values() for name in host.names),
        {zone: config.zones[zone].strict_checks for zone in views},
        {zone: checks_targets(config.providers[config.zones[zone].provider].type) for zone in views},
    )
    for zone in readable:
        result = results[zone]
        findings = cross.get(zone)
        if result.plan is not None and findings is not None:
            if findings.conflicts:
                result.error = PlanConflictError(
                    zone, findings.conflicts, "fleetdns never sends what a server refuses or the zone asks to refuse"
                )
            else:
                result.plan.notes[:0] = findings.warnings
        if result.error is not None:
            if failures is None:
                raise result.error
            failures.append(ZoneFailure(zone, config.zones[zone].provider, result.error))
            continue
        if result.plan is not None:
            plan.zones.append(result.plan)
    return plan


def _read_all(
    config: FleetConfig,
    providers: Providers,
    zones: list[str],
    adopt: bool,
    workers: int,
    report: Report | None,
    progress: Progress | None,
) -> dict[str, _Read]:
    """Each zone read and planned, `workers` at a time; reports in inventory order as they finish."""

    def one(zone: str) -> _Read:
        desired = config.desired(zone)
        zone_config = config.zones[zone]
        provider_name = zone_config.provider
        checks = checks_targets(config.providers[provider_name].type)
        wanted = set(desired.records) | desired.registered
        try:
            with providers.reading(provider_name) as provider:
                current = provider.read(zone, wanted)
            zone_plan = make_zone_plan(
                desired, current, config.owner, provider_name, adopt, zone_config.ownership, checks,
                zone_config.strict_checks,
            )  # fmt: skip
        except FleetDNSError as exc:
            return _Read(error=exc)
        changed = {c.key: c.after for c in zone_plan.changes if c.changes_data}
        return _Read(zone_plan, zone_view(zone, current.records, changed, current.complete))

    results: dict[str, _Read] = {}
    if workers == 1 or len(zones) < 2:
        for index, zone in enumerate(zones):
            if report:
                report(f"reading {zone} from {config.zones[zone].provider}")
            results[zone] = one(zone)
            if progress:
                progress(index + 1, len(zones))
        return results
    pool = ThreadPoolExecutor(max_workers=min(workers, len(zones)), thread_name_prefix="fleetdns-read")
    try:
        futures = [pool.submit(one, zone) for zone in zones]
        for index, (zone, future) in enumerate(zip(zones, futures, strict=True)):
            if report:
                report(f"reading {zone} from {config.zones[zone].provider}")
            results[zone] = future.result()
            if progress:
                progress(index + 1, len(zones))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results


@dataclass
class ApplyResult:
    """How far an apply got. `failed`: the zones that failed, each with its error and how many of
    its changes went through; the others were still applied. `in_flight`: the zones being applied
    when Ctrl-C ended the apply (`interrupted`). `error`: the first failing zone's. `done` counts, per
    zone, the changes its provider confirmed as applied. Zones are listed in inventory order."""

    applied: list[ZonePlan] = field(default_factory=list)
    failed: list[ZoneFailure] = field(default_factory=list)
    in_flight: list[ZonePlan] = field(default_factory=list)
    error: FleetDNSError | None = None
    interrupted: bool = False
    done: dict[str, int] = field(default_factory=dict)


def check_plan_safety(plan: Plan, allow_deletes: bool) -> None:
    """Every zone's safety checks, before anything is applied anywhere."""
    for zone_plan in plan.zones:
        check_delete_safety(zone_plan, allow_deletes)


def apply_plan(
    plan: Plan,
    providers: Providers,
    allow_deletes: bool = False,
    report: Report | None = None,
    progress: Callable[[str], Progress] | None = None,
    fail_fast: bool = False,
) -> ApplyResult:
    """Apply zone by zone, in the plan's (inventory) order: a zone is sent after the zone before it.

    A provider that waits on its server (rfc2136) hands over to the next zone meanwhile: that zone
    is sent then when another provider carries it, so two servers work at once (one zone each), else
    it is prepared. A zone that fails is recorded and the next zones are still applied;
    with `fail_fast` each zone waits for the outcome of the one before it and the apply ends at the
    first failure. Ctrl-C ends it (result.interrupted); the caller decides how to exit."""
    check_plan_safety(plan, allow_deletes)
    run = _ZoneRun(plan, providers, report, progress)
    pending = [zone_plan for zone_plan in plan.zones if zone_plan.changes]
    index = 0
    sending: _Sending | None = None
    try:
        while index < len(pending):
            zone_plan = pending[index]
            following = pending[index + 1] if index + 1 < len(pending) else None
            sending = None
            if following is not None and not fail_fast and following.provider != zone_plan.provider:
                sending = _Sending(run, following, pending[index + 2] if index + 2 < len(pending) else None)
            if not run.apply(zone_plan, sending or run.preparing(following)) and fail_fast:
                break
            if sending is not None and sending.crashed is not None:
                raise sending.crashed  # a bug, surfaced once the first zone's answer is in
            index += 2 if sending is not None and sending.sent else 1
    except KeyboardInterrupt:
        if sending is not None and sending.crashed is not None:
            raise sending.crashed from None  # a bug outweighs the interrupt that came after it
        run.result.interrupted = True
    return run.finished(pending)


class _ZoneRun:
    """One apply's zones: each applied through its provider, its outcome recorded."""

    def __init__(
        self, plan: Plan, providers: Providers, report: Report | None, progress: Callable[[str], Progress] | None
    ) -> None:
        self.plan, self.providers, self.report, self.progress = plan, providers, report, progress
        self.result = ApplyResult()

    def apply(self, zone_plan: ZonePlan, meanwhile: Meanwhile | None) -> bool:
        """Apply one zone; False when it failed. Ctrl-C is recorded and passed on."""
        result, zone = self.result, zone_plan.zone
        if self.report:
            self.report(f"applying {len(zone_plan.changes)} change(s) to {zone} via {zone_plan.provider}")
        result.done[zone] = 0
        try:
            self.providers.get(zone_plan.provider).apply(
                zone,
                zone_plan.changes,
                self._owner(zone_plan),
                _counting(result.done, zone, self.progress(zone) if self.progress else None),
                meanwhile,
            )
        except FleetDNSError as exc:
            result.failed.append(ZoneFailure(zone, zone_plan.provider, exc, result.done[zone], len(zone_plan.changes)))
            return False
        except KeyboardInterrupt:
            result.in_flight.append(zone_plan)
            raise
        result.done[zone] = len(zone_plan.changes)
        result.applied.append(zone_plan)
        return True

    def preparing(self, following: ZonePlan | None) -> Meanwhile | None:
        """The next zone's preparation (its encoding no longer adds to the wall time)."""
        if following is None:
            return None

        def prepare() -> None:
            # Whatever fails here fails again when that zone is applied, and is reported there; raised
            # here it would surface inside the provider that is waiting, as that zone's error.
            with suppress(Exception):
                provider = self.providers.get(following.provider)
                provider.prepare(following.zone, following.changes, self._owner(following))

        return prepare

    def finished(self, pending: list[ZonePlan]) -> ApplyResult:
        """The result with its zones in inventory order (a zone sent alongside finishes first)."""
        order = {zone_plan.zone: index for index, zone_plan in enumerate(pending)}
        result = self.result
        result.applied.sort(key=lambda z: order[z.zone])
        result.failed.sort(key=lambda f: order[f.zone])
        result.in_flight.sort(key=lambda z: order[z.zone])
        if result.failed:
            result.error = result.failed[0].error
        return result

    def _owner(self, zone_plan: ZonePlan) -> str | None:
        return self.plan.owner if zone_plan.marked else None


class _Sending:
    """The `meanwhile` that applies the next zone (another provider's) while the first one's server
    works; that zone's own wait prepares the zone after it. `sent` tells whether it ran. An
    unexpected exception is kept in `crashed` rather than raised into the first zone's provider,
    which would report it as its own network or protocol error."""

    def __init__(self, run: _ZoneRun, following: ZonePlan, after: ZonePlan | None) -> None:
        self.run, self.following, self.after = run, following, after
        self.sent = False
        self.crashed: Exception | None = None

    def __call__(self) -> None:
        self.sent = True
        try:
            self.run.apply(self.following, self.run.preparing(self.after))
        except Exception as exc:  # raised again by apply_plan, after the first zone
            self.crashed = exc


def _counting(done: dict[str, int], zone: str, shown: Progress | None) -> Progress:
    """A progress callback that records the count the provider reports, then passes it on."""

    def report(count: int, total: int) -> None:
        done[zone] = count
        if shown:
            shown(count, total)

    return report
