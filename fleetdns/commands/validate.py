"""`fleetdns validate`: check the inventory, report every problem located, touch nothing."""

from __future__ import annotations

import argparse

from . import Context, load

NAME = "validate"
ORDER = 1


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        NAME,
        parents=parents,
        help="check the inventory without reading or changing any DNS",
        description="Check the inventory: every problem is reported with file:line:column and a hint. "
        "Nothing is read from or written to any DNS backend.",
    )
    parser.set_defaults(run=run)


def run(ctx: Context) -> int:
    loaded = load(ctx)
    config = loaded.config
    records = sum(len(z.records) for z in config.zones.values())
    names = sum(len(h.names) for h in config.hosts.values())
    used = sorted({z.provider for z in config.zones.values()})
    zones = len(config.zones)
    ctx.out.result(
        f"{loaded.path}: valid. {zones} zone{'s' if zones != 1 else ''}, "
        f"{records} declared record set{'s' if records != 1 else ''}, "
        f"{names} device name{'s' if names != 1 else ''}; "
        f"provider{'s' if len(used) != 1 else ''} used: {', '.join(used) or 'none'}; owner id {config.owner}."
    )
    return 0
