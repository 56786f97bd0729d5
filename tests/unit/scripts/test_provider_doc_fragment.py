"""scripts/provider-doc-fragment: the README's provider table is generated from the providers'
declared capabilities and is current (the doc fragment's own check is in test_record_task)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import provider_class, provider_type_names

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "provider-doc-fragment"


def _script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("provider_doc_fragment", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_the_readme_table_is_current() -> None:
    script = _script()
    readme = script.README.read_text(encoding="utf-8")
    assert readme == script.render_readme(readme), "run scripts/provider-doc-fragment and commit README.md"


APEX = " (not at the zone apex)"  # a type the service keeps at the apex itself


def test_the_table_has_a_row_per_type_from_its_declarations() -> None:
    rows = _script().table().splitlines()[3:-1]
    assert [row.split("|")[1].strip() for row in rows] == [f"`{t}`" for t in provider_type_names()]
    for row, type_name in zip(rows, provider_type_names(), strict=True):
        cls = provider_class(type_name)
        assert cls is not None
        cells = [cell.strip() for cell in row.split("|")[1:-1]]
        types = cells[2].split(", ")
        assert cells[1] == cls.KIND and [t.removesuffix(APEX) for t in types] == list(cls.CAPABILITIES.record_types)
        assert [t[: -len(APEX)] for t in types if t.endswith(APEX)] == list(cls.CAPABILITIES.apex_types_kept)
        assert cells[5] == ("yes" if cls.CAPABILITIES.zone_ownership else "no")


def test_a_readme_without_the_markers_is_an_error() -> None:
    with pytest.raises(SystemExit, match="no <!-- provider-capabilities"):
        _script().render_readme("# a README without the table\n")
