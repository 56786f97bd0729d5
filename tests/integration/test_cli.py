"""The real `fleetdns` command (the installed entry point, run as a subprocess) end to end:
on zone files with hosts.example.yml, on a real BIND with the rfc2136 provider, over the corpus of
malformed inventories, and `scripts/demo` itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "hosts.example.yml"
MALFORMED = ROOT / "tests" / "unit" / "fleetdns" / "malformed"
FLEETDNS = Path(sys.executable).parent / "fleetdns"
ZONE = "example.test."
EXPECT = re.compile(r"^#\s*expect:\s*(?:(?P<file>[^\s:]+):)?(?P<line>\d+):(?P<column>\d+)\s+(?P<text>.+?)\s*$")
VAULT_OPTION = re.compile(r"^#\s*vault-password-file:\s*(?P<value>\S+)\s*$")


def run(
    *argv: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess:
    """`fleetdns ARGV` in `cwd`, not on a terminal, with a clean FLEETDNS_* environment."""
    if not FLEETDNS.exists():
        pytest.fail(f"{FLEETDNS} not found: run `make venv`", pytrace=False)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FLEETDNS_")}
    environ.update(env or {})
    return subprocess.run(
        [str(FLEETDNS), *argv],
        cwd=cwd,
        env=environ,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def start(*argv: str, cwd: Path) -> subprocess.Popen:
    """Like run(), without waiting; finish() collects the result."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FLEETDNS_")}
    return subprocess.Popen(
        [str(FLEETDNS), *argv], cwd=cwd, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def ok(proc: subprocess.CompletedProcess, code: int = 0) -> subprocess.CompletedProcess:
    assert proc.returncode == code, f"exit {proc.returncode}, expected {code}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def save(path: Path, data: dict) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def zone_records(data: dict) -> list[dict]:
    return data["all"]["vars"]["fleetdns_zones"]["example.test"]["records"]


def move_mail(inventory: Path) -> None:
    """The edit the tests make to an inventory: mail's A record moves from 192.0.2.25 to 192.0.2.26."""
    data = load(inventory)
    for record in zone_records(data):
        if record["name"] == "mail":
            record["value"] = "192.0.2.26"
    save(inventory, data)


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- zone files (the default backend)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    shutil.copy(EXAMPLE, tmp_path / "hosts.yml")
    return tmp_path


def test_example_round_trip_on_zone_files(example: Path) -> None:
    out = ok(run("validate", "-i", "hosts.yml", cwd=example)).stdout
    assert "hosts.yml: valid." in out and "provider used: default" in out

    plan = ok(run("plan", "-i", "hosts.yml", "--detailed-exitcode", cwd=example), 2)
    assert "+ create   mail A (ttl 3600)" in plan.stdout
    assert "* register gw A" in plan.stdout
    assert "Plan: 9 to create, 4 to register (in 1 zone)." in plan.stdout
    assert not (example / "zones").exists()  # plan writes nothing

    applied = ok(run("apply", "-i", "hosts.yml", cwd=example))  # no TTY: no question asked
    assert "example.test. (default): 9 created, 4 registered" in applied.stdout
    zone_file = example / "zones" / "example.test.zone"
    text = zone_file.read_text()
    assert re.search(r"^mail\s+3600\s+IN\s+A\s+192\.0\.2\.25$", text, re.MULTILINE)
    checked = subprocess.run(
        ["named-checkzone", "example.test", str(zone_file)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    again = ok(run("apply", "-i", "hosts.yml", cwd=example))
    assert "No changes." in again.stdout and "Applied" not in again.stdout
    assert zone_file.read_text() == text  # not even the SOA serial moved
    assert "No changes." in ok(run("plan", "-i", "hosts.yml", "--detailed-exitcode", cwd=example)).stdout


def test_edit_plans_an_update_and_unowned_records_survive(example: Path) -> None:
    ok(run("apply", "-i", "hosts.yml", cwd=example))
    zone_file = example / "zones" / "example.test.zone"
    with zone_file.open("a") as handle:
        handle.write('handmade 300 IN TXT "added by hand"\n')

    move_mail(example / "hosts.yml")

    plan = ok(run("plan", "-i", "hosts.yml", "--detailed-exitcode", cwd=example), 2)
    assert "~ update   mail A (ttl 3600)\n      - 192.0.2.25\n      + 192.0.2.26" in plan.stdout
    assert "handmade" not in plan.stdout  # not ours: not in the plan at all
    ok(run("apply", "-i", "hosts.yml", "--yes", cwd=example))
    text = zone_file.read_text()
    assert re.search(r"^mail\s+3600\s+IN\s+A\s+192\.0\.2\.26$", text, re.MULTILINE)
    assert re.search(r'^handmade\s+300\s+IN\s+TXT\s+"added by hand"$', text, re.MULTILINE)
    ok(run("plan", "-i", "hosts.yml", "--detailed-exitcode", cwd=example))


def test_json_and_markdown_plans(example: Path) -> None:
    import json

    plan = ok(run("plan", "-i", "hosts.yml", "--json", cwd=example))
    data = json.loads(plan.stdout)
    assert data["changes_pending"] is True and data["counts"]["create"] == 9
    markdown = ok(run("plan", "-i", "hosts.yml", "--markdown", cwd=example)).stdout
    assert "| example.test. | default | 9 | 0 | 0 | 0 | 4 |" in markdown


def test_deleting_most_owned_records_needs_allow_deletes(example: Path) -> None:
    ok(run("apply", "-i", "hosts.yml", cwd=example))
    zone_file = example / "zones" / "example.test.zone"
    before = zone_file.read_bytes()
    inv = example / "hosts.yml"
    data = load(inv)
    del zone_records(data)[3:]  # keep 3 of the 9 declared record sets: 6 of 13 owned go
    save(inv, data)

    refused = ok(run("apply", "-i", "hosts.yml", "--yes", cwd=example), 1)
    assert "deletes 6 of the 13 record sets fleetdns owns (46%)" in refused.stderr
    assert "--allow-deletes" in refused.stderr
    assert zone_file.read_bytes() == before

    done = ok(run("apply", "-i", "hosts.yml", "--yes", "--allow-deletes", cwd=example))
    assert "6 deleted" in done.stdout
    ok(run("plan", "-i", "hosts.yml", "--detailed-exitcode", cwd=example))


def test_saved_plan_applies_only_while_inventory_and_zone_are_unchanged(example: Path) -> None:
    ok(run("plan", "-i", "hosts.yml", "--out", "plan.json", cwd=example))
    inv = example / "hosts.yml"
    original = inv.read_text()
    data = load(inv)
    zone_records(data)[0]["value"] = "ns2"
    save(inv, data)
    stale = ok(run("apply", "-i", "hosts.yml", "--plan", "plan.json", cwd=example), 1)
    assert "the inventory changed since plan.json was made" in stale.stderr
    assert not (example / "zones").exists()

    inv.write_text(original)
    ok(run("apply", "-i", "hosts.yml", "--plan", "plan.json", cwd=example))
    assert "No changes." in ok(run("plan", "-i", "hosts.yml", cwd=example)).stdout


def run_on_terminal(*argv: str, cwd: Path, env: dict[str, str] | None = None, answer: str | None = None) -> tuple:
    """`fleetdns ARGV` with stdin, stdout and stderr on a pseudo-terminal, as a person would run it."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("FLEETDNS_", "NO_COLOR"))}
    environ.update({"TERM": "xterm", **(env or {})})
    master, slave = os.openpty()
    proc = subprocess.Popen([str(FLEETDNS), *argv], cwd=cwd, env=environ, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    if answer is not None:
        os.write(master, answer.encode() + b"\n")
    output = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(master)
    return proc.wait(timeout=60), output.decode(errors="replace")


def test_colour_on_a_terminal_unless_no_color(example: Path) -> None:
    code, output = run_on_terminal("plan", "-i", "hosts.yml", cwd=example)
    assert code == 0 and "\033[32m+ create" in output
    code, output = run_on_terminal("plan", "-i", "hosts.yml", cwd=example, env={"NO_COLOR": "1"})
    assert code == 0 and "+ create" in output and "\033[" not in output
    assert "\033[" not in ok(run("plan", "-i", "hosts.yml", cwd=example)).stdout  # a pipe: no colour


def test_apply_on_a_terminal_asks_first(example: Path) -> None:
    code, output = run_on_terminal("apply", "-i", "hosts.yml", cwd=example, answer="no")
    assert code == 1 and "Apply these changes? Only 'yes' will be accepted:" in output
    assert "apply cancelled; nothing was changed" in output
    assert not (example / "zones").exists()
    code, output = run_on_terminal("apply", "-i", "hosts.yml", cwd=example, answer="yes")
    assert code == 0 and "9 created, 4 registered" in output
    code, output = run_on_terminal("apply", "-i", "hosts.yml", "--yes", cwd=example)
    assert code == 0 and "Apply these changes?" not in output and "No changes." in output


def test_demo_script_runs_offline_in_a_temp_dir(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FLEETDNS_")}
    proc = subprocess.run(
        [str(ROOT / "scripts" / "demo"), str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Plan: 9 to create, 4 to register" in proc.stdout
    assert "$ORIGIN example.test." in proc.stdout
    assert proc.stdout.rstrip().splitlines()[-1].startswith("Done.")
    assert "No changes. The DNS matches the inventory." in proc.stdout
    assert (tmp_path / "demo" / "zones" / "example.test.zone").is_file()


# ---------------------------------------------------------------- real BIND, rfc2136 provider


def bind_inventory(directory: Path, bind: Any, key: str = "admin") -> Path:
    """The example's records on the lab's BIND; the secret comes in through lookup('env', ...)."""
    data = load(EXAMPLE)
    all_vars = data["all"]["vars"]
    options = bind.provider_options(key=key)
    options["tsig_secret"] = "{{ lookup('env', 'FLEETDNS_TEST_TSIG') }}"
    all_vars["fleetdns_providers"] = {"lab": options}
    zone = all_vars["fleetdns_zones"]["example.test"]
    zone["provider"] = "lab"
    # The lab zone already holds `@ NS ns1` and `ns1 A 127.0.0.1` (not ours): leave those alone.
    zone["records"] = [r for r in zone["records"] if r["name"] != "ns1" and r["type"] != "NS"]
    path = directory / "hosts.yml"
    save(path, data)
    return path


def bind_env(bind: Any, secret: str | None = None) -> dict[str, str]:
    return {"FLEETDNS_TEST_TSIG": secret if secret is not None else bind.keys["admin"].secret}


def dig(bind: Any, name: str, rtype: str) -> list[str]:
    proc = subprocess.run(
        ["dig", "+short", "+tcp", "-p", str(bind.port), f"@{bind.host}", name, rtype],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return sorted(proc.stdout.split())


def test_bind_round_trip_and_secret_never_shown(tmp_path: Path, bind: Any) -> None:
    bind_inventory(tmp_path, bind)
    env = bind_env(bind)
    secret = bind.keys["admin"].secret
    outputs: list[str] = []

    def fleetdns(*argv: str, code: int = 0) -> subprocess.CompletedProcess:
        proc = ok(run(*argv, cwd=tmp_path, env=env), code)
        outputs.append(proc.stdout + proc.stderr)
        return proc

    fleetdns("validate", "-i", "hosts.yml", "--debug")
    plan = fleetdns("plan", "-i", "hosts.yml", "--detailed-exitcode", "--debug", code=2)
    assert "zone example.test. (provider lab)" in plan.stdout
    assert "Plan: 7 to create, 4 to register (in 1 zone)." in plan.stdout
    fleetdns("apply", "-i", "hosts.yml", "--debug")
    assert dig(bind, "mail.example.test.", "A") == ["192.0.2.25"]
    assert bind.query("www.example.test.", "CNAME") == {"gw.example.test."}
    assert bind.query("sip.example.test.", "AAAA") == {"2001:db8::5060"}
    assert bind.query("a.mail._fleetdns.example.test.", "TXT") == {'"fleetdns-owner=fleet-main"'}
    assert bind.query("a.gw._fleetdns.example.test.", "TXT") == {'"fleetdns-owner=fleet-main"'}
    assert "No changes." in fleetdns("plan", "-i", "hosts.yml", "--detailed-exitcode").stdout

    bind.nsupdate('update add handmade.example.test. 300 TXT "added by nsupdate"')
    move_mail(tmp_path / "hosts.yml")
    fleetdns("plan", "-i", "hosts.yml", "--detailed-exitcode", code=2)
    applied = fleetdns("apply", "-i", "hosts.yml", "--yes", "--debug")
    assert "example.test. (lab): 1 updated" in applied.stdout
    assert dig(bind, "mail.example.test.", "A") == ["192.0.2.26"]
    assert bind.query("handmade.example.test.", "TXT") == {'"added by nsupdate"'}
    assert bind.query("ns1.example.test.", "A") == {"127.0.0.1"}
    fleetdns("plan", "-i", "hosts.yml", "--detailed-exitcode")

    assert outputs and all(secret not in text for text in outputs)


def test_bind_concurrent_change_between_saved_plan_and_apply(tmp_path: Path, bind: Any) -> None:
    bind_inventory(tmp_path, bind)
    env = bind_env(bind)
    ok(run("apply", "-i", "hosts.yml", cwd=tmp_path, env=env))
    move_mail(tmp_path / "hosts.yml")
    ok(run("plan", "-i", "hosts.yml", "--out", "plan.json", cwd=tmp_path, env=env))
    bind.nsupdate("update delete mail.example.test. A\nupdate add mail.example.test. 3600 A 203.0.113.9")

    failed = ok(run("apply", "-i", "hosts.yml", "--plan", "plan.json", cwd=tmp_path, env=env), 1)
    assert (
        "example.test. mail A: before is ttl 3600: 192.0.2.25 in the file, ttl 3600: 203.0.113.9 now" in failed.stderr
    )
    assert "nothing was sent" in failed.stderr
    assert bind.query("mail.example.test.", "A") == {"203.0.113.9"}  # the other writer's value stands


def test_bind_wrong_secret_is_one_clear_line(tmp_path: Path, bind: Any) -> None:
    wrong = "d3JvbmctYnV0LXZhbGlkLWJhc2U2NC1zZWNyZXQtMDA="
    bind_inventory(tmp_path, bind)
    proc = ok(run("plan", "-i", "hosts.yml", cwd=tmp_path, env=bind_env(bind, wrong)), 1)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == errors[0]
    assert wrong not in proc.stdout + proc.stderr
    debug = run("plan", "-i", "hosts.yml", "--debug", cwd=tmp_path, env=bind_env(bind, wrong))
    assert debug.returncode == 1
    assert wrong not in debug.stdout + debug.stderr
    assert bind.keys["admin"].secret not in debug.stdout + debug.stderr


def test_vault_encrypted_secret_works_and_is_never_shown(tmp_path: Path, bind: Any) -> None:
    vault_bin = Path(sys.executable).parent / "ansible-vault"
    password = tmp_path / "vault-pass"
    password.write_text("correct horse battery staple\n")
    secret = bind.keys["admin"].secret
    encrypted = subprocess.run(
        [str(vault_bin), "encrypt_string", "--vault-password-file", str(password), secret, "--name", "tsig_secret"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    inv = bind_inventory(tmp_path, bind)
    text = inv.read_text().replace("tsig_secret: '{{ lookup(''env'', ''FLEETDNS_TEST_TSIG'') }}'", "PLACEHOLDER")
    assert "PLACEHOLDER" in text
    indent = re.search(r"^( *)PLACEHOLDER", text, re.MULTILINE).group(1)
    block = "\n".join(indent + line if i else line for i, line in enumerate(encrypted.strip().splitlines()))
    inv.write_text(text.replace("PLACEHOLDER", block))

    outputs = []
    for argv, code in ((["validate"], 0), (["plan", "--debug"], 0), (["apply", "--yes", "--debug"], 0)):
        proc = ok(run(*argv, "-i", "hosts.yml", "--vault-password-file", "vault-pass", cwd=tmp_path), code)
        outputs.append(proc.stdout + proc.stderr)
    assert bind.query("mail.example.test.", "A") == {"192.0.2.25"}
    assert all(secret not in text and "correct horse" not in text for text in outputs)


# ---------------------------------------------------------------- malformed inventories
# The corpus format is tests/unit/fleetdns/test_malformed.py's (see malformed/README.md): a case is a
# file `malformed/<case>[.yml|.ini]` or a directory `malformed/<case>/` with `hosts.yml`; the
# inventory's leading comment lines hold `# expect: [FILE:]LINE:COL fragment` (one per problem) and
# `# vault-password-file: FILE`.


def malformed_cases() -> list[Path]:
    if not MALFORMED.is_dir():
        return []
    return sorted(
        p
        for p in MALFORMED.iterdir()
        if not p.name.startswith(".")
        and ((p.is_dir() and (p / "hosts.yml").is_file()) or (p.is_file() and p.suffix not in (".md", ".txt")))
    )


def case_header(inventory: Path) -> tuple[list[tuple[str, str, str, str]], str | None]:
    expected, vault = [], None
    for text in inventory.read_text(encoding="utf-8", errors="replace").splitlines():
        if not text.startswith("#"):
            break
        if match := EXPECT.match(text):
            file = match["file"] or inventory.name
            expected.append((file, match["line"], match["column"], match["text"]))
        elif match := VAULT_OPTION.match(text):
            vault = match["value"]
    return expected, vault


def test_malformed_corpus_is_there() -> None:
    assert len(malformed_cases()) >= 30, f"expected at least 30 malformed inventories in {MALFORMED}"


@pytest.mark.parametrize("case", malformed_cases(), ids=lambda p: p.name)
def test_malformed_inventory_is_located_and_changes_nothing(tmp_path: Path, case: Path) -> None:
    root = tmp_path / "case"
    if case.is_dir():
        shutil.copytree(case, root)
        inventory = root / "hosts.yml"
    else:
        root.mkdir()
        inventory = root / case.name
        shutil.copy(case, inventory)
    expected, vault = case_header(inventory)
    assert expected, f"{case.name}: no '# expect: [FILE:]LINE:COL message fragment' line"
    zones = root / "zones"
    zones.mkdir(exist_ok=True)
    (zones / "example.test.zone").write_text(
        "$ORIGIN example.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n"
        "@ IN NS ns1\nns1 IN A 192.0.2.53\n"
    )
    before = snapshot(root)
    options = ["-i", inventory.name] + (["--vault-password-file", vault] if vault else [])

    # Both at once (they only read), so the corpus costs one process start per case, not two.
    validating = start("validate", *options, cwd=root)
    applying = start("apply", *options, "--yes", "--allow-deletes", cwd=root)
    proc, applied = finish(validating), finish(applying)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    for file, line, column, fragment in expected:
        located = [text for text in proc.stderr.splitlines() if f"{file}:{line}:{column}:" in text]
        assert located, f"no problem located at {file}:{line}:{column}:\n{proc.stderr}"
        assert any(fragment.lower() in text.lower() for text in located), proc.stderr

    assert applied.returncode == 1, applied.stdout + applied.stderr
    assert "Traceback" not in applied.stderr and "reading" not in applied.stderr
    assert snapshot(root) == before
