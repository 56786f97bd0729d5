"""The agent's command line, shared by `fleetdns agent` (fleetdns/commands/agent.py) and the one-file
agent (`make agent-zipapp` -> build/fleetdns-agent.pyz, whose entry point is `main` here).

On POSIX the service is a small idle parent and one short-lived child process per pass
(fleetdns/agent_service.py); elsewhere its passes run in its own process.

Module level imports only the standard library: the engine is imported where a pass runs.
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
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the engine is imported when a pass runs, never by the idle parent
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import AgentConfig

    from .output import Output, Redactor

EXIT_OK = 0
EXIT_ERROR = 1  # the config file is invalid or unreadable (nothing was sent)
EXIT_FAILING = 2  # --once: a name is not confirmed current; --status: a name is failing or stopped
EXIT_STALE = 3  # --status: a name has not been confirmed within stale_after (or never)
EXIT_INTERRUPTED = 130

EXIT_CODES = """\
agent exit codes:
  0    --once: every name is current through every provider; --status: all current;
       --check-config: the config file is valid
  1    invalid or unreadable config file, or a file others may read (nothing was sent)
  2    --once: a name failed, is backing off or stopped; --status: a name is failing or stopped
  3    --status: a name was not confirmed within stale_after (or never)
  130  interrupted
"""

DESCRIPTION = (
    "Keep this device's names pointed at its public address: detect it, ask the\n"
    "authoritative servers, update through every provider of each name where they differ, verify.\n"
    "Without --once, --status or --check-config it runs until stopped (SIGTERM or Ctrl-C).\n\n" + EXIT_CODES
)

# How a child pass is started: this interpreter with these arguments before the agent's own.
# `fleetdns agent` re-runs the CLI; the one-file agent's __main__ sets it to the archive's path.
CHILD_ENTRY: list[str] = ["-m", "fleetdns", "agent"]
# Passes in child processes need a pipe handed to the child (POSIX); elsewhere (Windows) the
# service runs its passes in its own process.
CHILD_PASSES = os.name == "posix"


def default_config_path() -> str:
    """The platform's config file, for a command line without --config."""
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_platform import platform_paths

    return platform_paths().config_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
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
    mode.add_argument("--check-config", action="store_true", help="validate the config file, send nothing, exit 0 or 1")
    parser.add_argument("--json", action="store_true", help="with --status: print JSON")
    # The service's parent passes a pipe to each child pass; not for people.
    parser.add_argument("--report-fd", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--announce", metavar="EVENTS", default=None, help=argparse.SUPPRESS)


def run(args: argparse.Namespace, out: Output, redactor: Redactor) -> int:
    """Every mode, and the service's child passes."""
    args.config = args.config or default_config_path()
    service = not (args.once or args.status or args.check_config or args.report_fd is not None)
    if service and CHILD_PASSES:
        from . import agent_service

        return agent_service.serve(args.config, list(CHILD_ENTRY))
    missing = _missing_libraries()
    if missing:
        out.error(
            f"the agent needs {' and '.join(missing)}, which this Python ({sys.executable}) lacks (hint: on Debian "
            "`apt install python3-dnspython python3-requests`, elsewhere `pip install dnspython requests`)"
        )
        return EXIT_ERROR
    from ansible_collections.fleetdns.ddns.plugins.module_utils import process_runner
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent import Agent
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import load_agent_config

    from .agent_service import report_line
    from .process import run_command

    config = load_agent_config(args.config)
    redactor.add(*config.secrets)
    if args.check_config:
        providers = len(config.providers)
        out.result(f"{config.path}: valid: {len(config.names)} name(s), {providers} provider(s)")
        return EXIT_OK
    if args.status:
        return _status(args, out, config)
    process_runner.command_runner = run_command
    agent = Agent(config, _logger(out), base_dir=os.path.dirname(os.path.abspath(config.path)))
    if service:
        return _serve_in_process(agent)
    if args.report_fd is None:
        return EXIT_OK if agent.run_once().ok else EXIT_FAILING
    with os.fdopen(args.report_fd, "w", encoding="utf-8") as report:
        timing = agent.timing()
        if args.announce is not None:  # the service's first pass: the parent has not read the config
            interval = f"{timing.interval:g}"
            agent.log(f"started: {len(config.names)} name(s), poll every {interval} s, events: {args.announce}")
        # the settings first, so the parent knows them even if the pass dies
        report.write(report_line(len(config.names), timing))
        report.flush()
        report.write(report_line(len(config.names), agent.timed_pass()))
    return EXIT_OK


def _missing_libraries() -> list[str]:
    from importlib.util import find_spec

    return [
        package for module, package in (("dns", "dnspython"), ("requests", "requests")) if find_spec(module) is None
    ]


def _serve_in_process(agent: Any) -> int:
    """The service with every pass in this process (where child passes are not available)."""
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_platform import address_watcher

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    trigger = threading.Event()
    watcher = address_watcher(trigger)
    events = "netlink" if watcher else "none on this platform"
    interval = f"{agent.timing().interval:g}"
    agent.log(f"started: {len(agent.config.names)} name(s), poll every {interval} s, events: {events}")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            agent.run_forever(stop, trigger)
    finally:
        if watcher:
            watcher.close()
    agent.log("stopped: agent exiting")
    return EXIT_OK


def _logger(out: Output) -> Callable[[str], None]:
    """Decisions go to stdout, one line each (journald stamps them; a terminal gets the time)."""
    stamp = sys.stdout.isatty()

    def log(line: str) -> None:
        out.result(f"{time.strftime('%H:%M:%S ')}{line}" if stamp else line)

    return log


def _status(args: argparse.Namespace, out: Output, config: AgentConfig) -> int:
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent import status

    lines, code = status(config, time.time())
    if args.json:
        out.result(json.dumps({"exit_code": code, "entries": [line.to_dict() for line in lines]}, indent=2))
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
        out.result("; ".join(parts))
    return code


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "never"
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# ---- the one-file agent's command line -------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """`python3 fleetdns-agent.pyz --config FILE [--once | --status | --check-config]`."""
    from . import version

    parser = argparse.ArgumentParser(
        prog="fleetdns-agent", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"fleetdns-agent {version.package_version()}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on an internal error")
    add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    args.config = args.config or default_config_path()
    service = not (args.once or args.status or args.check_config or args.report_fd is not None)
    if service and CHILD_PASSES:
        from . import agent_service

        return agent_service.serve(args.config, list(CHILD_ENTRY))
    from .output import Output, Redactor, redirect

    out = Output(debug=args.debug)
    redactor = Redactor()
    with redirect(redactor):
        try:
            return run(args, out, redactor)
        except KeyboardInterrupt:
            out.info("interrupted")
            return EXIT_INTERRUPTED
        except Exception as exc:
            return report_error(exc, out)


def report_error(exc: BaseException, out: Output) -> int:
    """One clear message per problem, like the fleetdns CLI's (a traceback only with --debug)."""
    import traceback

    from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError, FleetDNSError, shorten

    if out.debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, ConfigError):
        out.errors(str(problem) for problem in exc.problems)
        count = len(exc.problems)
        out.info(f"{count} problem{'s' if count != 1 else ''} found; nothing was read or changed")
    elif isinstance(exc, FleetDNSError):
        out.error(str(exc))
    elif isinstance(exc, OSError):
        what = exc.strerror or str(exc)
        out.error(f"{exc.filename}: {what}" if exc.filename else what)
    else:
        out.error(f"internal error: {type(exc).__name__}: {shorten(exc, 400)}")
        out.info("this is a bug in fleetdns; re-run with --debug for the details and report them")
    return EXIT_ERROR
