"""`fleetdns agent --status` rendering and exit codes over a state file the test writes."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_state import AgentState, save_state
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils import agent_fakes
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.agent_fakes import (
    SECRET,
    basic_config,
    write_config,
)

from fleetdns import agent_cli, cli

fake_services = agent_fakes.fake_services  # the fixture, used through pytestmark
pytestmark = pytest.mark.usefixtures("fake_services")


def test_status_lines_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, basic_config())
    state = AgentState()
    ok = state.entry("gw.dyn.test.", "a")
    ok.confirmed({"A": "8.8.8.8"}, 1_700_000_000.0, verified=True)
    ok.last_update = 1_700_000_000.0
    bad = state.entry("gw.dyn.test.", "b")
    bad.failed(f"the service answered 'badauth' to password={SECRET}", 1_700_000_100.0, None, stop=True)
    save_state(str(tmp_path / "agent.state.json"), state)

    assert cli.main(["agent", "--config", path, "--status"]) == agent_cli.EXIT_FAILING
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "gw.dyn.test via a: stale; address A 8.8.8.8; last update 2023-11-14 22:13:20 UTC; "
        "last verified 2023-11-14 22:13:20 UTC; last checked 2023-11-14 22:13:20 UTC"
    )
    assert out[1].startswith("gw.dyn.test via b: stopped; address none; last update never;")
    assert out[1].endswith("last error 2023-11-14 22:15:00 UTC: the service answered 'badauth' to password=********")

    assert cli.main(["agent", "--config", path, "--status", "--json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["exit_code"] == 2
    assert [(e["provider"], e["state"]) for e in data["entries"]] == [("a", "stale"), ("b", "stopped")]


def test_the_agent_keeps_the_collector_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    monkeypatch.setattr(agent_cli, "_status", lambda args, out, config: seen.append(gc.isenabled()) or 0)
    assert cli.main(["agent", "--config", write_config(tmp_path, basic_config()), "--status"]) == 0
    assert seen == [gc.isenabled()] and seen[0]


def test_the_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["agent", "--help"]) == 0
    assert agent_cli.EXIT_CODES in capsys.readouterr().out
