"""docs/agent.md documents every key the agent's config file takes, every field of the state file,
every metric and every exit code of `--status`, so a new option cannot go undocumented."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils import agent_metrics
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent import STATUS_FAILING, STATUS_OK, STATUS_STALE
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import (
    AGENT_PROVIDER_KEYS,
    FAMILY_KEYS,
    NAME_KEYS,
    TOP_KEYS,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_state import EntryState

PAGE = (Path(__file__).resolve().parents[3] / "docs" / "agent.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    """The text of one `##`/`###` section of the page."""
    match = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ )", PAGE, re.S | re.M)
    assert match, f"docs/agent.md has no section {title!r}"
    return match.group(1)


@pytest.mark.parametrize(
    ("title", "keys"),
    [("Top-level options", TOP_KEYS), ("`names`", NAME_KEYS), ("`providers`", AGENT_PROVIDER_KEYS)],
)
def test_every_config_key_is_a_row_of_its_table(title: str, keys: tuple[str, ...]) -> None:
    text = section(title)
    missing = [key for key in keys if f"| `{key}` |" not in text]
    assert not missing, f"docs/agent.md, {title}: no row for {missing}"


def test_every_detection_key_is_documented() -> None:
    text = section("`detect`")
    missing = [key for key in FAMILY_KEYS if f'"{key}"' not in text]
    assert not missing, missing


def test_every_state_field_is_documented() -> None:
    text = section("The state file")
    missing = [f.name for f in dataclasses.fields(EntryState) if f"`{f.name}`" not in text]
    assert not missing, missing


def test_every_metric_is_documented() -> None:
    text = section("Metrics")
    missing = [key for key in agent_metrics.METRICS if f"`{agent_metrics.PREFIX}{key}`" not in text]
    assert not missing, missing


def test_the_status_exit_codes_are_documented() -> None:
    text = section("Exit codes")
    for code in (STATUS_OK, 1, STATUS_FAILING, STATUS_STALE):
        assert re.search(rf"^\| {code} \|", text, re.M), code
