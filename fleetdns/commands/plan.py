"""`fleetdns plan`: read the backends, show what apply would change; optionally save the plan.

A saved plan (`--out PLAN.json`) is the JSON plan plus a `saved` block (see
plugins/module_utils/saved_plan.py): `apply --plan` makes the plan afresh and applies it only when
it is exactly the saved one. Secrets are never part of the file.
"""

from __future__ import annotations

import argparse
import os

from ansible_collections.fleetdns.ddns.plugins.module_utils.config import FleetConfig
from ansible_collections.fleetdns.ddns.plugins.module_utils.engine import (
    Providers,
    Report,
    check_plan_safety,
    select_zones,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import SafetyError
from ansible_collections.fleetdns.ddns.plugins.module_utils.files import write_text
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import Plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.render import (
    render_json,
    render_markdown,
    render_text,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.saved_plan import (
    PLAN_KEY_ENV,
    SavedPlan,
    make_checked_plan,
    read_saved_plan,
    saved_plan_text,
)

from ..options import selection_options
from ..version import package_version
from . import Context, load
from ._zones import plan_zones

NAME = "plan"
ORDER = 2


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        NAME,
        parents=parents,
        help="show what apply would change",
        description="Read every selected zone and show the changes apply would make. Changes nothing.",
    )
    selection_options(parser)
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the plan as JSON (and nothing else) on stdout")
    fmt.add_argument("--markdown", action="store_true", help="print the plan as Markdown, for pull-request comments")
    parser.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when there are changes (0: none, 1: error)",
    )
    parser.add_argument("--out", metavar="PLAN.json", help="save the plan for `fleetdns apply --plan PLAN.json`")
    parser.set_defaults(run=run)


def run(ctx: Context) -> int:
    args = ctx.args
    loaded = load(ctx)
    zones = select_zones(loaded.config, args.zone)
    with Providers(loaded.config, loaded.base_dir) as providers:
        # a saved plan is whole or not at all: with --out the first failing zone ends the run
        plan, failures = plan_zones(ctx, loaded, providers, zones, keep_going=not args.out)
    if args.json:
        ctx.out.result(render_json(plan))
    elif args.markdown:
        ctx.out.result(render_markdown(plan))
    else:
        ctx.out.result(render_text(plan, ctx.out.color))
    try:
        check_plan_safety(plan, args.allow_deletes)
    except SafetyError as exc:
        raise SafetyError(f"{exc.message}; apply would refuse this plan", exc.hint) from None
    if args.out:
        save_plan(args.out, plan, loaded.config)
        ctx.out.info(f"saved the plan to {args.out}; apply it with: fleetdns apply --plan {args.out}")
    if failures:
        ctx.out.info(
            f"not planned: {', '.join(f.zone for f in failures)} (the plan above leaves out "
            f"{'this zone' if len(failures) == 1 else 'these zones'})"
        )
        return 1
    return 2 if args.detailed_exitcode and plan.has_changes else 0


def plan_key() -> str | None:
    """The key saved plans are signed and checked with, if the environment provides one."""
    return os.environ.get(PLAN_KEY_ENV) or None


def save_plan(path: str, plan: Plan, config: FleetConfig) -> None:
    """Write the plan file atomically where the path leads (a symlink's target, or /dev/stdout as it is)."""
    write_text(path, saved_plan_text(plan, config, package_version(), plan_key()))


def load_saved_plan(path: str) -> SavedPlan:
    """Read and parse a plan file; what it claims is checked by make_checked_plan."""
    return read_saved_plan(path, package_version(), plan_key())


def checked_plan(saved: SavedPlan, config: FleetConfig, providers: Providers, adopt: bool, report: Report) -> Plan:
    """The plan made now, provided it is exactly the saved one."""
    return make_checked_plan(saved, config, providers, adopt, report)
