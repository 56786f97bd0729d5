"""`fleetdns validate` on a fleet of 10,000 hosts with one mistake in it: exactly that one problem,
located at its line and column, with a hint, exit code 1, no traceback, nothing written.

The fleet is bigfleet.device_fleet (one name per host, zone files); each case changes one line of
it (or adds one), the way a mistake slips into a big inventory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.tests.unit.fleetdns.bigfleet import DEVICE_LINE, device_fleet

from fleetdns import cli

HOSTS = 10_000
ZONE = "fleet.test"


def host_line(index: int) -> int:
    return DEVICE_LINE + index


def device(index: int) -> str:
    return f"        dev{index:05d}: {{fleetdns_names: [dev{index:05d}.{ZONE}]}}"


@dataclass(frozen=True)
class Case:
    lines: dict[int, str]  # line number (1-based) -> its new text
    extra: str  # appended to the inventory
    line: int
    column: int
    message: str  # a fragment of the one problem reported
    hint: str  # a fragment of its hint


CASES = {
    "a bad name deep in the fleet": Case(
        {host_line(7777): "        dev07777: {fleetdns_names: [dev07777..fleet.test]}"},
        "",
        host_line(7777),
        37,
        "'dev07777..fleet.test' has an empty label",
        "fully qualified name",
    ),
    "a name listed twice by one host": Case(
        {host_line(5000): "        dev05000: {fleetdns_names: [dev05000.fleet.test, DEV05000.fleet.test.]}"},
        "",
        host_line(5000),
        58,
        f"dev05000.{ZONE}. is listed twice in the fleetdns_names of host 'dev05000' "
        f"(at hosts.yml:{host_line(5000)}:37)",
        "remove one of the two entries",
    ),
    "a name claimed by two hosts": Case(
        {host_line(9000): "        dev09000: {fleetdns_names: [dev00001.fleet.test]}"},
        "",
        host_line(9000),
        37,
        f"dev00001.{ZONE}. is already claimed by host 'dev00001' (at hosts.yml:{host_line(1)}:37)",
        "belongs to exactly one host",
    ),
    "a host whose names are set twice, in two groups": Case(
        {},
        "    spare:\n      hosts:\n        dev00002: {fleetdns_names: [spare.fleet.test]}\n",
        host_line(HOSTS) + 2,
        36,
        f"host 'dev00002' sets fleetdns_names here and differently at hosts.yml:{host_line(2)}:36",
        "in one place",
    ),
    "a name outside every zone": Case(
        {host_line(9999): "        dev09999: {fleetdns_names: [dev09999.fleet.example]}"},
        "",
        host_line(9999),
        37,
        "dev09999.fleet.example is in none of the zones in fleetdns_zones",
        f"zones: {ZONE}.",
    ),
    "a zone with an empty provider": Case(
        {9: "        provider:"}, "", 9, 18, f"zone {ZONE}. has an empty provider", "built-in provider 'default'"
    ),
    "a zone whose provider is not defined": Case(
        {9: "        provider: file"}, "", 9, 19, "unknown provider 'file'", "did you mean 'files'?"
    ),
}


def _inventory(tmp_path: Path, case: Case) -> Path:
    lines = device_fleet(HOSTS, ZONE).splitlines()
    assert lines[host_line(1234) - 1] == device(1234)  # the numbering the cases rely on
    for number, text in case.lines.items():
        lines[number - 1] = text
    path = tmp_path / "hosts.yml"
    path.write_text("\n".join(lines) + "\n" + case.extra)
    return path


@pytest.mark.parametrize("name", list(CASES))
def test_one_mistake_in_ten_thousand_hosts_is_reported_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    case = CASES[name]
    inventory = _inventory(tmp_path, case)
    monkeypatch.chdir(tmp_path)
    code = cli.main(["validate", "-i", "hosts.yml"])
    err = capsys.readouterr().err
    problems = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 1, err
    assert len(problems) == 1, err
    problem = problems[0]
    assert problem.startswith(f"error: hosts.yml:{case.line}:{case.column}: "), problem
    assert case.message in problem
    hint = re.search(r"\(hint: (.+)\)$", problem)
    assert hint and case.hint in hint[1], problem
    assert "1 problem found; nothing was read or changed" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [inventory.name]  # no zones/ written


def test_the_same_fleet_without_the_mistake_is_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _inventory(tmp_path, Case({}, "", 0, 0, "", ""))
    monkeypatch.chdir(tmp_path)
    code = cli.main(["validate", "-i", "hosts.yml"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"{HOSTS} device names" in out
