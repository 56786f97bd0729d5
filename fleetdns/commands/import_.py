"""`fleetdns import`: bring what exists into the inventory.

Three sources: a zone read through any zone provider of the inventory (`--zone`), a ddclient
configuration (`--from-ddclient`) and a `ddns` client configuration (`--from-ddns`). The zone import
is fleetdns/importer.py, the migrations fleetdns/migrate.py; this is argument parsing and printing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import Context, _load_inventory, inventory_path, load

NAME = "import"
ORDER = 6


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        NAME,
        parents=parents,
        help="write an existing zone, or a ddclient/ddns client's setup, into the inventory",
        description="Read an existing zone through a zone provider of the inventory and add its records "
        "to fleetdns_zones as declared records (planning afterwards shows no change), or turn a "
        "ddclient or ddns client configuration into inventory entries and an agent config. Comments, "
        "key order, quoting and layout of the inventory are kept; only the new entries are added.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--zone", metavar="ZONE", help="the zone to import")
    source.add_argument("--from-ddclient", metavar="FILE", help="migrate a ddclient configuration (ddclient.conf)")
    source.add_argument("--from-ddns", metavar="FILE", help="migrate a ddns client configuration (JSON or INI)")
    parser.add_argument(
        "--provider", metavar="NAME", help="with --zone: the provider to read a zone not yet in the inventory from"
    )
    parser.add_argument(
        "--own",
        action="store_true",
        help="with --zone: also mark the imported record sets as owned by this inventory (as apply --adopt)",
    )
    parser.add_argument("--host", metavar="NAME", help="migration: the inventory host the names belong to")
    parser.add_argument(
        "--agent-config", metavar="FILE", help="migration: where to write the agent config (default: <host>.agent.json)"
    )
    parser.add_argument(
        "--secrets-file",
        metavar="FILE",
        help="migration: the vars file for the secrets (default: group_vars/all/fleetdns_secrets.yml)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the changes to the files, write nothing")
    parser.set_defaults(run=run)


def run(ctx: Context) -> int:
    args = ctx.args
    if args.zone is None:
        from ..migrate import run_migration

        return run_migration(ctx)
    if args.host or args.agent_config or args.secrets_file:
        ctx.out.error("--host, --agent-config and --secrets-file belong to --from-ddclient and --from-ddns")
        return 1
    from ansible_collections.fleetdns.ddns.plugins.module_utils import config as config_module
    from ansible_collections.fleetdns.ddns.plugins.module_utils.engine import Providers
    from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import FleetDNSError

    from ..importer import import_zone, own_imported, resolve_zone

    loaded = load(ctx)
    zone, provider = resolve_zone(loaded.config, args.zone, args.provider)
    vault_file = getattr(args, "vault_password_file", None)

    def reload():
        inventory = _load_inventory(inventory_path(args), vault_file)
        return config_module.validate(inventory.all_vars, inventory.hosts, inventory.locate)

    ctx.out.info(f"reading {zone} from {provider}")
    with Providers(loaded.config, loaded.base_dir) as providers:
        result = import_zone(loaded.config, Path(loaded.path), zone, provider, reload, providers, args.dry_run)
        lines = []
        if args.dry_run:
            lines.append(result.diff.rstrip("\n") or "no change to the inventory")
        count = len(result.imported)
        verb = "would import" if args.dry_run else "imported"
        where = ", ".join(str(p) for p in result.files) or loaded.path
        lines.append(
            f"{verb} {count} record set{'s' if count != 1 else ''} of {zone} from {provider} into {where}"
            + (f"; {result.unchanged} already declared as the zone holds them" if result.unchanged else "")
        )
        if result.skipped:
            lines.append(f"left out ({len(result.skipped)}):")
            lines.extend(f"  {line}" for line in result.skipped)
        if result.owned:
            lines.append(f"{len(result.owned)} of them were owned by this inventory already")
        own = args.own and not args.dry_run and bool(result.imported or result.declared_same)
        if result.imported and not args.dry_run and not own:
            lines.append(
                "they are declared but not owned: fleetdns will not change them until you run "
                "`fleetdns apply --adopt` (or import with --own)"
            )
        ctx.out.result("\n".join(lines))
        if own:
            try:
                marked = own_imported(reload(), providers, result)
            except FleetDNSError as exc:
                raise FleetDNSError(
                    f"the inventory is written, but marking the record sets as owned failed: {exc.message}",
                    exc.hint or "fix the cause, then run fleetdns apply --adopt",
                ) from None
            ctx.out.result(
                f"marked {marked} record set{'s' if marked != 1 else ''} as owned by '{loaded.config.owner}'"
            )
    return 0
