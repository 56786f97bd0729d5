"""yamledit: scalars and flow values read back (YAML 1.1, as Ansible and fleetdns read them) as
what was written, for any text; edits leave every other byte as it was."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from fleetdns.yamledit import Flow, YamlDoc, YamlEditError, emit_entry, flow, scalar

TRICKY = ["@", "*.a", "yes", "No", "on", "~", "null", "1:20", "012", "0x1F", "1e3", "2001:db8::1", "- a", "a: b",
          "a #b", "#x", "[x]", "{x}", "'q'", '"q"', "a'b\"c", "tab\there", "new\nline", " lead", "trail ", "",
          "2024-01-02", "!tag", "&anchor", "*alias", "%x", "`x", "|", ">", "?", "=", "<<", "é", "\u2028"]  # fmt: skip


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_scalars_read_back(text: str) -> None:
    assert yaml.safe_load(f"[{scalar(text)}]") == [text]
    assert yaml.safe_load(flow(Flow(name=text, value=[text, text]))) == {"name": text, "value": [text, text]}


@given(st.text())
def test_any_text_reads_back(text: str) -> None:
    assert yaml.safe_load(f"key: {scalar(text)}\n") == {"key": text}
    assert yaml.safe_load(flow({text: [text]})) == {text: [text]}


def test_plain_where_it_is_safe() -> None:
    assert [scalar(t) for t in ("www", "192.0.2.1", "10 mail.example.test.", "v=spf1 mx -all")] == [
        "www", "192.0.2.1", "10 mail.example.test.", "v=spf1 mx -all",
    ]  # fmt: skip
    assert scalar("@") == '"@"' and scalar('0 issue "x"') == "'0 issue \"x\"'" and scalar(5) == "5"


def test_long_entries_go_block_style() -> None:
    text = emit_entry("records", [Flow(name="x", type="TXT", value="y" * 200)], 0, YamlDoc("", "f").layout)
    assert text.startswith("records:\n  - name: x\n    type: TXT\n    value: yyy")
    assert yaml.safe_load(text) == {"records": [{"name": "x", "type": "TXT", "value": "y" * 200}]}


def test_edits_touch_nothing_else_and_keep_a_missing_final_newline_working() -> None:
    text = "a:   # c1\n  b: [1, 2]   # c2\n\n  # c3\n  c: 'x'"
    doc = YamlDoc(text, "f.yml")
    doc.add_entry(doc.get(["a"]), "d", Flow(e=1), 2)
    assert doc.result() == text + "\n  d: {e: 1}\n"


def test_a_list_where_a_mapping_is_wanted_is_refused() -> None:
    doc = YamlDoc("a:\n  - 1\n", "f.yml")
    with pytest.raises(YamlEditError, match=r"f\.yml:2:3: expected a mapping here"):
        doc.add_entry(doc.get(["a"]), "k", 1, 2)


def test_invalid_yaml_is_located() -> None:
    with pytest.raises(YamlEditError, match=r"f.yml:2:\d+: not valid YAML"):
        YamlDoc("a: 1\n b: [\n", "f.yml")
