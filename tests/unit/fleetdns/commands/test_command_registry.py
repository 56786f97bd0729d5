"""The command registry: a command is one module in fleetdns/commands/, found without being listed."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from fleetdns import cli, commands

HELLO = """
import argparse
import gc

NAME = "hello"
ORDER = 9
LONG_RUNNING = True
seen = []


def add_parser(subparsers, parents):
    parser = subparsers.add_parser(NAME, parents=parents, help="say hello")
    parser.add_argument("--code", type=int, default=0)
    parser.set_defaults(run=run)


def run(ctx):
    seen.append((ctx.args.code, gc.isenabled()))
    return ctx.args.code
"""


def test_the_commands_in_help_order() -> None:
    assert [command.NAME for command in commands.registry()] == [
        "validate",
        "plan",
        "apply",
        "status",
        "import",
        "agent",
    ]


def test_a_new_file_is_a_new_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collector_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "hello.py").write_text(HELLO)
    (tmp_path / "helpers.py").write_text("VALUE = 1\n")  # no NAME: a helper module, not a command
    monkeypatch.setattr(commands, "__path__", [*commands.__path__, str(tmp_path)])

    assert [command.NAME for command in commands.registry()] == [
        "validate",
        "plan",
        "apply",
        "status",
        "import",
        "hello",
        "agent",
    ]
    assert cli.main(["hello", "--code", "3"]) == 3
    hello = next(command for command in commands.registry() if command.NAME == "hello")
    assert hello.seen == [(3, True)]  # LONG_RUNNING keeps the collector on
    assert cli.main(["--help"]) == 0
    assert "say hello" in capsys.readouterr().out
    assert gc.isenabled()


def test_a_module_with_only_some_parts_of_a_command_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "halfdone.py").write_text('NAME = "halfdone"\n\ndef run(ctx):\n    return 0\n')
    monkeypatch.setattr(commands, "__path__", [*commands.__path__, str(tmp_path)])
    with pytest.raises(ImportError, match="halfdone lacks ORDER, add_parser"):
        commands.registry()
