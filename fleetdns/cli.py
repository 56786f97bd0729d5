"""The `fleetdns` command: argument parsing, exit codes, and turning every error into one message.

Each command lives in fleetdns/commands/<name>.py (the registry there finds it); this module only
wires them up and makes sure
that whatever happens the user sees clear lines (never a traceback unless --debug) and no secret.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from ansible_collections.fleetdns.ddns.plugins.module_utils import process_runner
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError, FleetDNSError, Problem, shorten
from ansible_collections.fleetdns.ddns.plugins.module_utils.gcpause import paused_gc

from .commands import Context, registry
from .options import DEBUG_HELP, inventory_options
from .output import Output, Redactor, redirect, setup_logging
from .process import run_command
from .version import package_version

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_NOT_OK = 3  # status: some name is not ok
EXIT_INTERRUPTED = 130
# A problem's message is cut to this many characters when printed, whatever value it quotes: the
# last line of defence against a message that quotes a whole (huge) value.
PROBLEM_MESSAGE_LIMIT = 400
# What the `controller` extra brings: a device's light install (`pip install fleetdns`) lacks them.
CONTROLLER_LIBRARIES = {"yaml": "PyYAML", "jinja2": "jinja2", "ansible": "ansible-core"}

EPILOG = """\
exit codes:
  0    success; for plan: no changes (or changes, without --detailed-exitcode)
  1    error: invalid inventory or arguments, provider error, conflict with records fleetdns does
       not own, safety refusal (too many deletes), DNS or inventory changed since the saved plan,
       apply cancelled; a zone that could not be read, planned or applied (the other zones were
       still applied unless --fail-fast: the summary says which)
  2    plan --detailed-exitcode: changes pending
  3    status: some name is not ok (stale, mismatch, missing, unowned, unreachable)
  130  interrupted (Ctrl-C)

The inventory is -i PATH, else $FLEETDNS_INVENTORY, else ./hosts.yml.
A saved plan (plan --out FILE, then apply --plan FILE) is applied only while the inventory still asks
for the same records, device names and provider settings in its zones, and only while the DNS still
holds what the plan was made against; otherwise apply stops with exit code 1 and changes nothing.
Colour is used only on a terminal and never when NO_COLOR is set.
Secrets (TSIG secrets, API tokens, Vault values) are replaced by ******** in everything printed.
"""


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1 (2 means 'changes pending' here)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"error: {message}\n")


class _VersionAction(argparse.Action):
    """--version, looking the version up only when asked (importlib.metadata is slow to import)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        sys.stdout.write(f"fleetdns {package_version()}\n")
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    inventory_options(common)
    parser = _Parser(
        prog="fleetdns",
        description="Keep DNS names pointed at your machines, from one Ansible inventory.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    parser.set_defaults(inventory=None, vault_password_file=None)
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", required=True)
    for command in registry():
        command.add_parser(subparsers, [common])
        # A command that runs once and exits pauses the cyclic GC: a plan or apply builds a few hundred
        # thousand long-lived, acyclic objects (records, plans, wire texts) and ends; the collector
        # would rescan them again and again (20-30 ms of CPU in a 10,000-record plan) without finding
        # garbage. A long-running command (an agent loop) keeps the collector on.
        subparsers.choices[command.NAME].set_defaults(pause_gc=not getattr(command, "LONG_RUNNING", False))
    for choice in subparsers.choices.values():
        choice.epilog = EPILOG
        choice.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (see EPILOG)."""
    process_runner.command_runner = run_command
    redactor = Redactor()
    redactor.add_from_environment()
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    out = Output(debug=debug)
    with redirect(redactor):
        try:
            try:
                args = build_parser().parse_args(argv)
            except SystemExit as exc:  # --help, --version, usage errors
                return exc.code if isinstance(exc.code, int) else EXIT_ERROR
            out.debug = bool(args.debug)
            setup_logging(out.debug)
            with paused_gc(args.pause_gc):
                return args.run(Context(args, out, redactor))
        except KeyboardInterrupt:
            out.info("interrupted")
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            # stdout went away (`fleetdns plan | head`): stop quietly, stop Python complaining at exit.
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())
            return EXIT_ERROR
        except Exception as exc:  # every error ends here as clear lines; see report_error
            return report_error(exc, out)


def report_error(exc: BaseException, out: Output) -> int:
    """One clear message per problem; a traceback only with --debug (and scrubbed like the rest)."""
    if out.debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, ConfigError):
        out.errors(str(_short(problem)) for problem in exc.problems)
        count = len(exc.problems)
        out.info(f"{count} problem{'s' if count != 1 else ''} found; nothing was read or changed")
    elif isinstance(exc, FleetDNSError):
        out.error(str(exc))
    elif isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] in CONTROLLER_LIBRARIES:
        out.error(
            f"reading an inventory needs {', '.join(_missing_controller_libraries())}, which this installation "
            "lacks (hint: install the controller extras: pip install 'fleetdns[controller]')"
        )
    elif isinstance(exc, OSError):
        out.error(_os_error_text(exc))
    elif _is_yaml_error(exc):
        out.error(f"invalid YAML: {shorten(exc, PROBLEM_MESSAGE_LIMIT)}")
    else:
        out.error(f"internal error: {type(exc).__name__}: {shorten(exc, PROBLEM_MESSAGE_LIMIT)}")
        if not out.debug:
            out.info("this is a bug in fleetdns; re-run with --debug for the details and report them")
    return EXIT_ERROR


def _short(problem: Problem) -> Problem:
    if len(problem.message) <= PROBLEM_MESSAGE_LIMIT and len(problem.path) <= PROBLEM_MESSAGE_LIMIT:
        return problem
    return Problem(
        shorten(problem.message, PROBLEM_MESSAGE_LIMIT),
        shorten(problem.path, PROBLEM_MESSAGE_LIMIT),
        problem.hint,
        problem.location,
    )


def _missing_controller_libraries() -> list[str]:
    from importlib.util import find_spec

    return [package for module, package in CONTROLLER_LIBRARIES.items() if find_spec(module) is None]


def _os_error_text(exc: OSError) -> str:
    what = exc.strerror or str(exc)
    if exc.filename:
        return f"{exc.filename}: {what}"
    return what


def _is_yaml_error(exc: BaseException) -> bool:
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML is a dependency
        return False
    return isinstance(exc, yaml.YAMLError)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
