"""`fleetdns agent`: keep this device's names pointed at its address (plugins/module_utils/agent.py
does the work; this is argument parsing, logging and exit codes).

Reads one JSON config file (--config), never an inventory, so it runs on a device with only
dnspython and requests installed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from . import Context

if TYPE_CHECKING:  # the engine is imported when the command runs, not whenever the CLI starts
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import AgentConfig

NAME = "agent"
ORDER = 10
LONG_RUNNING = True

EXIT_OK = 0
EXIT_ERROR = 1  # the config file is invalid or unreadable (nothing was sent)
EXIT_FAILING = 2  # --once: a name is not confirmed current; --status: a name is failing or stopped
EXIT_STALE = 3  # --status: a name has not been confirmed within stale_after (or never)

EXIT_CODES = """\
agent exit codes:
  0    --once: every name is current through every provider; --status: all current
  1    invalid or unreadable config file, or a file others may read (nothing was sent)
  2    --once: a name failed, is backing off or stopped; --status: a name is failing or stopped
  3    --status: a name was not confirmed within stale_after (or never)
  130  interrupted
"""


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        NAME,
        help="run the DDNS agent of this device (one pass, a service, or its status)",
        description="Keep this device's names pointed at its public address: detect it, ask the\n"
        "authoritative servers, update through every provider of each name where they differ, verify.\n"
        "Without --once or --status it runs until stopped (SIGTERM or Ctrl-C).\n\n" + EXIT_CODES,
    )
    parser.add_argument(
        "--config",
        "-c",
        metavar="FILE",
        help="the agent's JSON config file (default: /etc/fleetdns/agent.json; on Windows "
        "%%ProgramData%%\\fleetdns\\agent.json)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one pass, then exit (for cron and timers)")
    mode.add_argument("--status", action="store_true", help="print the state of every name and exit (2/3: trouble)")
    parser.add_argument("--json", action="store_true", help="with --status: print JSON")
    parser.set_defaults(run=run)


def run(ctx: Context) -> int:
    from ansible_collections.fleetdns.ddns.plugins.module_utils import agent_detect
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent import Agent
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import load_agent_config
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_platform import address_watcher, platform_paths

    from ..process import run_command

    args = ctx.args
    config = load_agent_config(args.config or platform_paths().config_file)
    ctx.redactor.add(*config.secrets)
    if args.status:
        return _status(ctx, config)
    agent_detect.command_runner = run_command
    agent = Agent(config, _logger(ctx), base_dir=os.path.dirname(os.path.abspath(config.path)))
    if args.once:
        return EXIT_OK if agent.run_once().ok else EXIT_FAILING
    stop = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    trigger = threading.Event()
    watcher = address_watcher(trigger)
    events = "netlink" if watcher else "none on this platform"
    agent.log(f"started: {len(config.names)} name(s), poll every {config.settings['interval']:g} s, events: {events}")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            agent.run_forever(stop, trigger)
    finally:
        if watcher:
            watcher.close()
    agent.log("stopped: agent exiting")
    return EXIT_OK


def _logger(ctx: Context) -> Callable[[str], None]:
    """Decisions go to stdout, one line each (journald stamps them; a terminal gets the time)."""
    stamp = sys.stdout.isatty()

    def log(line: str) -> None:
        ctx.out.result(f"{time.strftime('%H:%M:%S ')}{line}" if stamp else line)

    return log


def _status(ctx: Context, config: AgentConfig) -> int:
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent import status

    lines, code = status(config, time.time())
    if ctx.args.json:
        ctx.out.result(json.dumps({"exit_code": code, "entries": [line.to_dict() for line in lines]}, indent=2))
        return code
    for line in lines:
        e = line.entry
        addresses = ", ".join(f"{t} {a}" for t, a in sorted(e.addresses.items())) or "none"
        parts = [
            f"{line.name.rstrip('.')} via {line.provider}: {line.state}",
            f"address {addresses}",
            f"last update {_when(e.last_update)}",
            f"last verified {_when(e.last_verified)}",
            f"last checked {_when(e.last_checked)}",
        ]
        if e.last_error:
            parts.append(f"last error {_when(e.last_error_at)}: {e.last_error}")
        ctx.out.result("; ".join(parts))
    return code


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "never"
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
