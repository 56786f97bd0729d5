"""`fleetdns import --zone` end to end with the real command: a zone holding every record type an
inventory can declare is imported from a real BIND (AXFR), from a zone file and from the Cloudflare
emulator; planning afterwards shows no change; `--own` marks the records and nothing else; what the
inventory held before is kept byte for byte; bad input changes no file."""

from __future__ import annotations

import difflib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from emulators.cloudflare import CloudflareEmulator

from integration.test_cli import EXAMPLE, ok, run

# Every type an inventory can declare, as nsupdate / a zone file writes it (relative to the zone).
RECORDS = [
    ("@", 300, "MX", "10 mail"),
    ("@", 300, "MX", "20 mail2.other.test."),
    ("@", 300, "TXT", '"v=spf1 mx -all"'),
    ("@", 300, "CAA", '0 issue "letsencrypt.org"'),
    ("mail", 300, "A", "192.0.2.25"),
    ("mail", 300, "AAAA", "2001:db8::25"),
    ("www", 600, "CNAME", "mail"),
    ("long", 300, "TXT", '"first string" "second; with \\"quotes\\""'),
    ("_sip._tcp", 300, "SRV", "10 5 5060 mail"),
    ("ptr", 300, "PTR", "host.other.test."),
    ("ssh", 300, "SSHFP", "1 1 123456789abcdef67890123456789abcdef67890"),
    ("_443._tcp", 300, "TLSA", "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
    ("sip", 300, "NAPTR", '100 10 "u" "E2U+sip" "!^.*$!sip:info@example.test!" .'),
    ("loc", 300, "LOC", "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m"),
    ("svc", 300, "SVCB", "1 mail alpn=h2"),
    ("web", 300, "HTTPS", "1 . alpn=h2,h3"),
    ("child", 300, "NS", "ns.child"),
    ("ns.child", 300, "A", "192.0.2.99"),
    ("child", 300, "DS", "12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
    ("old", 300, "DNAME", "other.test."),
    ("*.wild", 300, "A", "192.0.2.7"),
    ("odd", 300, "TXT", '"yes"'),
    ("hinfo", 300, "HINFO", '"x86" "linux"'),  # not declarable: listed as left out
]
DECLARABLE = {(name, rtype) for name, _ttl, rtype, _value in RECORDS if rtype != "HINFO"}


def keys_of_inventory(path: Path, zone: str = "example.test") -> set[tuple[str, str]]:
    import yaml

    data = yaml.safe_load(path.read_text())
    return {(r["name"], r["type"]) for r in data["all"]["vars"]["fleetdns_zones"][zone]["records"]}


def only_insertions(before: str, after: str) -> None:
    """Every line of `before` is in `after`, unchanged and in order; `after` only adds lines."""
    matcher = difflib.SequenceMatcher(None, before.splitlines(True), after.splitlines(True), autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        assert tag in ("equal", "insert"), f"{tag} of lines {i1 + 1}-{i2} of the original"


def plan_is_clean(cwd: Path, env: dict[str, str] | None = None, zone: str = "example.test") -> str:
    planned = ok(run("plan", "-i", "hosts.yml", "--zone", zone, "--detailed-exitcode", cwd=cwd, env=env))
    assert "No changes." in planned.stdout
    return planned.stdout


# ---------------------------------------------------------------- BIND over AXFR


BIND_INVENTORY = """\
# The lab: BIND on 127.0.0.1.
all:
  vars:
    fleetdns_owner: fleet-main   # who we are
    fleetdns_providers:
      lab:
        type: rfc2136
        server: 127.0.0.1
        port: {port}
        tsig_key_name: fleet-admin
        tsig_algorithm: hmac-sha256
        tsig_secret: "{{{{ lookup('env', 'FLEETDNS_TEST_TSIG') }}}}"
        timeout: 5

    # nothing here yet: the zone comes from the import
    fleetdns_zones: {{}}
"""


def bind_setup(tmp_path: Path, bind: Any) -> dict[str, str]:
    lines = []
    for name, ttl, rtype, value in RECORDS:
        owner = bind.zone if name == "@" else f"{name}.{bind.zone}"
        words = value.split()
        if rtype in ("MX", "SRV", "CNAME", "NS") and not words[-1].endswith("."):
            words[-1] += f".{bind.zone}"  # nsupdate reads relative names from the root
        if rtype == "SVCB":
            words[1] += f".{bind.zone}"
        target = " ".join(words)
        lines.append(f"update add {owner} {ttl} {rtype} {target}")
    bind.nsupdate("\n".join(lines))
    (tmp_path / "hosts.yml").write_text(BIND_INVENTORY.format(port=bind.port))
    return {"FLEETDNS_TEST_TSIG": bind.keys["admin"].secret}


def test_import_from_bind_then_plan_shows_no_change_and_own_marks_them(tmp_path: Path, bind: Any) -> None:
    env = bind_setup(tmp_path, bind)
    before = (tmp_path / "hosts.yml").read_text()
    axfr_before = bind.axfr_text()

    imported = ok(
        run("import", "-i", "hosts.yml", "--zone", "example.test", "--provider", "lab", cwd=tmp_path, env=env)
    )
    assert "hinfo HINFO: the HINFO type is not declared in an inventory" in imported.stdout
    assert bind.keys["admin"].secret not in imported.stdout + imported.stderr
    after = (tmp_path / "hosts.yml").read_text()
    # the head of the file, its comments and the provider are as they were, byte for byte
    assert after.startswith(before[: before.index("    # nothing here yet")])
    assert "    # nothing here yet: the zone comes from the import\n    fleetdns_zones:\n      example.test:\n" in after
    assert keys_of_inventory(tmp_path / "hosts.yml") == DECLARABLE | {("@", "NS"), ("ns1", "A")}
    assert bind.axfr_text() == axfr_before  # importing reads, never writes

    out = plan_is_clean(tmp_path, env)
    assert "www CNAME exists as declared but is not owned" in out

    ok(run("import", "-i", "hosts.yml", "--zone", "example.test", cwd=tmp_path, env=env))  # twice: no change
    assert (tmp_path / "hosts.yml").read_text() == after

    owned = ok(run("import", "-i", "hosts.yml", "--zone", "example.test", "--own", cwd=tmp_path, env=env))
    assert "imported 0 record sets" in owned.stdout  # what an earlier import declared is owned now
    assert f"marked {len(DECLARABLE) + 2} record sets as owned by 'fleet-main'" in owned.stdout
    assert (tmp_path / "hosts.yml").read_text() == after
    assert "not owned" not in plan_is_clean(tmp_path, env)


def test_import_with_own_marks_exactly_the_imported_record_sets(tmp_path: Path, bind: Any) -> None:
    env = bind_setup(tmp_path, bind)
    imported = ok(
        run("import", "-i", "hosts.yml", "--zone", "example.test", "--provider", "lab", "--own", cwd=tmp_path, env=env)
    )
    count = len(DECLARABLE) + 2  # and the lab's apex NS and ns1 A
    assert f"marked {count} record sets as owned by 'fleet-main'" in imported.stdout
    assert bind.query(f"cname.www._fleetdns.{bind.zone}", "TXT") == {'"fleetdns-owner=fleet-main"'}
    assert bind.query(f"a.wildcard-.wild._fleetdns.{bind.zone}", "TXT") == {'"fleetdns-owner=fleet-main"'}
    assert bind.query(f"hinfo.hinfo._fleetdns.{bind.zone}", "TXT") == set()
    out = plan_is_clean(tmp_path, env)
    assert "not owned" not in out
    assert bind.query(f"www.{bind.zone}", "CNAME") == {f"mail.{bind.zone}"}  # data untouched


def test_import_bad_input_changes_nothing(tmp_path: Path, bind: Any) -> None:
    env = bind_setup(tmp_path, bind)
    inventory = tmp_path / "hosts.yml"
    before = inventory.read_bytes()

    unknown = run("import", "-i", "hosts.yml", "--zone", "nope.test", "--provider", "lab", cwd=tmp_path, env=env)
    ok(unknown, 1)
    assert "does not serve zone nope.test." in unknown.stderr
    assert inventory.read_bytes() == before

    no_provider = run("import", "-i", "hosts.yml", "--zone", "example.test", cwd=tmp_path, env=env)
    ok(no_provider, 1)
    assert "say which provider" in no_provider.stderr and "--provider NAME" in no_provider.stderr

    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.fail("chattr not found: install e2fsprogs", pytrace=False)
    subprocess.run([chattr, "+i", str(inventory)], check=True)
    try:
        locked = run("import", "-i", "hosts.yml", "--zone", "example.test", "--provider", "lab", cwd=tmp_path, env=env)
    finally:
        subprocess.run([chattr, "-i", str(inventory)], check=True)
    ok(locked, 1)
    assert "hosts.yml" in locked.stderr and "not writable; nothing was written" in locked.stderr
    assert inventory.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".hosts.yml")]  # no temp file left

    bind.stop()
    down = run("import", "-i", "hosts.yml", "--zone", "example.test", "--provider", "lab", cwd=tmp_path, env=env)
    ok(down, 1)
    assert "127.0.0.1" in down.stderr and "Traceback" not in down.stderr
    assert inventory.read_bytes() == before


def test_import_without_transfer_rights_is_refused(tmp_path: Path, bind: Any) -> None:
    env = bind_setup(tmp_path, bind)
    text = (tmp_path / "hosts.yml").read_text().replace("fleet-admin", "noxfr")
    (tmp_path / "hosts.yml").write_text(text)
    before = (tmp_path / "hosts.yml").read_bytes()
    env = {"FLEETDNS_TEST_TSIG": bind.keys["noxfr"].secret}
    refused = run("import", "-i", "hosts.yml", "--zone", "example.test", "--provider", "lab", cwd=tmp_path, env=env)
    ok(refused, 1)
    assert "could not be listed whole" in refused.stderr
    assert (tmp_path / "hosts.yml").read_bytes() == before


# ---------------------------------------------------------------- zone files


def zone_file_text(origin: str) -> str:
    lines = [
        f"$ORIGIN {origin}",
        "$TTL 300",
        "@ IN SOA ns1 hostmaster 1 3600 900 1209600 300",
        "@ NS ns1",
        "ns1 A 192.0.2.53",
    ]
    lines += [f"{name} {ttl} {rtype} {value}" for name, ttl, rtype, value in RECORDS]
    return "\n".join(lines) + "\n"


def test_import_from_a_zone_file_into_the_example_inventory_keeps_it_byte_for_byte(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "hosts.yml")
    (tmp_path / "zones").mkdir()
    (tmp_path / "zones" / "example.org.zone").write_text(zone_file_text("example.org."))
    before = (tmp_path / "hosts.yml").read_text()

    dry = ok(
        run("import", "-i", "hosts.yml", "--zone", "example.org", "--provider", "default", "--dry-run", cwd=tmp_path)
    )
    assert "+      example.org:" in dry.stdout and "would import" in dry.stdout
    assert (tmp_path / "hosts.yml").read_text() == before

    ok(run("import", "-i", "hosts.yml", "--zone", "example.org", "--provider", "default", cwd=tmp_path))
    after = (tmp_path / "hosts.yml").read_text()
    only_insertions(before, after)
    assert keys_of_inventory(tmp_path / "hosts.yml", "example.org") == DECLARABLE | {("@", "NS"), ("ns1", "A")}
    assert "      example.org:\n        default_ttl: 300\n        records:\n          - {name: " in after
    assert '{name: odd, type: TXT, value: "yes"}' in after  # YAML 1.1 would read yes as true
    assert "{name: www, type: CNAME, value: mail.example.org., ttl: 600}" in after
    plan_is_clean(tmp_path, zone="example.org")
    ok(run("validate", "-i", "hosts.yml", cwd=tmp_path))


def test_import_merges_into_a_declared_zone_and_keeps_what_it_declares(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "hosts.yml")
    ok(run("apply", "-i", "hosts.yml", cwd=tmp_path))  # the zone file, with what the inventory declares
    zone_file = tmp_path / "zones" / "example.test.zone"
    text = zone_file.read_text().replace("192.0.2.25", "192.0.2.26")  # changed by hand since
    extra = [
        f"{n} {ttl} IN {t} {v}"
        for n, ttl, t, v in RECORDS
        if (n, t)
        not in {("@", "MX"), ("@", "TXT"), ("@", "CAA"), ("mail", "A"), ("www", "CNAME"), ("_sip._tcp", "SRV")}
    ]
    zone_file.write_text(text + "\n".join(extra) + "\n")
    before = (tmp_path / "hosts.yml").read_text()

    merged = ok(run("import", "-i", "hosts.yml", "--zone", "example.test", cwd=tmp_path))
    assert "mail A: declared already with ttl 3600: 192.0.2.25; the zone holds ttl 3600: 192.0.2.26" in merged.stdout
    assert "8 already declared as the zone holds them" in merged.stdout
    after = (tmp_path / "hosts.yml").read_text()
    only_insertions(before, after)
    new_lines = [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line.startswith("+ ")]
    assert new_lines and all(line.startswith(("+           - ", "+             ")) for line in new_lines), new_lines
    assert keys_of_inventory(tmp_path / "hosts.yml") >= DECLARABLE
    planned = ok(run("plan", "-i", "hosts.yml", "--detailed-exitcode", cwd=tmp_path), 2)
    assert "Plan: 1 to update (in 1 zone)." in planned.stdout  # the inventory's mail A, nothing else


def test_unknown_zone_file_is_an_error(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "hosts.yml")
    failed = run("import", "-i", "hosts.yml", "--zone", "missing.test", "--provider", "default", cwd=tmp_path)
    ok(failed, 1)
    assert "holds no records there: nothing to import" in failed.stderr
    assert (tmp_path / "hosts.yml").read_bytes() == EXAMPLE.read_bytes()


# ---------------------------------------------------------------- Cloudflare (emulator)


CF_INVENTORY = """\
all:
  vars:
    fleetdns_providers:
      cf:
        type: cloudflare
        api_token: "{{{{ lookup('env', 'FLEETDNS_TEST_CF_TOKEN') }}}}"
        base_url: {base_url}
        ca_bundle: {ca_bundle}
"""


def test_import_from_cloudflare(tmp_path: Path) -> None:
    with CloudflareEmulator(tls_dir=tmp_path / "tls") as cf:
        zone = cf.add_zone("example.test")
        cf.add_record(zone, name="example.test", type="MX", content="mail.example.test", priority=10, ttl=300)
        cf.add_record(zone, name="www.example.test", type="A", content="192.0.2.1", ttl=300)
        cf.add_record(zone, name="www.example.test", type="A", content="192.0.2.2", ttl=300)
        cf.add_record(zone, name="mail.example.test", type="AAAA", content="2001:db8::25", ttl=1)
        cf.add_record(zone, name="example.test", type="TXT", content='"v=spf1 mx -all"', ttl=300)
        cf.add_record(zone, name="alias.example.test", type="CNAME", content="www.example.test", ttl=300)
        cf.add_record(
            zone, name="_sip._tcp.example.test", type="SRV", ttl=300,
            data={"priority": 10, "weight": 5, "port": 5060, "target": "www.example.test"},
        )  # fmt: skip
        cf.add_record(
            zone, name="example.test", type="CAA", ttl=300, data={"flags": 0, "tag": "issue", "value": "x.test"}
        )
        (tmp_path / "hosts.yml").write_text(CF_INVENTORY.format(base_url=cf.https_url, ca_bundle=cf.ca_file))
        env = {"FLEETDNS_TEST_CF_TOKEN": cf.token, "NO_COLOR": "1"}
        imported = ok(
            run("import", "-i", "hosts.yml", "--zone", "example.test", "--provider", "cf", cwd=tmp_path, env=env)
        )
        assert "imported 7 record sets" in imported.stdout, imported.stdout
        assert cf.token not in imported.stdout + imported.stderr
        text = (tmp_path / "hosts.yml").read_text()
        assert "{name: mail, type: AAAA, value: 2001:db8::25, ttl: 1}" in text
        assert "{name: www, type: A, value: [192.0.2.1, 192.0.2.2]}" in text
        assert "not owned" in plan_is_clean(tmp_path, env)
        owned = ok(run("import", "-i", "hosts.yml", "--zone", "example.test", "--own", cwd=tmp_path, env=env))
        assert "marked 7 record sets as owned by 'fleetdns'" in owned.stdout
        assert all("fleetdns-owner=fleetdns" in (r.get("comment") or "") for r in cf.records(zone))
        assert "not owned" not in plan_is_clean(tmp_path, env)
