from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_state import (
    AgentState,
    backoff_delay,
    load_state,
    save_state,
)


def test_a_missing_file_is_a_first_start(tmp_path: Path) -> None:
    state = load_state(str(tmp_path / "none.json"))
    assert state.entries == {} and state.notes == [] and len(state.salt) == 32


def test_save_and_load_round_trip_with_mode_0600(tmp_path: Path) -> None:
    path = str(tmp_path / "sub" / "state.json")
    state = AgentState()
    entry = state.entry("gw.example.test.", "lab")
    entry.confirmed({"A": "8.8.8.8"}, 100.0, verified=True)
    entry.updates = 3
    save_state(path, state)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    again = load_state(path)
    assert again.salt == state.salt
    assert again.entries["gw.example.test. lab"] == entry
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["state.json"]  # no temp file left


@pytest.mark.parametrize("text", ["{not json", '{"format": 99, "salt": "x"}', "[]", "\xff"])
def test_a_corrupt_file_is_set_aside(tmp_path: Path, text: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(text, encoding="latin-1")
    state = load_state(str(path))
    assert state.entries == {}
    assert state.notes and "set aside as" in state.notes[0]
    assert (tmp_path / "state.json.corrupt").exists() and not path.exists()


def test_unknown_keys_in_an_entry_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    data = {"format": 1, "salt": "ab", "entries": {"n p": {"updates": 2, "from_the_future": 1}, "bad": 3}}
    path.write_text(json.dumps(data), encoding="utf-8")
    state = load_state(str(path))
    assert state.entries["n p"].updates == 2 and state.entries["bad"].updates == 0


def test_the_digest_depends_on_the_settings_and_the_salt() -> None:
    one, two = AgentState(), AgentState()
    assert one.digest({"a": 1}) == one.digest({"a": 1}) != one.digest({"a": 2})
    assert one.digest({"a": 1}) != two.digest({"a": 1})
    assert "secret" not in one.digest({"password": "secret"})


def test_backoff_doubles_is_bounded_and_jittered_down_to_half() -> None:
    assert [backoff_delay(n, 60, 1000, lambda: 1.0) for n in range(1, 7)] == [60, 120, 240, 480, 960, 1000]
    assert backoff_delay(1, 60, 1000, lambda: 0.0) == 30
    assert backoff_delay(10_000, 60, 3600, lambda: 1.0) == 3600
