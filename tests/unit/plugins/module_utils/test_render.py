from __future__ import annotations

import json
import re

from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import Change, Plan, ZonePlan
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet
from ansible_collections.fleetdns.ddns.plugins.module_utils.render import (
    counts_text,
    plan_json,
    render_json,
    render_markdown,
    render_text,
    summary_line,
    zone_result_line,
)

ZONE = "example.test."
ANSI = re.compile(r"\033\[[0-9;]*m")


def rs(name: str, rtype: str, *values: str, ttl: int = 300) -> RecordSet:
    return RecordSet(f"{name}.{ZONE}" if name != "@" else ZONE, rtype, ttl, frozenset(values))


def sample_plan() -> Plan:
    www = rs("www", "CNAME", "gw.example.test.")
    mail_old = rs("mail", "A", "192.0.2.25", "192.0.2.27", ttl=3600)
    mail_new = rs("mail", "A", "192.0.2.26", "192.0.2.27", ttl=300)
    old = rs("old", "A", "192.0.2.9")
    spf = rs("@", "TXT", '"v=spf1 mx -all"')
    gw = rs("gw", "A", "198.51.100.7")
    changes = [
        Change("create", www.name, "CNAME", None, www, False, True),
        Change("update", mail_old.name, "A", mail_old, mail_new, True, True),
        Change("delete", old.name, "A", old, None, True, False),
        Change("adopt", spf.name, "TXT", spf, spf, False, True),
        Change("register", gw.name, "A", gw, gw, False, True),
        Change("register", gw.name, "AAAA", None, None, False, True),
    ]
    busy = ZonePlan(ZONE, "files", changes, owned_count=4, notes=["the zone could not be transferred"])
    quiet = ZonePlan("other.test.", "lab", [], owned_count=2)
    return Plan("fleet-main", [busy, quiet])


def lines_of(text: str) -> list[str]:
    return text.splitlines()


def test_text_shows_each_action_with_sign_name_type_and_ttl() -> None:
    text = render_text(sample_plan())
    lines = lines_of(text)
    assert lines[0] == "zone example.test. (provider files)"
    assert "  + create   www CNAME (ttl 300)" in lines
    assert "      + gw.example.test." in lines
    assert "  ~ update   mail A (ttl 3600 -> 300)" in lines
    assert "  - delete   old A (ttl 300)" in lines
    assert "      - 192.0.2.9" in lines
    assert any(line.startswith("  > adopt    @ TXT (ttl 300)") for line in lines)
    assert any(line.startswith("  * register gw A (ttl 300)") for line in lines)
    assert any(line.startswith("  * register gw AAAA") for line in lines)
    assert "        (no address yet)" in lines
    assert "  note: the zone could not be transferred" in lines


def test_update_shows_removed_added_and_unchanged_values() -> None:
    lines = lines_of(render_text(sample_plan()))
    start = lines.index("  ~ update   mail A (ttl 3600 -> 300)")
    assert lines[start + 1 : start + 4] == ["      - 192.0.2.25", "      + 192.0.2.26", "        192.0.2.27"]


def test_quiet_zone_says_no_changes_and_summary_counts_every_action() -> None:
    text = render_text(sample_plan())
    assert "zone other.test. (provider lab)\n  no changes" in text
    assert text.rstrip().splitlines()[-1] == (
        "Plan: 1 to create, 1 to update, 1 to delete, 1 to adopt, 2 to register (in 1 zone)."
    )


def test_no_changes_summary() -> None:
    plan = Plan("fleet-main", [ZonePlan(ZONE, "files")])
    assert summary_line(plan) == "No changes. The DNS matches the inventory."
    assert render_text(plan).endswith("No changes. The DNS matches the inventory.\n")


def test_colour_only_when_asked_and_text_is_otherwise_identical() -> None:
    plain = render_text(sample_plan(), color=False)
    coloured = render_text(sample_plan(), color=True)
    assert "\033[" not in plain
    assert "\033[32m+ create" in coloured  # green create
    assert "\033[31m- delete" in coloured  # red delete
    assert "\033[33m~ update" in coloured  # yellow update
    assert ANSI.sub("", coloured) == plain


def test_json_is_plan_dict_plus_changes_pending_and_round_trips() -> None:
    plan = sample_plan()
    data = json.loads(render_json(plan))
    assert data["changes_pending"] is True
    assert {k: v for k, v in data.items() if k != "changes_pending"} == plan.to_dict()
    assert Plan.from_dict(data).to_dict() == plan.to_dict()
    assert plan_json(Plan("x", [ZonePlan(ZONE, "files")]))["changes_pending"] is False


def test_markdown_has_summary_table_and_collapsible_diff_per_zone() -> None:
    md = render_markdown(sample_plan())
    lines = lines_of(md)
    assert lines[0] == "### fleetdns plan: 1 to create, 1 to update, 1 to delete, 1 to adopt, 2 to register"
    assert "| Zone | Provider | Create | Update | Delete | Adopt | Register |" in lines
    assert "| example.test. | files | 1 | 1 | 1 | 1 | 2 |" in lines
    assert "| other.test. | lab | 0 | 0 | 0 | 0 | 0 |" in lines
    assert md.count("<details>") == 1  # the quiet zone has nothing to expand
    assert "<summary>example.test. via files: 6 changes</summary>" in lines
    block = md[md.index("```diff") : md.index("```", md.index("```diff") + 3)]
    assert "+ create   www CNAME (ttl 300)" in block
    assert "-     192.0.2.25" in block  # value lines start with their sign, so GitHub colours them
    assert "+     192.0.2.26" in block
    assert "- **note:** the zone could not be transferred" in lines


def test_markdown_escapes_html_table_breaks_and_backtick_fences() -> None:
    evil = rs("x", "TXT", '"```<script>|"')
    plan = Plan("o", [ZonePlan(ZONE, "a|b", [Change("create", evil.name, "TXT", None, evil, False, True)])])
    md = render_markdown(plan)
    assert "<script>" not in md.split("````diff", maxsplit=1)[0]  # table and summary are escaped
    assert "| a\\|b |" in md
    assert "````diff" in md  # fence longer than the ``` inside the value


def test_counts_and_result_line_use_past_tense() -> None:
    zone_plan = sample_plan().zones[0]
    assert zone_result_line(zone_plan) == (
        "example.test. (files): 1 created, 1 updated, 1 deleted, 1 adopted, 2 registered"
    )
    assert counts_text({}, past=True) == "nothing changed"


def test_delete_of_marker_only_record_says_so() -> None:
    change = Change("delete", f"gone.{ZONE}", "A", None, None, True, False)
    text = render_text(Plan("o", [ZonePlan(ZONE, "files", [change])]))
    assert "  - delete   gone A" in text
    assert "only its ownership marker is removed" in text


def test_zone_owned_whole_says_so_in_text_and_json() -> None:
    stray = rs("stray", "TXT", '"by hand"')
    whole = ZonePlan(ZONE, "lab", [Change("delete", stray.name, "TXT", stray, None, True, False)], 3, ownership="zone")
    plan = Plan("fleet-main", [whole, ZonePlan("other.test.", "files")])
    lines = lines_of(render_text(plan))
    assert lines[0] == "zone example.test. (provider lab, owned whole)"
    assert "zone other.test. (provider files)" in lines  # marker ownership: the header as before
    assert "  - delete   stray TXT (ttl 300)" in lines
    data = json.loads(render_json(plan))
    assert [z["ownership"] for z in data["zones"]] == ["zone", "markers"]
    assert "<summary>example.test. via lab (owned whole): 1 change</summary>" in render_markdown(plan)
