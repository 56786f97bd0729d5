"""`fleetdns apply`: plan, show the plan, apply it zone by zone, summarise.

Asks for confirmation only on an interactive terminal without --yes; in CI (no TTY) it applies.
Stops at the first zone that fails (or at Ctrl-C) and says which zones were applied, how many
changes of the zone it stopped in went through, and which zones were not touched.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from ansible_collections.fleetdns.ddns.plugins.module_utils.engine import (
    ApplyResult,
    Providers,
    apply_plan,
    check_plan_safety,
    make_plan,
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
    with Providers(loaded.config, loaded.base_dir) as providers:
        if saved:
            plan = checked_plan(saved, loaded.config, providers, args.adopt, out.info)
            out.info(f"the plan made now is the one saved in {args.plan_file}")
        else:
            zones = select_zones(loaded.config, args.zone)
            plan = make_plan(loaded.config, providers, zones, adopt=args.adopt, report=out.info)
        out.result(render_text(plan, out.color))
        if not plan.has_changes:
            return 0
        check_plan_safety(plan, args.allow_deletes)
        if not args.yes and _interactive() and not out.confirm("Apply these changes?"):
            out.error("apply cancelled; nothing was changed")
            return 1
        return _apply(ctx, plan, providers)


def _apply(ctx: Context, plan: Plan, providers: Providers) -> int:
    out = ctx.out

    def progress(zone: str) -> Callable[[int, int], None]:
        return lambda done, total: out.progress(zone, done, total)

    started = time.monotonic()
    result = apply_plan(plan, providers, ctx.args.allow_deletes, report=out.info, progress=progress)
    _summary(ctx, plan, result, time.monotonic() - started)
    if result.interrupted:
        raise KeyboardInterrupt  # the CLI's one way out of an interrupt: "interrupted", exit 130
    return 1 if result.stopped else 0


def _summary(ctx: Context, plan: Plan, result: ApplyResult, elapsed: float) -> None:
    """Which zones went through, and for the zone it stopped in, how many of its changes."""
    out = ctx.out
    pending = [z.zone for z in plan.zones if z.changes]
    zones = f"{len(result.applied)} of {len(pending)} zone{'s' if len(pending) != 1 else ''}"
    stopped = result.stopped
    if stopped is None:
        head = f"Applied {zones} in {elapsed:.2f}s"
    else:
        head = f"{'Interrupted' if result.interrupted else 'Failed'} after {elapsed:.2f}s: {zones} applied in full"
    lines = [head, *(f"  {zone_result_line(z)}" for z in result.applied)]
    if stopped is None:
        out.result("\n".join(lines))
        return
    done = result.done.get(stopped.zone, 0)
    lines.append(f"  {zone_partial_line(stopped, done, 'interrupt' if result.interrupted else 'failure')}")
    out.result("\n".join(lines))
    if result.interrupted:
        out.info(f"interrupted while applying {stopped.zone} (what was being sent then may have gone in too)")
    else:
        message = f"zone {stopped.zone} ({stopped.provider}) failed: {result.error}"
        if isinstance(result.error, ChangedSinceReadError):
            message += "\n  the zone changed after it was read; nothing in the failing batch was written"
        out.error(message)
    applied = {z.zone for z in result.applied}
    untouched = [z for z in pending if z not in applied and (z != stopped.zone or not done)]
    if applied:
        out.info(f"applied: {', '.join(z.zone for z in result.applied)}")
    if done:
        out.info(f"partly applied: {stopped.zone} ({done:,} of {len(stopped.changes):,} changes)")
    if untouched:
        out.info(f"not applied: {', '.join(untouched)} (run `fleetdns plan` to see what remains)")
    else:
        out.info("run `fleetdns plan` to see what remains")
