"""Plan and apply over a validated FleetConfig: read each zone, diff it, push the changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .config import FleetConfig, ProviderConfig
from .errors import FleetDNSError
from .plan import Plan, ZonePlan, check_delete_safety, make_zone_plan
from .providers import checks_targets, provider_class, zone_provider_class
from .providers.base import Progress, ZoneProvider

Report = Callable[[str], None]


class Providers:
    """Opens each provider once per run and closes them all at the end."""

    def __init__(self, config: FleetConfig, base_dir: str) -> None:
        self._config = config
        self._base_dir = base_dir
        self._open: dict[str, ZoneProvider] = {}

    def get(self, name: str) -> ZoneProvider:
        if name not in self._open:
            provider: ProviderConfig = self._config.providers[name]
            cls = zone_provider_class(provider.type)
            if cls is None:  # validation rules this out; guard against a hand-edited saved plan
                raise FleetDNSError(f"provider '{name}' has unknown type {provider.type!r}")
            self._open[name] = cls(name, provider.options, self._base_dir)
        return self._open[name]

    def update_only(self, name: str) -> str | None:
        """The type of provider `name` when it is update-only (it cannot list a zone), else None."""
        provider = self._config.providers.get(name)
        cls = provider_class(provider.type) if provider is not None else None
        return provider.type if cls is not None and not cls.CAPABILITIES.lists_zone else None

    def close(self) -> None:
        for provider in self._open.values():
            provider.close()
        self._open.clear()

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


def make_plan(
    config: FleetConfig, providers: Providers, zones: list[str], adopt: bool = False, report: Report | None = None
) -> Plan:
    """Read every selected zone and diff it against the inventory. A zone of an update-only provider
    is left out: it cannot be read, and its names are set one by one by the agents of their hosts."""
    plan = Plan(config.owner)
    for zone in zones:
        desired = config.desired(zone)
        provider_name = config.zones[zone].provider
        update_only = providers.update_only(provider_name)
        if update_only:
            if report:
                report(
                    f"not planning {zone}: its {update_only} provider '{provider_name}' only sets the addresses of "
                    "single names, which the agents of their hosts keep current"
                )
            continue
        if report:
            report(f"reading {zone} from {provider_name}")
        wanted = set(desired.records) | desired.registered
        current = providers.get(provider_name).read(zone, wanted)
        ownership = config.zones[zone].ownership
        checks = checks_targets(config.providers[provider_name].type)
        plan.zones.append(make_zone_plan(desired, current, config.owner, provider_name, adopt, ownership, checks))
    return plan


@dataclass
class ApplyResult:
    """How far an apply got. `stopped` is the zone that failed (`error` says why) or was
    interrupted; `done` counts, per zone, the changes its provider confirmed as applied."""

    applied: list[ZonePlan] = field(default_factory=list)
    stopped: ZonePlan | None = None
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
) -> ApplyResult:
    """Apply zone by zone; stop at the first zone that fails, or at Ctrl-C, and say how far it got.

    A KeyboardInterrupt ends the apply like a failure (result.interrupted); the caller decides how
    to exit."""
    check_plan_safety(plan, allow_deletes)
    result = ApplyResult()
    for zone_plan in plan.zones:
        if not zone_plan.changes:
            continue
        if report:
            report(f"applying {len(zone_plan.changes)} change(s) to {zone_plan.zone} via {zone_plan.provider}")
        result.done[zone_plan.zone] = 0
        try:
            providers.get(zone_plan.provider).apply(
                zone_plan.zone,
                zone_plan.changes,
                plan.owner if zone_plan.marked else None,
                _counting(result.done, zone_plan.zone, progress(zone_plan.zone) if progress else None),
            )
        except FleetDNSError as exc:
            result.stopped, result.error = zone_plan, exc
            return result
        except KeyboardInterrupt:
            result.stopped, result.interrupted = zone_plan, True
            return result
        result.done[zone_plan.zone] = len(zone_plan.changes)
        result.applied.append(zone_plan)
    return result


def _counting(done: dict[str, int], zone: str, shown: Progress | None) -> Progress:
    """A progress callback that records the count the provider reports, then passes it on."""

    def report(count: int, total: int) -> None:
        done[zone] = count
        if shown:
            shown(count, total)

    return report
