"""`fleetdns agent`: keep this device's names pointed at its address. fleetdns/agent_cli.py holds
the command line (shared with the one-file agent, `make agent-zipapp`) and the service's process
model; plugins/module_utils/agent.py does the work.

Reads one JSON config file (--config), never an inventory, so it runs on a device with only
dnspython and requests installed.
"""

from __future__ import annotations

import argparse

from .. import agent_cli
from . import Context

NAME = "agent"
ORDER = 10
LONG_RUNNING = True


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        NAME,
        help="run the DDNS agent of this device (one pass, a service, or its status)",
        description=agent_cli.DESCRIPTION,
    )
    agent_cli.add_arguments(parser)
    parser.set_defaults(run=run)


def run(ctx: Context) -> int:
    return agent_cli.run(ctx.args, ctx.out, ctx.redactor)
