"""The CLI in-process: argument parsing, exit codes, error reporting, redaction, saved plans.

A fake in-memory zone provider (type `fake`) stands in for the backends, and a small YAML reader
stands in for the inventory loader, so these tests exercise the CLI alone; tests/integration/
runs the real `fleetdns` command over real zone files and a real BIND.
"""

from __future__ import annotations

import json
import os
import types
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from ansible_collections.fleetdns.ddns.plugins.module_utils import providers as registry
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ChangedSinceReadError, ProviderError
from ansible_collections.fleetdns.ddns.plugins.module_utils.ownership import (
    marker_name,
    marker_value,
    split_markers,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.base import (
    MARKER_STORE,
    Capabilities,
    Option,
    ZoneProvider,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.rdata import MANAGED_TYPES
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordKey, RecordSet

from fleetdns import cli, commands
from fleetdns.commands import apply as apply_command

SECRET = "c2VjcmV0LXRzaWcta2V5LXZhbHVlLTEyMzQ1Ng=="
ZONE = "example.test."


class FakeProvider(ZoneProvider):
    """Zones in a class-level dict; markers stored like the real backends store them."""

    TYPE = "fake"
    CAPABILITIES = Capabilities(MANAGED_TYPES, lists_zone=True, ownership_store=MARKER_STORE, zone_ownership=True)
    OPTIONS: ClassVar[dict[str, Option]] = {
        "secret": Option(str, default="", secret=True),
        "fail_read": Option(str, default=""),
        "fail_apply": Option(str, default=""),
        "crash": Option(bool, default=False),
        "interrupt": Option(bool, default=False),
        "stop_after": Option(int, default=0),  # with fail_apply: changes applied (and reported) before it
        "waits": Option(bool, default=False),  # hands over to the next zone while "waiting on its server"
    }
    store: ClassVar[dict[str, dict[RecordKey, RecordSet]]] = {}
    applied: ClassVar[list[str]] = []
    events: ClassVar[list[str]] = []  # "sent <zone>" when an apply starts, "answered <zone>" when it ends well

    def read(self, zone: str, wanted: set[RecordKey]) -> Any:
        if self.options["interrupt"]:
            raise KeyboardInterrupt
        if self.options["crash"]:
            raise RuntimeError(f"unexpected failure with key {self.options['secret']}")
        if self.options["fail_read"]:
            raise ProviderError(self.options["fail_read"].replace("SECRET", self.options["secret"]))
        return split_markers(zone, dict(self.store.get(zone, {})))

    def apply(self, zone: str, changes: list, owner: str, progress: Any = None, meanwhile: Any = None) -> None:
        self.events.append(f"sent {zone}")
        if self.options["fail_apply"] and self.options["stop_after"]:
            self.commit(zone, changes[: self.options["stop_after"]], owner)
            progress(self.options["stop_after"], len(changes))
        if self.options["fail_apply"] == "interrupt":
            raise KeyboardInterrupt
        if self.options["fail_apply"] == "changed":
            raise ChangedSinceReadError(f"{zone} changed since it was read")
        if self.options["fail_apply"]:
            raise ProviderError(self.options["fail_apply"])
        self.commit(zone, changes, owner)
        if self.options["waits"] and meanwhile is not None:
            meanwhile()  # as rfc2136: the change is at the server, its answer not read yet
        self.applied.append(zone)
        self.events.append(f"answered {zone}")

    def commit(self, zone: str, changes: list, owner: str) -> None:
        records = self.store.setdefault(zone, {})
        state = split_markers(zone, records)
        for change in changes:  # pins first, all or nothing
            have = state.records.get(change.key)
            if (have.values if have else None) != (change.before.values if change.before else None):
                raise ChangedSinceReadError(f"{change.name} {change.type} changed since the plan")
            if (state.owners.get(change.key) == owner) != change.owned_before:
                raise ChangedSinceReadError(f"ownership of {change.name} {change.type} changed since the plan")
        for change in changes:
            marker = (marker_name(change.key, zone), "TXT")
            if change.after is None:
                records.pop(change.key, None)
            else:
                records[change.key] = change.after
            if change.owned_after:
                records[marker] = RecordSet(marker[0], "TXT", 3600, frozenset({marker_value(owner)}))
            else:
                records.pop(marker, None)


def fake_loader(path: str, vault_password_file: str | None = None) -> types.SimpleNamespace:
    """Stands in for fleetdns.inventory.load_inventory: `all.vars` plus a flat `hosts` mapping."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return types.SimpleNamespace(
        path=path,
        base_dir=os.path.dirname(path),
        all_vars=data["all"]["vars"],
        hosts=data.get("hosts", {}),
        locate=None,
    )


@pytest.fixture(autouse=True)
def fake_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._PROVIDERS, "fake", lambda: FakeProvider)
    monkeypatch.setattr(commands, "_load_inventory", fake_loader)
    monkeypatch.setattr(FakeProvider, "store", {})
    monkeypatch.setattr(FakeProvider, "applied", [])
    monkeypatch.setattr(FakeProvider, "events", [])
    monkeypatch.delenv("FLEETDNS_INVENTORY", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


def records(*items: tuple[str, str, Any]) -> list[dict]:
    return [{"name": n, "type": t, "value": v} for n, t, v in items]


def write_inventory(
    tmp_path: Any, zones: dict | None = None, provider: dict | None = None, hosts: dict | None = None
) -> str:
    zones = zones or {ZONE: records(("www", "A", "192.0.2.1"), ("mail", "A", "192.0.2.25"))}
    data = {
        "all": {
            "vars": {
                "fleetdns_owner": "fleet-main",
                "fleetdns_providers": {"mem": {"type": "fake", "secret": SECRET, **(provider or {})}},
                "fleetdns_zones": {z: {"provider": "mem", "records": r} for z, r in zones.items()},
            }
        },
        "hosts": hosts or {},
    }
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def owned_names() -> set[str]:
    state = split_markers(ZONE, FakeProvider.store.get(ZONE, {}))
    return {name for (name, _rtype), owner in state.owners.items() if owner == "fleet-main"}


# ---------------------------------------------------------------- arguments and help


def test_help_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "--help")
    assert code == 0
    for line in ("0    success", "1    error", "2    plan --detailed-exitcode: changes pending", "130  interrupted"):
        assert line in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "--version")
    assert code == 0 and out.startswith("fleetdns ")


@pytest.mark.parametrize(
    "argv",
    [[], ["frobnicate"], ["plan", "--json", "--markdown"], ["plan", "--bogus"], ["apply", "--plan"]],
)
def test_usage_errors_exit_1_not_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert "usage:" in err and "error:" in err
    assert out == ""


def test_debug_is_accepted_before_and_after_the_command(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    inv = write_inventory(tmp_path)
    assert run(capsys, "--debug", "validate", "-i", inv)[0] == 0
    assert run(capsys, "validate", "-i", inv, "--debug")[0] == 0


def test_inventory_defaults_to_env_then_hosts_yml(
    capsys: pytest.CaptureFixture[str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    inv = write_inventory(tmp_path)
    monkeypatch.setenv("FLEETDNS_INVENTORY", inv)
    code, out, _err = run(capsys, "validate")
    assert code == 0 and inv in out
    monkeypatch.delenv("FLEETDNS_INVENTORY")
    monkeypatch.chdir(tmp_path)
    code, out, _err = run(capsys, "validate")
    assert code == 0 and out.startswith("hosts.yml: valid.")


# ---------------------------------------------------------------- validate


def test_validate_ok_summarises(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    code, out, _err = run(capsys, "validate", "-i", write_inventory(tmp_path))
    assert code == 0
    assert "valid. 1 zone, 2 declared record sets, 0 device names; provider used: mem; owner id fleet-main." in out
    assert FakeProvider.applied == []


def test_validate_reports_every_problem_without_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    inv = write_inventory(tmp_path, zones={ZONE: records(("www", "A", "999.1.1.1"), ("x y", "A", "192.0.2.1"))})
    code, out, err = run(capsys, "validate", "-i", inv)
    assert code == 1
    assert out == ""
    problems = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(problems) == 2
    assert "records[0].value" in problems[0] and "records[1].name" in problems[1]
    assert "2 problems found; nothing was read or changed" in err
    assert "Traceback" not in err


def test_missing_inventory_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    code, _out, err = run(capsys, "validate", "-i", str(tmp_path / "nope.yml"))
    assert code == 1
    assert err.strip().splitlines() == [f"error: {tmp_path / 'nope.yml'}: No such file or directory"]


def test_invalid_inventory_reads_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    inv = write_inventory(tmp_path, zones={ZONE: records(("www", "A", "not-an-ip"))}, provider={"crash": True})
    for argv in (["plan"], ["apply", "--yes"]):
        code, _out, err = run(capsys, *argv, "-i", inv)
        assert code == 1 and "internal error" not in err and "reading" not in err
    assert FakeProvider.store == {}


# ---------------------------------------------------------------- plan and apply


def test_plan_apply_round_trip_and_detailed_exitcode(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    inv = write_inventory(tmp_path)
    code, out, err = run(capsys, "plan", "-i", inv, "--detailed-exitcode")
    assert code == 2
    assert "+ create   www A (ttl 3600)" in out
    assert out.rstrip().endswith("Plan: 2 to create (in 1 zone).")
    assert f"reading {ZONE} from mem" in err  # progress goes to stderr
    assert run(capsys, "plan", "-i", inv)[0] == 0  # without the flag, changes are not an error
    assert FakeProvider.store == {}  # plan changes nothing

    code, out, err = run(capsys, "apply", "-i", inv)  # not a TTY: applies without asking
    assert code == 0
    assert "Applied 1 of 1 zone in" in out
    assert f"  {ZONE} (mem): 2 created" in out
    assert owned_names() == {f"www.{ZONE}", f"mail.{ZONE}"}

    code, out, _err = run(capsys, "plan", "-i", inv, "--detailed-exitcode")
    assert code == 0 and "No changes." in out
    code, out, _err = run(capsys, "apply", "-i", inv)
    assert code == 0 and "Applied" not in out and FakeProvider.applied == [ZONE]


def test_plan_json_is_the_only_thing_on_stdout(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    code, out, err = run(capsys, "plan", "-i", write_inventory(tmp_path), "--json", "--detailed-exitcode")
    assert code == 2
    data = json.loads(out)
    assert data["changes_pending"] is True
    assert data["counts"]["create"] == 2
    assert [c["action"] for c in data["zones"][0]["changes"]] == ["create", "create"]
    assert "reading" in err


def test_plan_markdown(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    code, out, _err = run(capsys, "plan", "-i", write_inventory(tmp_path), "--markdown")
    assert code == 0
    assert out.startswith("### fleetdns plan: 2 to create")
    assert "<details>" in out and "```diff" in out


def test_no_colour_when_not_a_terminal(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    _code, out, _err = run(capsys, "plan", "-i", write_inventory(tmp_path))
    assert "\033[" not in out


def test_zone_selection(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    zones = {ZONE: records(("www", "A", "192.0.2.1")), "other.test.": records(("a", "A", "192.0.2.2"))}
    inv = write_inventory(tmp_path, zones=zones)
    code, out, _err = run(capsys, "plan", "-i", inv, "--zone", "Other.Test", "--json")
    assert code == 0 and [z["zone"] for z in json.loads(out)["zones"]] == ["other.test."]
    code, _out, err = run(capsys, "plan", "-i", inv, "--zone", "nope.test")
    assert code == 1 and "nope.test. is not in fleetdns_zones" in err


def test_unowned_record_in_the_way_is_a_conflict(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    FakeProvider.store[ZONE] = {(f"www.{ZONE}", "A"): RecordSet(f"www.{ZONE}", "A", 300, frozenset({"192.0.2.99"}))}
    inv = write_inventory(tmp_path)
    code, _out, err = run(capsys, "apply", "-i", inv)
    assert code == 1
    assert "not owned by fleetdns" in err and "--adopt" in err and "Traceback" not in err
    assert FakeProvider.applied == []
    code, out, _err = run(capsys, "apply", "-i", inv, "--adopt")
    assert code == 0 and "1 adopted" in out and f"www.{ZONE}" in owned_names()


def test_unowned_records_survive_apply(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    theirs = RecordSet(f"theirs.{ZONE}", "TXT", 300, frozenset({'"hand made"'}))
    FakeProvider.store[ZONE] = {theirs.key: theirs}
    assert run(capsys, "apply", "-i", write_inventory(tmp_path))[0] == 0
    assert FakeProvider.store[ZONE][theirs.key] == theirs


def test_too_many_deletes_refused_without_allow_deletes(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    many = records(*((f"h{i}", "A", f"192.0.2.{i}") for i in range(10)))
    assert run(capsys, "apply", "-i", write_inventory(tmp_path, zones={ZONE: many}))[0] == 0
    inv = write_inventory(tmp_path, zones={ZONE: many[:3]})
    for command in ("plan", "apply"):
        code, out, err = run(capsys, command, "-i", inv)
        assert code == 1, command
        assert "deletes 7 of the 10 record sets fleetdns owns (70%)" in err
        assert "--allow-deletes" in err
        assert "- delete   h9 A" in out  # the plan is still shown, so the user sees what would go
    assert len(owned_names()) == 10
    code, out, _err = run(capsys, "apply", "-i", inv, "--allow-deletes")
    assert code == 0 and "7 deleted" in out and len(owned_names()) == 3


def three_zones(tmp_path: Any, failure: str, stop_after: int = 0, b_records: int = 1, waits: bool = False) -> str:
    """a.test and c.test on a working provider, b.test (`b_records` records) on one that fails with
    `failure` after `stop_after` changes went through. With `waits` the working provider hands
    over to the next zone while its answer is pending, as rfc2136 does."""
    data = {
        "all": {
            "vars": {
                "fleetdns_providers": {
                    "good": {"type": "fake", "waits": waits},
                    "bad": {"type": "fake", "fail_apply": failure, "stop_after": stop_after},
                },
                "fleetdns_zones": {
                    "a.test": {"provider": "good", "records": records(("x", "A", "192.0.2.1"))},
                    "b.test": {
                        "provider": "bad",
                        "records": records(*((f"x{i}", "A", "192.0.2.1") for i in range(b_records))),
                    },
                    "c.test": {"provider": "good", "records": records(("x", "A", "192.0.2.1"))},
                },
            }
        }
    }
    inv = tmp_path / "hosts.yml"
    inv.write_text(yaml.safe_dump(data))
    return str(inv)


def test_a_failing_zone_is_reported_and_the_others_still_apply(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    code, out, err = run(capsys, "apply", "-i", three_zones(tmp_path, "REFUSED"))
    assert code == 1
    assert "Failed after " in out and ": 2 of 3 zones applied in full (1 failed)\n" in out
    assert "  a.test. (good): 1 created\n  c.test. (good): 1 created\n" in out
    assert "  b.test. (bad): 0 of 1 change applied before the failure\n" in out
    assert "error: zone b.test. (bad) failed: REFUSED" in err
    assert "applied: a.test., c.test.\nnot applied: b.test." in err
    assert FakeProvider.applied == ["a.test.", "c.test."]  # in inventory order


def test_fail_fast_stops_at_the_first_failing_zone(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    code, out, err = run(capsys, "apply", "-i", three_zones(tmp_path, "REFUSED"), "--fail-fast")
    assert code == 1
    assert ": 1 of 3 zones applied in full (1 failed)\n  a.test. (good): 1 created\n" in out
    assert "error: zone b.test. (bad) failed: REFUSED" in err
    assert "applied: a.test.\nnot applied: b.test., c.test." in err
    assert FakeProvider.applied == ["a.test."]


def test_a_zone_that_cannot_be_read_is_reported_and_the_others_apply(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    inv = three_zones(tmp_path, "")
    path = Path(inv)
    path.write_text(path.read_text(encoding="utf-8").replace("fail_apply: ''", "fail_read: 'connection refused'"))
    code, out, err = run(capsys, "plan", "-i", inv)
    assert code == 1 and "zone a.test." in out and "zone c.test." in out and "b.test." not in out
    assert "error: zone b.test. (bad) could not be planned: connection refused" in err
    assert "not planned: b.test." in err
    code, out, err = run(capsys, "apply", "-i", inv)
    assert code == 1 and ": 2 of 2 zones applied in full (1 not planned)" in out
    assert "  b.test. (bad): not planned, nothing sent" in out and "not applied: b.test." in err
    assert FakeProvider.applied == ["a.test.", "c.test."]


def test_provider_error_is_one_line_and_secret_is_masked(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    inv = write_inventory(tmp_path, provider={"fail_read": "BADSIG: the server rejected key SECRET"})
    for extra in ([], ["--debug"]):
        code, out, err = run(capsys, "plan", "-i", inv, *extra)
        assert code == 1
        assert SECRET not in out + err
        assert "error: BADSIG: the server rejected key ********" in err
        if not extra:
            assert err.count("\n") == 2 and "Traceback" not in err  # the read report and the error


def test_internal_error_hides_traceback_unless_debug_and_never_the_secret(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    inv = write_inventory(tmp_path, provider={"crash": True})
    code, out, err = run(capsys, "plan", "-i", inv)
    assert code == 1
    assert "Traceback" not in err
    assert "internal error: RuntimeError" in err and "re-run with --debug" in err
    assert SECRET not in out + err and "********" in err
    code, out, err = run(capsys, "plan", "-i", inv, "--debug")
    assert code == 1
    assert "Traceback (most recent call last)" in err and "RuntimeError" in err
    assert SECRET not in out + err


def test_ctrl_c_during_apply_says_which_zones_went_through(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    code, _out, err = run(capsys, "apply", "-i", three_zones(tmp_path, "interrupt"))
    assert code == 130 and "Traceback" not in err
    assert "interrupted while applying b.test. (what was being sent then may have gone in too)\n" in err
    assert "applied: a.test.\nnot applied: b.test., c.test." in err
    assert FakeProvider.applied == ["a.test."]


@pytest.mark.parametrize(
    ("failure", "head", "cause", "code"),
    [("REFUSED", "Failed", "failure", 1), ("interrupt", "Interrupted", "interrupt", 130)],
)
def test_apply_stopped_inside_a_zone_says_how_many_of_its_changes_went_through(
    capsys: pytest.CaptureFixture[str], tmp_path: Any, failure: str, head: str, cause: str, code: int
) -> None:
    inv = three_zones(tmp_path, failure, stop_after=1418, b_records=2000)
    result, out, err = run(capsys, "apply", "-i", inv)
    assert result == code and "Traceback" not in err
    applied = "2 of 3 zones applied in full (1 failed)" if code == 1 else "1 of 3 zones applied in full"
    assert f"{head} after " in out and f": {applied}\n" in out
    assert f"  b.test. (bad): 1,418 of 2,000 changes applied before the {cause}\n" in out
    if code == 1:  # a failure: c.test. is still applied
        assert "partly applied: b.test. (1,418 of 2,000 changes)\nrun `fleetdns plan`" in err
    else:  # an interrupt ends the apply there
        assert "partly applied: b.test. (1,418 of 2,000 changes)\nnot applied: c.test." in err
    assert "applied: none" not in err
    assert len(FakeProvider.store["b.test."]) == 2 * 1418  # the records and their markers


def test_a_zone_sent_alongside_that_fails_is_reported_and_the_rest_still_applies(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    code, out, err = run(capsys, "apply", "-i", three_zones(tmp_path, "REFUSED", waits=True), "--yes")
    assert code == 1
    # b.test. went out while a.test.'s answer was pending; c.test. (a's provider again) after that answer
    sent_alongside = ["sent a.test.", "sent b.test.", "answered a.test.", "sent c.test.", "answered c.test."]
    assert FakeProvider.events == sent_alongside
    assert ": 2 of 3 zones applied in full (1 failed)\n" in out
    assert out.index("  a.test. ") < out.index("  c.test. ") < out.index("  b.test. (bad)")
    assert "zone b.test. (bad) failed: REFUSED" in err


def test_ctrl_c_in_a_zone_sent_alongside_leaves_both_zones_in_doubt(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    code, _out, err = run(capsys, "apply", "-i", three_zones(tmp_path, "interrupt", waits=True), "--yes")
    assert code == 130 and "Traceback" not in err
    assert "interrupted while applying a.test., b.test. (what was being sent then may have gone in too)\n" in err
    assert "not applied: a.test., b.test., c.test." in err and "c.test." not in FakeProvider.store


def test_a_zone_that_fails_before_it_hands_over_leaves_the_next_zone_to_its_own_turn(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    providers = {
        "good": {"type": "fake", "waits": True},
        "bad": {"type": "fake", "waits": True, "fail_apply": "REFUSED"},
    }
    zones = {
        "a.test": {"provider": "bad", "records": records(("x", "A", "192.0.2.1"))},
        "b.test": {"provider": "good", "records": records(("x", "A", "192.0.2.2"))},
        "c.test": {"provider": "bad", "records": records(("x", "A", "192.0.2.3"))},
    }
    data = {"all": {"vars": {"fleetdns_providers": providers, "fleetdns_zones": zones}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(data))
    code, out, _err = run(capsys, "apply", "-i", str(tmp_path / "hosts.yml"), "--yes")
    assert code == 1 and ": 1 of 3 zones applied in full (2 failed)\n" in out
    assert FakeProvider.events == ["sent a.test.", "sent b.test.", "sent c.test.", "answered b.test."]


def test_fail_fast_sends_no_zone_alongside(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    code, _out, err = run(capsys, "apply", "-i", three_zones(tmp_path, "REFUSED", waits=True), "--yes", "--fail-fast")
    assert code == 1 and FakeProvider.events == ["sent a.test.", "answered a.test.", "sent b.test."]
    assert "not applied: b.test., c.test." in err and "c.test." not in FakeProvider.store


def test_ctrl_c_exits_130(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    code, _out, err = run(capsys, "plan", "-i", write_inventory(tmp_path, provider={"interrupt": True}))
    assert code == 130 and "interrupted" in err and "Traceback" not in err


def test_interactive_apply_asks_and_only_yes_proceeds(
    capsys: pytest.CaptureFixture[str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    inv = write_inventory(tmp_path)
    monkeypatch.setattr(apply_command, "_interactive", lambda: True)
    monkeypatch.setattr("builtins.input", lambda: "y")
    code, _out, err = run(capsys, "apply", "-i", inv)
    assert code == 1 and "Apply these changes?" in err and "apply cancelled; nothing was changed" in err
    assert FakeProvider.store == {}
    monkeypatch.setattr("builtins.input", lambda: "yes")
    assert run(capsys, "apply", "-i", inv)[0] == 0 and len(owned_names()) == 2
    monkeypatch.setattr("builtins.input", lambda: pytest.fail("--yes must not ask"))
    write_inventory(tmp_path, zones={ZONE: records(("www", "A", "192.0.2.2"))})
    assert run(capsys, "apply", "-i", inv, "--yes")[0] == 0


# ---------------------------------------------------------------- saved plans


def test_saved_plan_applies_when_nothing_changed(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    inv, saved = write_inventory(tmp_path), str(tmp_path / "plan.json")
    code, _out, err = run(capsys, "plan", "-i", inv, "--out", saved)
    assert code == 0 and f"saved the plan to {saved}" in err
    data = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert data["changes_pending"] is True and ZONE in data["saved"]["targets"]
    assert SECRET not in json.dumps(data)
    code, out, _err = run(capsys, "apply", "-i", inv, "--plan", saved)
    assert code == 0 and "2 created" in out and len(owned_names()) == 2


def test_saved_plan_refused_when_inventory_changed(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    inv, saved = write_inventory(tmp_path), str(tmp_path / "plan.json")
    run(capsys, "plan", "-i", inv, "--out", saved)
    write_inventory(tmp_path, zones={ZONE: records(("www", "A", "192.0.2.2"))})
    code, _out, err = run(capsys, "apply", "-i", inv, "--plan", saved)
    assert code == 1
    assert "the inventory changed since" in err and "records, device names, ownership or provider settings" in err
    assert "made by fleetdns" not in err  # the same version made it
    assert FakeProvider.store == {}


def test_saved_plan_of_another_version_says_so_when_refused(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    inv, saved = write_inventory(tmp_path), tmp_path / "plan.json"
    run(capsys, "plan", "-i", inv, "--out", str(saved))
    data = json.loads(saved.read_text(encoding="utf-8"))
    data["saved"]["fleetdns"] = "0.0.1"
    data["saved"]["targets"][ZONE] = "0" * 64  # what an older fleetdns computed differently
    saved.write_text(json.dumps(data), encoding="utf-8")
    code, _out, err = run(capsys, "apply", "-i", inv, "--plan", str(saved))
    assert code == 1 and "it was made by fleetdns 0.0.1, this is " in err
    assert FakeProvider.store == {}


def test_saved_plan_survives_secret_rotation(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    inv, saved = write_inventory(tmp_path), str(tmp_path / "plan.json")
    run(capsys, "plan", "-i", inv, "--out", saved)
    write_inventory(tmp_path, provider={"secret": "bmV3LXNlY3JldC12YWx1ZS0wMDAwMDAwMA=="})
    assert run(capsys, "apply", "-i", inv, "--plan", saved)[0] == 0


def test_saved_plan_refused_when_dns_changed(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    inv, saved = write_inventory(tmp_path), str(tmp_path / "plan.json")
    run(capsys, "plan", "-i", inv, "--out", saved)
    intruder = RecordSet(f"www.{ZONE}", "A", 300, frozenset({"203.0.113.1"}))
    FakeProvider.store[ZONE] = {intruder.key: intruder}
    code, _out, err = run(capsys, "apply", "-i", inv, "--plan", saved)
    assert code == 1 and f"{saved} cannot be applied: the DNS changed since it was made, zone {ZONE}" in err
    assert "www A exists with other values (ttl 300: 203.0.113.1)" in err
    assert FakeProvider.store[ZONE] == {intruder.key: intruder}


def test_saved_plan_refused_when_an_owned_record_changed(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    inv, saved = write_inventory(tmp_path), str(tmp_path / "plan.json")
    run(capsys, "apply", "-i", write_inventory(tmp_path, zones={ZONE: records(("www", "A", "192.0.2.9"))}))
    inv = write_inventory(tmp_path)
    run(capsys, "plan", "-i", inv, "--out", saved)
    www = RecordSet(f"www.{ZONE}", "A", 3600, frozenset({"203.0.113.1"}))
    FakeProvider.store[ZONE][www.key] = www
    before = dict(FakeProvider.store[ZONE])
    code, _out, err = run(capsys, "apply", "-i", inv, "--plan", saved)
    assert code == 1 and f"{saved} does not match the plan made now from the inventory and the DNS" in err
    assert f"{ZONE} www A: before is ttl 3600: 192.0.2.9 in the file, ttl 3600: 203.0.113.1 now" in err
    assert "nothing was sent" in err
    assert FakeProvider.store[ZONE] == before


def test_a_saved_plan_that_adopts_needs_adopt_on_apply(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    theirs = RecordSet(f"www.{ZONE}", "A", 300, frozenset({"203.0.113.1"}))
    FakeProvider.store[ZONE] = {theirs.key: theirs}
    inv, saved, plain = write_inventory(tmp_path), str(tmp_path / "plan.json"), str(tmp_path / "plain.json")
    assert run(capsys, "plan", "-i", inv, "--adopt", "--out", saved)[0] == 0
    code, _out, err = run(capsys, "apply", "-i", inv, "--plan", saved)
    assert code == 1 and "takes over record sets fleetdns does not own yet (adopt)" in err and "--adopt" in err
    assert FakeProvider.store[ZONE] == {theirs.key: theirs}
    FakeProvider.store[ZONE] = {}
    assert run(capsys, "plan", "-i", inv, "--out", plain)[0] == 0
    FakeProvider.store[ZONE] = {theirs.key: theirs}
    code, _out, err = run(capsys, "apply", "-i", inv, "--plan", plain, "--adopt")  # --adopt adds nothing the file lacks
    assert code == 1 and f"{ZONE} www A: action is 'create' in the file, 'adopt' now" in err
    assert FakeProvider.store[ZONE] == {theirs.key: theirs}
    code, out, _err = run(capsys, "apply", "-i", inv, "--plan", saved, "--adopt")
    assert code == 0 and "1 adopted" in out and "www" in str(owned_names())


@pytest.mark.parametrize("content", ["not json", "{}", '{"saved": {"format": 1, "targets": {}}}'])
def test_damaged_plan_file_is_one_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Any, content: str) -> None:
    saved = tmp_path / "plan.json"
    saved.write_text(content)
    code, _out, err = run(capsys, "apply", "-i", write_inventory(tmp_path), "--plan", str(saved))
    assert code == 1 and str(saved) in err and "Traceback" not in err and "internal error" not in err


def test_plan_file_excludes_zone(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    code, _out, err = run(capsys, "apply", "-i", write_inventory(tmp_path), "--plan", "x.json", "--zone", ZONE)
    assert code == 1 and "--zone cannot be combined with --plan" in err
