"""`fleetdns apply`: plan, show the plan, apply it zone by zone, summarise.

Asks for confirmation only on an interactive terminal without --yes; in CI (no TTY) it applies.
Zones are read concurrently and sent zone by zone in inventory order (engine.apply_plan: the next
zone may go out while another provider's server still applies the one before). A zone that fails
(to be read, planned or applied) is reported with its cause and the other zones still apply;
--fail-fast stops at the first failure, as does Ctrl-C. The summary says which zones were applied,
how many changes of a failed zone went through, and which zones were not touched; exit 1 when any
failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from ansible_collections.fleetdns.ddns.plugins.module_utils.engine import (
    ApplyResult,
    Providers,
    ZoneFailure,
    apply_plan,
    check_plan_safety,
    select_zones,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ChangedSinceReadError, FleetDNSError
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import Plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.render import (
    render_text,
    zone_partial_line,
    zone_result_line,
)

from ..options import selection_options
from . import Context, load
from ._zones import plan_zones
from .plan import checked_plan, load_saved_plan

NAME = "apply"
ORDER = 3


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        NAME,
        parents=parents,
        help="make the DNS match the inventory",
        description="Plan, show the plan, then apply it zone by zone. Asks for confirmation only on an "
        "interactive terminal without --yes.",
    )
    selection_options(parser)
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--plan",
        metavar="PLAN.json",
        dest="plan_file",
        help="apply a plan saved by `fleetdns plan --out`, only if a plan made now is exactly the same "
        "(a plan that adopts record sets needs --adopt too)",
    )
    parser.set_defaults(run=run)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def run(ctx: Context) -> int:
    args, out = ctx.args, ctx.out
    if args.plan_file and args.zone:
        raise FleetDNSError("--zone cannot be combined with --plan", "the zones were fixed when the plan was made")
    loaded = load(ctx)
    saved = load_saved_plan(args.plan_file) if args.plan_file else None
    failures: list[ZoneFailure] = []
    with Providers(loaded.config, loaded.base_dir) as providers:
        if saved:
            plan = checked_plan(saved, loaded.config, providers, args.adopt, out.info)
            out.info(f"the plan made now is the one saved in {args.plan_file}")
        else:
            zones = select_zones(loaded.config, args.zone)
            plan, failures = plan_zones(ctx, loaded, providers, zones)
        out.result(render_text(plan, out.color))
        if not plan.has_changes:
            if failures:
                out.info(f"not planned, so not applied: {', '.join(f.zone for f in failures)}")
                return 1
            return 0
        check_plan_safety(plan, args.allow_deletes)
        if not args.yes and _interactive() and not out.confirm("Apply these changes?"):
            out.error("apply cancelled; nothing was changed")
            return 1
        return _apply(ctx, plan, providers, failures)


def _apply(ctx: Context, plan: Plan, providers: Providers, unplanned: list[ZoneFailure]) -> int:
    out = ctx.out

    def progress(zone: str) -> Callable[[int, int], None]:
        return lambda done, total: out.progress(zone, done, total)

    started = time.monotonic()
    result = apply_plan(
        plan, providers, ctx.args.allow_deletes, report=out.info, progress=progress, fail_fast=ctx.args.fail_fast
    )
    _summary(ctx, plan, result, unplanned, time.monotonic() - started)
    if result.interrupted:
        raise KeyboardInterrupt  # the CLI's one way out of an interrupt: "interrupted", exit 130
    return 1 if result.failed or unplanned else 0


def _summary(ctx: Context, plan: Plan, result: ApplyResult, unplanned: list[ZoneFailure], elapsed: float) -> None:
    """Which zones went through, which failed (and how many of their changes went in), which were
    not touched, on stdout; each failure's cause on stderr, with its zone."""
    out = ctx.out
    pending = [z.zone for z in plan.zones if z.changes]
    zones = f"{len(result.applied)} of {len(pending)} zone{'s' if len(pending) != 1 else ''}"
    failed = [f"{len(result.failed)} failed"] if result.failed else []
    failed += [f"{len(unplanned)} not planned"] if unplanned else []
    if not result.interrupted and not failed:
        head = f"Applied {zones} in {elapsed:.2f}s"
    else:
        head = f"{'Interrupted' if result.interrupted else 'Failed'} after {elapsed:.2f}s: {zones} applied in full" + (
            f" ({', '.join(failed)})" if failed else ""
        )
    lines = [head, *(f"  {zone_result_line(z)}" for z in result.applied)]
    by_zone = {z.zone: z for z in plan.zones}
    lines += [f"  {zone_partial_line(by_zone[f.zone], f.done, 'failure')}" for f in result.failed]
    lines += [f"  {zone_partial_line(z, result.done.get(z.zone, 0), 'interrupt')}" for z in result.in_flight]
    lines += [f"  {f.zone} ({f.provider}): not planned, nothing sent" for f in unplanned]
    out.result("\n".join(lines))
    for failure in result.failed:
        message = f"zone {failure.zone} ({failure.provider}) failed: {failure.error}"
        if isinstance(failure.error, ChangedSinceReadError):
            message += "\n  the zone changed after it was read; nothing in the failing batch was written"
        out.error(message)
    if result.in_flight:
        zones_in_flight = ", ".join(z.zone for z in result.in_flight)
        out.info(f"interrupted while applying {zones_in_flight} (what was being sent then may have gone in too)")
    if not result.interrupted and not failed:
        return
    partly = [f for f in result.failed if f.done]
    partly += [
        ZoneFailure(z.zone, z.provider, FleetDNSError(""), result.done[z.zone], len(z.changes))
        for z in result.in_flight
        if result.done.get(z.zone, 0)
    ]
    reached = {z.zone for z in result.applied} | {f.zone for f in partly}
    untouched = [z for z in pending if z not in reached]
    if result.applied:
        out.info(f"applied: {', '.join(z.zone for z in result.applied)}")
    for failure in partly:
        out.info(f"partly applied: {failure.zone} ({failure.done:,} of {failure.total:,} changes)")
    untouched += [f.zone for f in unplanned]
    if untouched:
        out.info(f"not applied: {', '.join(untouched)} (run `fleetdns plan` to see what remains)")
    else:
        out.info("run `fleetdns plan` to see what remains")
