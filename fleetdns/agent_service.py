"""The agent's service on POSIX: a small idle parent, one short-lived child process per pass.

The parent holds the netlink subscription (agent_platform) and the timer (agent_schedule) and
imports nothing else: not dnspython, requests or the engine, not even argparse, json or
subprocess; it never reads the config file (which holds the credentials). Each pass runs as
`<this program> --config FILE --report-fd N` in a child, which writes the config's timing on the
pipe N (`names=1 interval=300 jitter=30 debounce=5 due=-`, once before its pass and once after)
and exits; what a pass imports and allocates goes back to the system with it.

The one-file agent's __main__ calls `serve` directly for `--config FILE` alone (service_config),
so the parent does not even load the command line parser.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

# A child pass that runs longer than this is killed (each name's verification has its own deadline).
CHILD_TIMEOUT = 3600.0
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def service_config(argv: list[str]) -> str | None:
    """The config path when `argv` asks for the service and nothing else (`--config FILE`)."""
    if os.name != "posix":
        return None
    if len(argv) == 2 and argv[0] in ("--config", "-c") and not argv[1].startswith("-"):
        return argv[1]
    if len(argv) == 1 and argv[0].startswith("--config=") and len(argv[0]) > len("--config="):
        return argv[0][len("--config=") :]
    return None


def report_line(names: int, timing: object) -> str:
    """What a child pass writes on the parent's pipe."""
    values = timing.as_dict()  # type: ignore[attr-defined]
    fields = [f"names={names}"] + [
        f"{key}={'-' if value is None else repr(float(value))}" for key, value in values.items()
    ]
    return " ".join(fields) + "\n"


def serve(config_path: str, entry: list[str]) -> int:
    """Passes in child processes (`sys.executable *entry --config FILE ...`) until SIGTERM or Ctrl-C;
    1 when the first pass finds the config file invalid (the child has said why)."""
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_platform import address_watcher
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_schedule import serve as schedule

    parent = Parent(config_path, entry)
    signal.signal(signal.SIGTERM, parent.terminate)
    trigger = threading.Event()
    watcher = address_watcher(trigger)
    try:
        try:
            first = parent.run_pass(announce="netlink" if watcher else "none on this platform")
            if first is None:
                return parent.exit_code or EXIT_ERROR
            if not parent.stop.is_set():
                schedule(parent.next_pass(first), parent.stop, trigger, log)
        except KeyboardInterrupt:
            parent.stop.set()
    finally:
        if watcher:
            watcher.close()
    log("stopped: agent exiting")
    return EXIT_OK


class Parent:
    def __init__(self, config_path: str, entry: list[str]) -> None:
        self.config_path = config_path
        self.entry = entry
        self.stop = threading.Event()
        self.child: int | None = None
        self.names = 0
        self.exit_code: int | None = None
        self.timing: object = None

    def terminate(self, _signum: int, _frame: object) -> None:
        """SIGTERM: no further pass; a running one is stopped too (the state file is safe)."""
        self.stop.set()
        if self.child is not None:
            with contextlib.suppress(OSError):
                os.kill(self.child, signal.SIGTERM)

    def next_pass(self, first: object):
        """The scheduler's pass: the first one has run already (it checked the config)."""
        pending = [first]

        def one() -> object:
            if pending:
                return pending.pop()
            if self.stop.is_set():
                return self.timing
            return self.run_pass() or self.timing

        return one

    def run_pass(self, announce: str | None = None) -> object:
        """Run one pass in a child; its Timing, or None when it gave none (the child said why).
        With `announce` (the first pass) the child logs the service's `started:` line."""
        from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_schedule import Timing

        read_end, write_end = os.pipe()
        os.set_inheritable(write_end, True)
        argv = [sys.executable, *interpreter_flags(), *self.entry, "--config", self.config_path]
        argv += ["--report-fd", str(write_end)]
        if announce is not None:
            argv += ["--announce", announce]
        try:
            self.child = os.posix_spawn(sys.executable, argv, os.environ)
        except OSError as exc:
            os.close(read_end)
            log(f"failed: cannot start a pass: {exc.strerror or exc}")
            return None
        finally:
            os.close(write_end)
        pid = self.child
        watchdog = threading.Timer(CHILD_TIMEOUT, self._kill, (pid,))
        watchdog.daemon = True
        watchdog.start()
        timing = None
        with os.fdopen(read_end, encoding="utf-8") as report:
            for line in report:
                try:
                    data = dict(item.split("=", 1) for item in line.split())
                    self.names = int(data["names"])
                    due = None if data["due"] == "-" else float(data["due"])
                    timing = Timing(float(data["interval"]), float(data["jitter"]), float(data["debounce"]), due)
                except (ValueError, KeyError):
                    continue
        while True:
            try:
                _pid, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
        watchdog.cancel()
        self.child = None
        code = os.waitstatus_to_exitcode(status)
        self.exit_code = code
        if timing is None or code != EXIT_OK:
            if self.timing is not None and not self.stop.is_set():
                log(f"failed: the pass ended early (exit code {code}); the next poll tries again")
            return timing
        self.timing = Timing(timing.interval, timing.jitter, timing.debounce)
        return timing

    def _kill(self, pid: int) -> None:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def interpreter_flags() -> list[str]:
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


def log(line: str) -> None:
    """The parent's lines, like a pass's (the parent holds no secret: it never reads the config)."""
    sys.stdout.write(f"{time.strftime('%H:%M:%S ')}{line}\n" if sys.stdout.isatty() else line + "\n")
    sys.stdout.flush()
