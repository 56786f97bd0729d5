"""Saved plans under attack, with the real `fleetdns` command on zone files, a real BIND and the
Cloudflare emulator: every kind of edit to a plan file is refused with a short message saying where
and what, exit 1, and the backend holds exactly what it held (file bytes / AXFR / emulator writes);
the untouched plan then applies. Also `plan --out` through a symlink, onto a FIFO and onto a
/dev/stdout-like descriptor link, and the summaries of an apply that stopped inside a zone: a later
UPDATE message refused by BIND, and Ctrl-C (SIGINT to the CLI) in the middle of a large zone.
"""

from __future__ import annotations

import copy
import json
import os
import pty
import re
import select
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from emulators.cloudflare import CloudflareEmulator

from integration.test_cli import FLEETDNS, ok, run

ZONE = "example.test."
PRINTER = ("printer.example.test.", "A", "192.0.2.50")  # on every backend, not owned by fleetdns
LONGEST_LINE = 400  # "short": no line of a refusal is longer than this
LONGEST_MESSAGE = 3000


def inventory(provider: dict, records: list[dict]) -> dict:
    return {
        "all": {
            "vars": {
                "fleetdns_owner": "fleet-main",
                "fleetdns_providers": {"lab": provider},
                "fleetdns_zones": {"example.test": {"provider": "lab", "default_ttl": 300, "records": records}},
            },
            "children": {"fleetdns_clients": {"hosts": {"gw": {"fleetdns_names": ["gw.example.test"]}}}},
        }
    }


FIRST = [
    {"name": "www", "type": "A", "value": "192.0.2.1"},
    {"name": "mail", "type": "A", "value": "192.0.2.25"},
    {"name": "old", "type": "TXT", "value": "going away"},
]
# The second inventory: mail moves (update), old goes (delete), api comes (create).
SECOND = [
    FIRST[0],
    {"name": "mail", "type": "A", "value": "192.0.2.26"},
    {"name": "api", "type": "A", "value": "192.0.2.40"},
]


@dataclass
class Backend:
    """One backend the CLI talks to, and a way to read everything it holds."""

    provider: dict
    env: dict[str, str]
    snapshot: Callable[[], Any]
    add_unowned: Callable[[], None]


def zonefile_backend(tmp_path: Path) -> Backend:
    zones = tmp_path / "zones"

    def snapshot() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(zones.iterdir())}

    def add_unowned() -> None:
        with (zones / "example.test.zone").open("a") as handle:
            handle.write(f"printer 300 IN A {PRINTER[2]}\n")

    return Backend({"type": "zonefile", "directory": "zones"}, {}, snapshot, add_unowned)


def bind_backend(bind: Any) -> Backend:
    options = bind.provider_options()
    options["tsig_secret"] = "{{ lookup('env', 'FLEETDNS_TEST_TSIG') }}"
    return Backend(
        options,
        {"FLEETDNS_TEST_TSIG": bind.keys["admin"].secret},
        bind.axfr_text,
        lambda: bind.nsupdate(f"update add {PRINTER[0]} 300 A {PRINTER[2]}"),
    )


def cloudflare_backend(cf: CloudflareEmulator) -> Backend:
    zone = cf.add_zone("example.test")
    provider = {
        "type": "cloudflare",
        "api_token": "{{ lookup('env', 'FLEETDNS_TEST_CF_TOKEN') }}",
        "base_url": cf.https_url,
        "ca_bundle": cf.ca_file,
    }

    def snapshot() -> tuple:
        writes = [r for r in cf.requests if r["method"] != "GET"]
        return json.dumps(cf.records(zone), sort_keys=True), len(writes)

    def add_unowned() -> None:
        cf.add_record(zone, name="printer", type="A", content=PRINTER[2], comment="office")

    return Backend(provider, {"FLEETDNS_TEST_CF_TOKEN": cf.token}, snapshot, add_unowned)


