"""Command-line options more than one command takes, defined once."""

from __future__ import annotations

import argparse

DEBUG_HELP = "more detail (library logs, tracebacks); secrets stay hidden"


def inventory_options(parser: argparse.ArgumentParser) -> None:
    """Where the inventory is and how to open it; every command that reads an inventory takes these."""
    parser.add_argument(
        "-i",
        "--inventory",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="Ansible YAML inventory (default: $FLEETDNS_INVENTORY or ./hosts.yml)",
    )
    parser.add_argument(
        "--vault-password-file",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="file holding the Ansible Vault password for vault-encrypted values",
    )
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)


# Zones read at once (the engine's default too): hides round trips, spares one server or API account.
DEFAULT_WORKERS = 8
MAX_WORKERS = 64


def selection_options(parser: argparse.ArgumentParser) -> None:
    """Which zones, and what a plan may do: plan and apply take the same ones, so they plan alike."""
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
    parser.add_argument(
        "--fail-fast",
        action="store_true",
        help="stop at the first zone that fails (default: report it and go on with the other zones)",
    )
    parser.add_argument(
        "--workers",
        type=workers_count,
        default=DEFAULT_WORKERS,
        metavar="N",
        help=f"zones read at once (default {DEFAULT_WORKERS}); changes are sent zone by zone in inventory order "
        "(at most one zone per provider at a time)",
    )


def workers_count(text: str) -> int:
    """--workers: a whole number from 1 to MAX_WORKERS."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"{value} is not from 1 to {MAX_WORKERS}")
    return value
