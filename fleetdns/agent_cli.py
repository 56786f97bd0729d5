"""The agent's command line, shared by `fleetdns agent` (fleetdns/commands/agent.py) and the one-file
agent (`make agent-zipapp` -> build/fleetdns-agent.pyz, whose entry point is `main` here).

The service mode is a small idle parent and one short-lived child process per pass: the parent
holds the netlink subscription and the timer and imports neither dnspython nor requests nor the
engine's planner (only agent_schedule and agent_platform, standard library both); each pass runs
as `<this program> --once` in a child, which reports on a pipe when the next pass is due. Memory
taken by a pass is given back to the system when the child exits, so the idle service stays small.

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
# A child pass that runs longer than this is stopped (each name's verification has its own deadline).
CHILD_TIMEOUT = 3600.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", required=True, metavar="FILE", help="the agent's JSON config file")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one pass, then exit (for cron and timers)")
    mode.add_argument("--status", action="store_true", help="print the state of every name and exit (2/3: trouble)")
    mode.add_argument("--check-config", action="store_true", help="validate the config file, send nothing, exit 0 or 1")
    parser.add_argument("--json", action="store_true", help="with --status: print JSON")
    # The service's parent passes a pipe to each child pass; not for people.
    parser.add_argument("--report-fd", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--announce", metavar="EVENTS", default=None, help=argparse.SUPPRESS)


def run(args: argparse.Namespace, out: Output, redactor: Redactor) -> int:
    """Every mode but the service, and the service's child passes."""
    if not (args.once or args.status or args.check_config or args.report_fd is not None):
        return serve(args.config)
    from ansible_collections.fleetdns.ddns.plugins.module_utils import agent_detect
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent import Agent
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import load_agent_config
    from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import zonefile

    from .process import run_command

    config = load_agent_config(args.config)
    redactor.add(*config.secrets)
    if args.check_config:
        providers = len(config.providers)
        out.result(f"{config.path}: valid: {len(config.names)} name(s), {providers} provider(s)")
        return EXIT_OK
    if args.status:
        return _status(args, out, config)
    agent_detect.command_runner = run_command
    zonefile.command_runner = run_command
    agent = Agent(config, _logger(out), base_dir=os.path.dirname(os.path.abspath(config.path)))
    if args.report_fd is None:
        return EXIT_OK if agent.run_once().ok else EXIT_FAILING
    with os.fdopen(args.report_fd, "w", encoding="utf-8") as report:
        timing = agent.timing()
        if args.announce is not None:  # the service's first pass: the parent has not read the config
            interval = f"{timing.interval:g}"
            agent.log(f"started: {len(config.names)} name(s), poll every {interval} s, events: {args.announce}")
        # the settings first, so the parent knows them even if the pass dies
        _report(report, {"names": len(config.names), **timing.__dict__})
        timing = agent.timed_pass()
        _report(report, {"names": len(config.names), **timing.__dict__})
    return EXIT_OK


def _report(stream: Any, data: dict[str, Any]) -> None:
    stream.write(json.dumps(data) + "\n")
    stream.flush()


# ---- the service: a small parent, one child per pass -----------------------------------------------


def serve(config_path: str, entry: Sequence[str] | None = None) -> int:
    """Run passes in child processes until SIGTERM or Ctrl-C; 1 when the first pass finds the config
    file invalid (the child has said why)."""
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_platform import address_watcher
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_schedule import serve as schedule

    parent = _Parent(config_path, list(CHILD_ENTRY if entry is None else entry))
    signal.signal(signal.SIGTERM, parent.terminate)
    trigger = threading.Event()
    watcher = address_watcher(trigger)
    events = "netlink" if watcher else "none on this platform"

    try:
        first = parent.run_pass(announce=events)
        if first is None:
            return parent.exit_code or EXIT_ERROR
        with contextlib.suppress(KeyboardInterrupt):
            if not parent.stop.is_set():
                schedule(parent.next_pass(first), parent.stop, trigger, _log)
    finally:
        if watcher:
            watcher.close()
    _log("stopped: agent exiting")
    return EXIT_OK


class _Parent:
    def __init__(self, config_path: str, entry: list[str]) -> None:
        self.config_path = config_path
        self.entry = entry
        self.stop = threading.Event()
        self.child: Any = None
        self.names = 0
        self.exit_code: int | None = None
        self.timing: Any = None

    def terminate(self, _signum: int, _frame: object) -> None:
        self.stop.set()
        child = self.child
        if child is not None and child.poll() is None:
            with contextlib.suppress(OSError):
                child.send_signal(signal.SIGTERM)

    def next_pass(self, first: Any) -> Callable[[], Any]:
        """The scheduler's pass: the first one has run already (to check the config)."""
        pending = [first]

        def one() -> Any:
            if pending:
                return pending.pop()
            if self.stop.is_set():
                return self.timing
            return self.run_pass() or self.timing

        return one

    def run_pass(self, announce: str | None = None) -> Any:
        """Run one pass in a child; its Timing, or None when it gave none (the child said why).
        With `announce` (the first pass) the child logs the service's `started:` line."""
        import subprocess

        from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_schedule import Timing

        read_end, write_end = os.pipe()
        argv = [sys.executable, *_interpreter_flags(), *self.entry, "--config", self.config_path]
        if announce is not None:
            argv += ["--announce", announce]
        try:
            self.child = subprocess.Popen([*argv, "--report-fd", str(write_end)], pass_fds=(write_end,))
        except OSError as exc:
            os.close(read_end)
            _log(f"failed: cannot start a pass: {exc.strerror or exc}")
            return None
        finally:
            os.close(write_end)
        timing = None
        with os.fdopen(read_end, encoding="utf-8") as report:
            for line in report:
                with contextlib.suppress(ValueError, TypeError, KeyError):
                    data = json.loads(line)
                    self.names = int(data["names"])
                    due = None if data["due"] is None else float(data["due"])
                    timing = Timing(float(data["interval"]), float(data["jitter"]), float(data["debounce"]), due)
        try:
            code = self.child.wait(CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.child.kill()
            code = self.child.wait()
        self.child = None
        self.exit_code = code
        if timing is None or code != EXIT_OK:
            if self.timing is not None and not self.stop.is_set():
                _log(f"failed: the pass ended early (exit code {code}); the next poll tries again")
            return None if timing is None else timing
        self.timing = Timing(timing.interval, timing.jitter, timing.debounce)
        return timing


def _interpreter_flags() -> list[str]:
    """The flags this interpreter was started with that change where imports come from."""
    flags = []
    if sys.flags.isolated:
        flags.append("-I")
    else:
        if sys.flags.ignore_environment:
            flags.append("-E")
        if sys.flags.no_user_site:
            flags.append("-s")
    if sys.flags.no_site:
        flags.append("-S")
    return flags


def _log(line: str) -> None:
    """The parent's lines, like a pass's (the parent holds no secret: it never reads the config)."""
    sys.stdout.write(f"{time.strftime('%H:%M:%S ')}{line}\n" if sys.stdout.isatty() else line + "\n")
    sys.stdout.flush()


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
    if args.config and not (args.once or args.status or args.check_config or args.report_fd is not None):
        try:
            return serve(args.config)
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
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
