"""Many zones at once on real BIND servers: one zone's server stops while `apply` runs; the zones
after it still apply, the failure is reported with its zone, exit 1. With --fail-fast the apply
ends at that zone. A zone whose server is down before the run is reported as not planned."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from lab.bind import BindLab

from integration.test_cli import EXAMPLE, FLEETDNS, ok, run, run_on_terminal

A_RECORDS = 4000  # enough UPDATE messages that the apply of a.test. is still running when named is paused


def inventory(tmp_path: Path, first: BindLab, second: BindLab) -> Path:
    """a.test. and c.test. on `first`, b.test. on `second`, in that order."""
    providers = {"one": first.provider_options(), "two": second.provider_options()}
    many = [{"name": f"h{i}", "type": "A", "value": f"10.0.{i // 250}.{i % 250 + 1}"} for i in range(A_RECORDS)]
    data = {
        "all": {
            "vars": {
                "fleetdns_owner": "fleet",
                "fleetdns_providers": providers,
                "fleetdns_zones": {
                    "a.test": {"provider": "one", "records": many},
                    "b.test": {"provider": "two", "records": [{"name": "www", "type": "A", "value": "192.0.2.2"}]},
                    "c.test": {"provider": "one", "records": [{"name": "www", "type": "A", "value": "192.0.2.3"}]},
                },
            }
        }
    }
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def labs() -> tuple[BindLab, BindLab]:
    first = BindLab(zone="a.test.")
    first.add_zone("c.test.")
    return first, BindLab(zone="b.test.")


def apply_stopping_b_midway(tmp_path: Path, first: BindLab, second: BindLab, *extra: str) -> Any:
    """`fleetdns apply`; once it starts applying a.test. (every zone has been read by then), the
    server of a.test. is paused, the server of b.test. stopped, and the first one resumed."""
    stdout = tmp_path / "stdout.txt"  # a file: a pipe nobody reads while waiting would fill up and block
    with stdout.open("w") as sink:
        proc = subprocess.Popen(
            [str(FLEETDNS), "apply", "-i", "hosts.yml", *extra],
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
        )
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("applying ") and " to a.test. " in line:
            first.pause()
            try:
                second.stop()
            finally:
                first.resume()
            break
    rest = proc.communicate(timeout=120)[1]
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout.read_text(), "".join(lines) + rest)


def test_a_server_stopped_mid_run_fails_its_zone_and_the_others_apply(tmp_path: Path) -> None:
    first, second = labs()
    try:
        inventory(tmp_path, first, second)
        proc = ok(apply_stopping_b_midway(tmp_path, first, second), 1)
        assert "reading b.test. from two" in proc.stderr  # it was read before it stopped
        assert ": 2 of 3 zones applied in full (1 failed)" in proc.stdout, proc.stdout
        assert f"  a.test. (one): {A_RECORDS} created" in proc.stdout
        assert "  c.test. (one): 1 created" in proc.stdout
        assert "  b.test. (two): 0 of 1 change applied before the failure" in proc.stdout
        assert "error: zone b.test. (two) failed: " in proc.stderr
        assert "applied: a.test., c.test.\nnot applied: b.test." in proc.stderr
        assert first.query("www.c.test.", "A") == {"192.0.2.3"}
        assert first.query(f"h{A_RECORDS - 1}.a.test.", "A") == {f"10.0.{(A_RECORDS - 1) // 250}.250"}
    finally:
        first.stop()
        second.stop()


def test_fail_fast_ends_the_apply_at_the_failing_zone(tmp_path: Path) -> None:
    first, second = labs()
    try:
        inventory(tmp_path, first, second)
        proc = ok(apply_stopping_b_midway(tmp_path, first, second, "--fail-fast"), 1)
        assert ": 1 of 3 zones applied in full (1 failed)" in proc.stdout, proc.stdout
        assert "error: zone b.test. (two) failed: " in proc.stderr
        assert "applied: a.test.\nnot applied: b.test., c.test." in proc.stderr
        assert first.query("www.c.test.", "A") == set()
    finally:
        first.stop()
        second.stop()


def test_a_server_down_before_the_run_leaves_its_zone_unplanned(tmp_path: Path) -> None:
    first, second = labs()
    try:
        inventory(tmp_path, first, second)
        second.stop()
        plan = ok(run("plan", "-i", "hosts.yml", cwd=tmp_path), 1)
        assert "zone a.test." in plan.stdout and "zone c.test." in plan.stdout
        assert "error: zone b.test. (two) could not be planned: " in plan.stderr
        applied = ok(run("apply", "-i", "hosts.yml", cwd=tmp_path), 1)
        assert ": 2 of 2 zones applied in full (1 not planned)" in applied.stdout
        assert "  b.test. (two): not planned, nothing sent" in applied.stdout
        assert first.query("www.c.test.", "A") == {"192.0.2.3"}
    finally:
        first.stop()
        second.stop()


def test_reads_show_a_counter_on_a_terminal_and_plain_lines_elsewhere(tmp_path: Path) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    zones = data["all"]["vars"]["fleetdns_zones"]
    for i in range(3):
        zones[f"z{i}.test"] = {"records": [{"name": "www", "type": "A", "value": f"192.0.2.{i + 1}"}]}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(data))
    code, text = run_on_terminal("plan", "-i", "hosts.yml", cwd=tmp_path, env={"NO_COLOR": "1"})
    assert code == 0 and "\r  reading zones: 4/4" in text, text
    assert "reading z0.test. from default" not in text and "\x1b[" not in text  # NO_COLOR: no colour
    piped = ok(run("plan", "-i", "hosts.yml", cwd=tmp_path))
    lines = [line for line in piped.stderr.splitlines() if line.startswith("reading ")]
    assert lines == [f"reading {zone} from default" for zone in ("example.test.", "z0.test.", "z1.test.", "z2.test.")]
