"""Reading and planning many zones for `plan` and `apply`: concurrent reads, failures per zone.

On a terminal a counter shows the reads (`reading zones: 37/100`); elsewhere (CI logs, pipes) each
zone gets a plain line, in inventory order. A zone that fails is reported with its zone and the
others are still planned, unless --fail-fast.
"""

from __future__ import annotations

import sys

from ansible_collections.fleetdns.ddns.plugins.module_utils.engine import Providers, ZoneFailure, make_plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import Plan

from . import Context, Loaded


def plan_zones(
    ctx: Context, loaded: Loaded, providers: Providers, zones: list[str], keep_going: bool = True
) -> tuple[Plan, list[ZoneFailure]]:
    """The plan of the zones that could be read and planned, and the zones that could not.
    Without `keep_going` (or with --fail-fast) the first failing zone's error is raised."""
    args, out = ctx.args, ctx.out
    failures: list[ZoneFailure] | None = [] if keep_going and not args.fail_fast else None
    counter = sys.stderr.isatty() and len(zones) > 1
    plan = make_plan(
        loaded.config,
        providers,
        zones,
        adopt=args.adopt,
        report=None if counter else out.info,
        failures=failures,
        workers=args.workers,
        progress=(lambda done, total: out.progress("reading zones", done, total)) if counter else None,
    )
    failures = failures or []
    if failures and not plan.zones and len(failures) == 1:
        raise failures[0].error  # the only zone: its error is the run's, as a plain error line
    for failure in failures:
        out.error(f"zone {failure.zone} ({failure.provider}) could not be planned: {failure.error}")
    return plan, failures