@pytest.fixture(params=["zonefile", "bind", "cloudflare"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "zonefile":
        yield zonefile_backend(tmp_path)
    elif request.param == "bind":
        yield bind_backend(request.getfixturevalue("bind"))
    else:
        with CloudflareEmulator(tls_dir=tmp_path / "tls") as cf:
            yield cloudflare_backend(cf)


# ---------------------------------------------------------------- tampering


def change(data: dict, name: str) -> dict:
    """The change for `name` (relative) in the plan file's only zone."""
    (found,) = [c for c in data["zones"][0]["changes"] if c["name"] == f"{name}.{ZONE}"]
    return found


def index_of(data: dict, name: str) -> int:
    return data["zones"][0]["changes"].index(change(data, name))


def unowned_delete(owned_before: bool) -> dict:
    name, rtype, value = PRINTER
    before = {"name": name, "type": rtype, "ttl": 300, "values": [value]}
    return {
        "action": "delete",
        "name": name,
        "type": rtype,
        "before": before,
        "after": None,
        "owned_before": owned_before,
        "owned_after": False,
    }


def replace_delete(data: dict, owned_before: bool) -> None:
    changes = data["zones"][0]["changes"]
    changes[index_of(data, "old")] = unowned_delete(owned_before)


def setitem(target: dict, key: str, value: Any) -> None:
    target[key] = value


# (what is done to the file, how, what the refusal must say); the file is parsed JSON unless the
# action returns text.
TAMPERING: list[tuple[str, Callable[[dict], Any], str]] = [
    (
        "a changed after value",
        lambda d: setitem(change(d, "mail")["after"], "values", ["203.0.113.66"]),
        f"{ZONE} mail A: after is ttl 300: 203.0.113.66 in the file, ttl 300: 192.0.2.26 now",
    ),
    (
        "a changed before value",
        lambda d: setitem(change(d, "mail")["before"], "values", ["192.0.2.99"]),
        f"{ZONE} mail A: before is ttl 300: 192.0.2.99 in the file, ttl 300: 192.0.2.25 now",
    ),
    (
        "owned_before flipped",
        lambda d: setitem(change(d, "api"), "owned_before", True),
        f"{ZONE} api A: owned_before is true in the file, false now",
    ),
    (
        "owned_after flipped",
        lambda d: setitem(change(d, "mail"), "owned_after", False),
        f"{ZONE} mail A: owned_after is false in the file, true now",
    ),
    (
        "a change replaced by a delete of an unowned record",
        lambda d: replace_delete(d, owned_before=False),
        f"{ZONE} printer A: the file would delete it; a plan made now leaves it alone",
    ),
    (
        "the same, claiming we own it",
        lambda d: replace_delete(d, owned_before=True),
        f"{ZONE} printer A: the file would delete it; a plan made now leaves it alone",
    ),
    (
        "an added change",
        lambda d: d["zones"][0]["changes"].append({**unowned_delete(False), "action": "create", "before": None}),
        f"{ZONE} printer A: the file would create it",
    ),
    (
        "a removed change",
        lambda d: d["zones"][0]["changes"].pop(index_of(d, "api")),
        f"{ZONE} api A: a plan made now would create it; the file has no change for it",
    ),
    (
        "a name with a newline and $INCLUDE",
        lambda d: setitem(change(d, "api"), "name", "api.example.test.\n$INCLUDE /etc/passwd"),
        r"not a DNS name: 'api.example.test.\n$INCLUDE /etc/passwd'",
    ),
    (
        "$INCLUDE as a name",
        lambda d: setitem(change(d, "api"), "name", "$INCLUDE/etc/passwd."),
        "$INCLUDE/etc/passwd. A: the file would create it",
    ),
    (
        "another owner id",
        lambda d: setitem(d, "owner", "fleet-other"),
        "was made for owner id 'fleet-other', but the inventory now says 'fleet-main'",
    ),
    (
        "another fleetdns version",
        lambda d: setitem(d["saved"], "fleetdns", "0.0.1"),
        "cannot be applied: it was made by fleetdns 0.0.1, this is ",
    ),
    (
        "another inventory",
        lambda d: setitem(d["saved"]["targets"], ZONE, "0" * 64),
        "the inventory changed since plan.json was made (example.test.: its records",
    ),
    (
        "a zone this inventory does not have",
        lambda d: (setitem(d["zones"][0], "zone", "other.test."), setitem(d["saved"], "targets", {"other.test.": ""})),
        "other.test. is no longer in fleetdns_zones",
    ),
    ("garbage", lambda d: "{this is not json", "plan.json is not a fleetdns plan file (invalid JSON"),
    ("nested a million deep", lambda d: "[" * 1_000_000, "plan.json is not a fleetdns plan file (invalid JSON"),
    (
        "a string for a flag",
        lambda d: setitem(change(d, "mail"), "owned_before", "false"),
        '.owned_before: expected true or false, found "false"',
    ),
    (
        "a string for a TTL",
        lambda d: setitem(change(d, "mail")["after"], "ttl", "300"),
        '.after.ttl: expected a whole number, found "300"',
    ),
    (
        "a string for the values",
        lambda d: setitem(change(d, "mail")["after"], "values", "192.0.2.26"),
        ".after.values: expected a list, found a string",
    ),
    (
        "zones not a list",
        lambda d: setitem(d, "zones", {"example.test.": []}),
        "zones: expected a list, found an object",
    ),
    (
        "an unknown action",
        lambda d: setitem(change(d, "mail"), "action", "replace"),
        ".action: unknown action 'replace'",
    ),
    (
        "a change listed twice",
        lambda d: d["zones"][0]["changes"].append(copy.deepcopy(change(d, "mail"))),
        "a second change for mail.example.test. A",
    ),
    (
        "a 100,000-character value",
        lambda d: setitem(change(d, "old")["before"], "values", ["x" * 100_000]),
        '(100009 characters) in the file, ttl 300: "going away" now',
    ),
]


def test_every_tampered_plan_is_refused_and_changes_nothing(tmp_path: Path, backend: Backend) -> None:
    hosts = tmp_path / "hosts.yml"

    def fleetdns(*argv: str, code: int = 0) -> subprocess.CompletedProcess:
        return ok(run(*argv, "-i", "hosts.yml", cwd=tmp_path, env=backend.env), code)

    hosts.write_text(yaml.safe_dump(inventory(backend.provider, FIRST)))
    fleetdns("apply")
    backend.add_unowned()
    hosts.write_text(yaml.safe_dump(inventory(backend.provider, SECOND)))
    fleetdns("plan", "--out", "plan.json")
    saved = json.loads((tmp_path / "plan.json").read_text())
    assert [c["action"] for c in saved["zones"][0]["changes"]] == ["create", "update", "delete"]  # api, mail, old
    before = backend.snapshot()

    for what, tamper, expected in TAMPERING:
        data = copy.deepcopy(saved)
        text = tamper(data)
        (tmp_path / "plan.json").write_text(text if isinstance(text, str) else json.dumps(data))
        refused = fleetdns("apply", "--plan", "plan.json", code=1)
        assert expected in refused.stderr, f"{what}:\n{refused.stderr}"
        assert "plan.json" in refused.stderr, what
        assert len(refused.stderr) < LONGEST_MESSAGE, what
        assert max(len(line) for line in refused.stderr.splitlines()) < LONGEST_LINE, f"{what}:\n{refused.stderr}"
        assert backend.snapshot() == before, f"{what}: the backend changed"

    huge = tmp_path / "plan.json"
    with huge.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024 + 1)
    assert "plan.json is larger than 64 MiB" in fleetdns("apply", "--plan", "plan.json", code=1).stderr
    assert backend.snapshot() == before

    (tmp_path / "plan.json").write_text(json.dumps(saved))
    applied = fleetdns("apply", "--plan", "plan.json")
    assert "example.test. (lab): 1 created, 1 updated, 1 deleted" in applied.stdout
    assert "No changes." in fleetdns("plan").stdout
    assert backend.snapshot() != before


def test_a_signed_plan_applies_only_with_its_key(tmp_path: Path) -> None:
    backend = zonefile_backend(tmp_path)
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory(backend.provider, FIRST)))
    key = {"FLEETDNS_PLAN_SECRET": "k3y-for-signing-plans-0123456789"}
    other = {"FLEETDNS_PLAN_SECRET": "an0ther-key-for-signing-plans-99"}

    def fleetdns(env: dict, *argv: str, code: int = 0) -> subprocess.CompletedProcess:
        return ok(run(*argv, "-i", "hosts.yml", cwd=tmp_path, env=env), code)

    fleetdns(key, "plan", "--out", "plan.json")
    assert json.loads((tmp_path / "plan.json").read_text())["saved"]["signature"].startswith("hmac-sha256:")
    refusals = {
        "is signed, but FLEETDNS_PLAN_SECRET is not set here": {},
        "the signature does not match": other,
    }
    for expected, env in refusals.items():
        refused = fleetdns(env, "apply", "--plan", "plan.json", code=1)
        assert expected in refused.stderr and not (tmp_path / "zones").exists()
        assert "k3y-for" not in refused.stdout + refused.stderr
    fleetdns({}, "plan", "--out", "unsigned.json")
    assert (
        "is not signed, and FLEETDNS_PLAN_SECRET is set"
        in fleetdns(key, "apply", "--plan", "unsigned.json", code=1).stderr
    )
    assert not (tmp_path / "zones").exists()
    assert "example.test. (lab): 3 created, 2 registered" in fleetdns(key, "apply", "--plan", "plan.json").stdout


