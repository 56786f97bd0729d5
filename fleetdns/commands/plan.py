"""`fleetdns plan`: read the backends, show what apply would change; optionally save the plan.

A saved plan (`--out PLAN.json`) is the JSON plan plus a `saved` block holding, per zone, a digest
of what the inventory asks for there (declared record sets, device names, provider name, type and
non-secret options) and the owner id. `apply --plan` refuses the file unless the inventory still
gives the same digests, and each provider refuses (ChangedSinceReadError) when the backend no
longer holds the values the plan was made against. Secrets are never part of the file or the digest,
so rotating a key does not invalidate a saved plan.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile

from ansible_collections.fleetdns.ddns.plugins.module_utils.config import FleetConfig
from ansible_collections.fleetdns.ddns.plugins.module_utils.engine import (
    Providers,
    check_plan_safety,
    make_plan,
    select_zones,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import FleetDNSError, SafetyError
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import Plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.render import (
    plan_json,
    render_json,
    render_markdown,
    render_text,
)

from . import Context, load

SAVED_FORMAT = 1


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    """Options plan and apply share."""
    parser.add_argument(
        "--zone",
        action="append",
        metavar="ZONE",
        help="only this zone (repeat for several); default: every zone in fleetdns_zones",
    )
    parser.add_argument(
        "--adopt",
        action="store_true",
        help="take ownership of existing record sets the inventory declares but fleetdns does not own yet",
    )
    parser.add_argument(
        "--allow-deletes",
        action="store_true",
        help="allow deleting more than 30%% of the record sets fleetdns owns in a zone (and more than 5)",
    )


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "plan",
        parents=parents,
        help="show what apply would change",
        description="Read every selected zone and show the changes apply would make. Changes nothing.",
    )
    add_selection_options(parser)
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
        plan = make_plan(loaded.config, providers, zones, adopt=args.adopt, report=ctx.out.info)
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
    return 2 if args.detailed_exitcode and plan.has_changes else 0


def _version() -> str:
    from importlib import metadata  # slow to import; only needed when saving a plan

    try:
        return metadata.version("fleetdns")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def zone_digest(config: FleetConfig, zone: str) -> str:
    """What the inventory asks for in one zone, hashed; secrets are left out entirely."""
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


def save_plan(path: str, plan: Plan, config: FleetConfig) -> None:
    """Write the plan file atomically (temp file + rename), so a failed write leaves no half plan."""
    data = plan_json(plan)
    data["saved"] = {
        "format": SAVED_FORMAT,
        "fleetdns": _version(),
        "targets": {z.zone: zone_digest(config, z.zone) for z in plan.zones},
    }
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".fleetdns-plan-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_saved_plan(path: str, config: FleetConfig) -> Plan:
    """Read a plan file and check the inventory still asks for what it was made from."""
    hint = "make a new one with: fleetdns plan --out PLAN.json"
    with open(path, encoding="utf-8") as handle:
        try:
            data = json.load(handle)
        except ValueError as exc:
            raise FleetDNSError(f"{path} is not a fleetdns plan file (invalid JSON: {exc})", hint) from None
    saved = data.get("saved") if isinstance(data, dict) else None
    if not isinstance(saved, dict) or saved.get("format") != SAVED_FORMAT or not isinstance(saved.get("targets"), dict):
        raise FleetDNSError(f"{path} is not a plan saved by `fleetdns plan --out` (format {SAVED_FORMAT})", hint)
    try:
        plan = Plan.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise FleetDNSError(f"{path} is damaged: {type(exc).__name__} {exc}", hint) from None
    if plan.owner != config.owner:
        raise FleetDNSError(
            f"{path} was made for owner id {plan.owner!r}, but the inventory now says {config.owner!r}", hint
        )
    targets = saved["targets"]
    stale = []
    for zone_plan in plan.zones:
        if zone_plan.zone not in config.zones:
            stale.append(f"{zone_plan.zone} is no longer in fleetdns_zones")
        elif targets.get(zone_plan.zone) != zone_digest(config, zone_plan.zone):
            stale.append(f"{zone_plan.zone}: its records, device names, ownership or provider settings changed")
    if stale:
        made_by, running = saved.get("fleetdns"), _version()
        other = f"; it was made by fleetdns {made_by}, this is {running}" if made_by != running else ""
        raise FleetDNSError(
            f"the inventory changed since {path} was made ({'; '.join(stale)}{other}); the saved plan was not applied",
            "run `fleetdns plan --out` again and review the new plan",
        )
    return plan
