"""The CLI pauses the cyclic garbage collector while a one-shot command runs, and always restores it.

Restoring matters to everyone who calls `cli.main` in-process (tests, wrappers): a collector left
off would let cyclic garbage pile up for the rest of their process.
"""

from __future__ import annotations

import gc

import pytest

from fleetdns import cli
from fleetdns.commands import validate as validate_command


def test_collector_is_paused_during_the_command_and_back_on_after(
    collector_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []

    def run(ctx: object) -> int:
        seen.append(gc.isenabled())
        return 0

    monkeypatch.setattr(validate_command, "run", run)
    assert cli.main(["validate", "-i", "unused.yml"]) == 0
    assert seen == [False]
    assert gc.isenabled()


def test_collector_is_back_on_after_a_failing_command(collector_on: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def run(ctx: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(validate_command, "run", run)
    assert cli.main(["validate", "-i", "unused.yml"]) == cli.EXIT_ERROR
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate_command, "run", lambda ctx: 0)
    was = gc.isenabled()
    gc.disable()
    try:
        assert cli.main(["validate", "-i", "unused.yml"]) == 0
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()