# ---------------------------------------------------------------- where plan --out writes


def test_plan_out_writes_through_a_symlink_and_onto_pipes_in_place(tmp_path: Path) -> None:
    backend = zonefile_backend(tmp_path)
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory(backend.provider, FIRST)))
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "current.json").write_text("old")
    (tmp_path / "link.json").symlink_to("plans/current.json")
    ok(run("plan", "-i", "hosts.yml", "--out", "link.json", cwd=tmp_path))
    assert os.readlink(tmp_path / "link.json") == "plans/current.json"
    assert json.loads((tmp_path / "plans" / "current.json").read_text())["saved"]["format"] == 1
    assert sorted(p.name for p in (tmp_path / "plans").iterdir()) == ["current.json"]  # no temp file left

    # the shape of /dev/stdout: a link to the process's descriptor 1 (here a pipe)
    (tmp_path / "stdout").symlink_to("/proc/self/fd/1")
    proc = ok(run("plan", "-i", "hosts.yml", "--out", "stdout", cwd=tmp_path))
    assert os.readlink(tmp_path / "stdout") == "/proc/self/fd/1"
    assert '"saved": {' in proc.stdout

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    ok(run("plan", "-i", "hosts.yml", "--out", "fifo", cwd=tmp_path))
    reader.join(30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(received[0])["saved"]["format"] == 1


# ---------------------------------------------------------------- an apply that stops inside a zone


def many(count: int) -> list[dict]:
    return [
        {"name": f"h{i:05d}", "type": "A", "value": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"} for i in range(count)
    ]


def zone_inventory(bind: Any, zone: str, records: list[dict]) -> dict:
    data = inventory(bind_backend(bind).provider, records)
    data["all"]["vars"]["fleetdns_zones"] = {zone: {"provider": "lab", "default_ttl": 300, "records": records}}
    del data["all"]["children"]
    return data


def host_records(bind: Any, zone: str) -> int:
    return len(re.findall(r"^h\d{5}\." + re.escape(zone) + r"\s+\d+\s+IN\s+A\s", bind.axfr_text(zone), re.MULTILINE))


def test_bind_refusing_a_later_update_message_is_summarised_with_counts(tmp_path: Path, bind: Any) -> None:
    # BIND refuses (SERVFAIL) an update that would take the zone past max-records: with a record and
    # its marker per change, the first messages fit and a later one does not.
    bind.add_zone("big.test", options="max-records 2500;")
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(zone_inventory(bind, "big.test", many(3000))))
    failed = ok(run("apply", "-i", "hosts.yml", cwd=tmp_path, env=bind_backend(bind).env), 1)
    match = re.search(
        r"^  big\.test\. \(lab\): ([\d,]+) of 3,000 changes applied before the failure$", failed.stdout, re.M
    )
    assert match, failed.stdout + failed.stderr
    done = int(match.group(1).replace(",", ""))
    assert 0 < done < 3000
    assert host_records(bind, "big.test.") == done  # exactly what went in
    assert f"partly applied: big.test. ({done:,} of 3,000 changes)" in failed.stderr
    assert "SERVFAIL" in failed.stderr and ": 0 of 1 zone applied in full" in failed.stdout


def test_ctrl_c_in_the_middle_of_a_large_zone_says_how_much_went_in(tmp_path: Path, bind: Any) -> None:
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(zone_inventory(bind, ZONE, many(10_000))))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FLEETDNS_")}
    environ.update(bind_backend(bind).env)
    # stderr on a terminal, so the CLI shows its live counter: SIGINT goes right after the first one
    controller, terminal = pty.openpty()
    stdout = tmp_path / "stdout.txt"  # a file, not a pipe: the 10,000-line plan must not block the CLI
    with stdout.open("w") as out_file:
        proc = subprocess.Popen(
            [str(FLEETDNS), "apply", "--yes", "-i", "hosts.yml"],
            cwd=tmp_path,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=out_file,
            stderr=terminal,
        )
    os.close(terminal)
    seen = b""
    deadline = time.monotonic() + 120
    while not re.search(rb"example\.test\.: [1-9]\d*/10000", seen) and time.monotonic() < deadline:
        if select.select([controller], [], [], 1)[0]:
            seen += os.read(controller, 4096)
    proc.send_signal(signal.SIGINT)
    while True:  # the rest of stderr, until the CLI closes the terminal
        try:
            chunk = os.read(controller, 4096) if select.select([controller], [], [], 60)[0] else b""
        except OSError:  # EIO: the other end is closed
            chunk = b""
        if not chunk:
            break
        seen += chunk
    proc.wait(60)
    os.close(controller)
    out = stdout.read_text()
    err = seen.decode(errors="replace")
    assert proc.returncode == 130, out + err
    match = re.search(
        r"^  example\.test\. \(lab\): ([\d,]+) of 10,000 changes applied before the interrupt$", out, re.M
    )
    assert match, out + err
    done = int(match.group(1).replace(",", ""))
    assert 0 < done < 10_000
    # the message in flight when Ctrl-C came may have gone in without its answer being read
    assert done <= host_records(bind, ZONE) < 10_000
    assert f"partly applied: example.test. ({done:,} of 10,000 changes)" in err
    assert "applied: none" not in err and "Traceback" not in err
