"""docs/providers/: every provider type has its page, linked from the README's provider table, and
the update-only providers' pages name every option the provider declares (so a new option cannot go
undocumented) and the ddclient protocol a user migrating from ddclient looks for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import (
    provider_class,
    provider_type_names,
    zone_provider_type_names,
)

ROOT = Path(__file__).resolve().parents[3]
PAGES = ROOT / "docs" / "providers"
UPDATE_ONLY = sorted(set(provider_type_names()) - set(zone_provider_type_names()))
DDCLIENT = {"dyndns2": "dyndns2", "duckdns": "duckdns", "freedns": "freedns", "namecheap": "namecheap"}


@pytest.mark.parametrize("type_name", provider_type_names())
def test_each_provider_has_a_page_the_readme_table_points_at(type_name: str) -> None:
    assert (PAGES / f"{type_name}.md").is_file()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith(f"| `{type_name}` | ") and "](docs/" in line)
    assert f"(docs/providers/{type_name}.md)" in row


def test_the_update_only_providers_are_the_ones_with_ddclient_protocols() -> None:
    assert sorted(DDCLIENT) == UPDATE_ONLY


@pytest.mark.parametrize("type_name", UPDATE_ONLY)
def test_an_update_only_page_documents_every_declared_option(type_name: str) -> None:
    cls = provider_class(type_name)
    assert cls is not None
    page = (PAGES / f"{type_name}.md").read_text(encoding="utf-8")
    options = page.split("## Options", 1)[-1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `([a-z0-9_]+)` \|", options, re.MULTILINE))
    assert rows == set(cls.OPTIONS), f"{type_name}.md option rows differ from OPTIONS"
    assert f"protocol={DDCLIENT[type_name]}" in page
    for heading in ("## Options", "## IPv6", "## Inventory", "## `dns_record`", "## What the service answers"):
        assert heading in page
    assert f"type: {type_name}" in page and "fleetdns.ddns.dns_record:" in page
