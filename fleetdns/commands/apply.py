"""`fleetdns apply`: plan, show the plan, apply it zone by zone, summarise.

Asks for confirmation only on an interactive terminal without --yes; in CI (no TTY) it applies.
Stops at the first zone that fails and says which zones were applied and which were not.
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
from ansible_collections.fleetdns.ddns.plugins.module_utils.render import render_text, zone_result_line

from . import Context, load
from .plan import add_selection_options, load_saved_plan


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "apply",
        parents=parents,
        help="make the DNS match the inventory",
        description="Plan, show the plan, then apply it zone by zone. Asks for confirmation only on an "
        "interactive terminal without --yes.",
    )
    add_selection_options(parser)
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--plan",
        metavar="PLAN.json",
        dest="plan_file",
        help="apply a plan saved by `fleetdns plan --out`; refused if the inventory or the DNS changed since",
    )
    parser.set_defaults(run=run)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def run(ctx: Context) -> int:
    args, out = ctx.args, ctx.out
    if args.plan_file and (args.zone or args.adopt):
        raise FleetDNSError(
            "--zone and --adopt cannot be combined with --plan", "they were fixed when the plan was made"
        )
    loaded = load(ctx)
    with Providers(loaded.config, loaded.base_dir) as providers:
        if args.plan_file:
            plan = load_saved_plan(args.plan_file, loaded.config)
            out.info(f"using the plan saved in {args.plan_file}")
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
    current: list[str] = []

    def report(message: str) -> None:
        out.info(message)

    def progress(zone: str) -> Callable[[int, int], None]:
        current[:] = [zone]
        return lambda done, total: out.progress(zone, done, total)

    started = time.monotonic()
    try:
        result = apply_plan(plan, providers, ctx.args.allow_deletes, report=report, progress=progress)
    except KeyboardInterrupt:
        _interrupted(ctx, plan, current)
        raise
    elapsed = time.monotonic() - started
    _summary(ctx, plan, result, elapsed)
    return 1 if result.failed else 0


def _pending(plan: Plan) -> list[str]:
    return [z.zone for z in plan.zones if z.changes]


def _summary(ctx: Context, plan: Plan, result: ApplyResult, elapsed: float) -> None:
    out = ctx.out
    pending = _pending(plan)
    lines = [
        f"Applied {len(result.applied)} of {len(pending)} zone{'s' if len(pending) != 1 else ''} in {elapsed:.2f}s"
    ]
    lines += [f"  {zone_result_line(z)}" for z in result.applied]
    out.result("\n".join(lines))
    if result.failed is None:
        return
    failed = result.failed.zone
    done = {z.zone for z in result.applied}
    untouched = [z for z in pending if z not in done and z != failed]
    message = f"zone {failed} ({result.failed.provider}) failed: {result.error}"
    if isinstance(result.error, ChangedSinceReadError):
        message += "\n  the zone changed after it was read; nothing in the failing batch was written"
    out.error(message)
    if done:
        out.info(f"applied: {', '.join(z.zone for z in result.applied)}")
    out.info(f"not applied: {', '.join([failed, *untouched])} (run `fleetdns plan` to see what remains)")


def _interrupted(ctx: Context, plan: Plan, current: list[str]) -> None:
    pending = _pending(plan)
    if not current:
        ctx.out.info("interrupted before any zone was applied")
        return
    index = pending.index(current[0]) if current[0] in pending else 0
    ctx.out.info(
        f"interrupted while applying {current[0]}; applied: {', '.join(pending[:index]) or 'none'}; "
        f"not applied: {', '.join(pending[index + 1 :]) or 'none'} (run `fleetdns plan` to see what remains)"
    )
