"""`fleetdns import --zone` from the Alibaba Cloud DNS emulator (over TLS, every ACS3 signature checked):
a zone holding every type the provider manages, a record a user wrote a remark on and records on
another line; the import writes the record sets of the default line, planning afterwards shows no
change, `--own` marks exactly the imported record sets (in their remarks, the user's text kept) and
the records on the other line are left out, listed, and untouched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.cloudflare_records import comment_owner
from emulators.alidns import AliDnsEmulator

from integration.test_cli import ok, run

INVENTORY = """\
# Alibaba Cloud DNS, nothing declared yet
all:
  vars:
    fleetdns_owner: fleet-main
    fleetdns_providers:
      ali:
        type: alidns
        access_key_id: {key_id}
        access_key_secret: "{{{{ lookup('env', 'FLEETDNS_TEST_ALI_SECRET') }}}}"
        endpoint: {endpoint}
        ca_bundle: {ca_bundle}
    fleetdns_zones: {{}}
"""
# (RR, Type, Value, extra): every type the alidns provider manages
RECORDS = [
    ("www", "A", "192.0.2.1", {}),
    ("www", "A", "192.0.2.2", {}),
    ("mail", "A", "192.0.2.25", {"ttl": 3600}),
    ("mail", "AAAA", "2001:db8::25", {}),
    ("@", "MX", "mail.example.test", {"priority": 10}),
    ("@", "MX", "mail2.other.test", {"priority": 20}),
    ("@", "TXT", "v=spf1 mx -all", {}),
    ("@", "CAA", '0 issue "letsencrypt.org"', {}),
    ("alias", "CNAME", "www.example.test", {}),
    ("_sip._tcp", "SRV", "10 5 5060 sip.example.test", {}),
    ("child", "NS", "ns1.other.test", {}),
    ("printer", "A", "192.0.2.50", {"remark": "office printer"}),
]
OTHER_LINE = [("www", "A", "198.51.100.7"), ("cn", "A", "198.51.100.8")]  # per-ISP answers, left alone
IMPORTED = {(n, t) for n, t, _v, _x in RECORDS}


@pytest.fixture
def ali(tmp_path: Path) -> Iterator[AliDnsEmulator]:
    with AliDnsEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.add_domain("example.test")
        for rr, rtype, value, extra in RECORDS:
            emulator.add_record("example.test", rr, rtype, value, **extra)
        for rr, rtype, value in OTHER_LINE:
            emulator.add_record("example.test", rr, rtype, value, line="telecom", remark="isp")
        (tmp_path / "hosts.yml").write_text(
            INVENTORY.format(key_id=emulator.key_id, endpoint=emulator.https_url, ca_bundle=emulator.ca_file)
        )
        yield emulator


def declared(path: Path) -> set[tuple[str, str]]:
    data = yaml.safe_load(path.read_text())
    return {(r["name"], r["type"]) for r in data["all"]["vars"]["fleetdns_zones"]["example.test"]["records"]}


def other_line(ali: AliDnsEmulator) -> list[dict]:
    return [r for r in ali.records("example.test") if r["Line"] != "default"]


def test_import_then_plan_is_clean_and_own_marks_exactly_the_imported_sets(ali, tmp_path):
    env = {"FLEETDNS_TEST_ALI_SECRET": ali.key_secret, "NO_COLOR": "1"}
    isp_before = other_line(ali)
    before = ali.records("example.test")
    imported = ok(
        run("import", "-i", "hosts.yml", "--zone", "example.test", "--provider", "ali", cwd=tmp_path, env=env)
    )
    out = imported.stdout + imported.stderr
    assert ali.key_secret not in out
    assert f"imported {len(IMPORTED)} record sets" in imported.stdout, out
    assert "left out" in imported.stdout and "lines other than 'default'" in imported.stdout, out
    assert "www A (telecom)" in imported.stdout and "cn A (telecom)" in imported.stdout, out
    assert declared(tmp_path / "hosts.yml") == IMPORTED
    text = (tmp_path / "hosts.yml").read_text()
    assert "198.51.100" not in text
    assert "{name: www, type: A, value: [192.0.2.1, 192.0.2.2]}" in text
    assert ali.records("example.test") == before  # importing reads, never writes

    planned = ok(run("plan", "-i", "hosts.yml", "--zone", "example.test", "--detailed-exitcode", cwd=tmp_path, env=env))
    assert "No changes." in planned.stdout

    owned = ok(run("import", "-i", "hosts.yml", "--zone", "example.test", "--own", cwd=tmp_path, env=env))
    assert f"marked {len(IMPORTED)} record sets as owned by 'fleet-main'" in owned.stdout, owned.stdout
    assert ali.key_secret not in owned.stdout + owned.stderr
    default_line = [r for r in ali.records("example.test") if r["Line"] == "default"]
    assert {(r["RR"], r["Type"]) for r in default_line} == IMPORTED  # no marker record added either
    assert all(comment_owner(r.get("Remark")) == "fleet-main" for r in default_line), default_line
    printer = next(r for r in default_line if r["RR"] == "printer")
    assert "office printer" in printer["Remark"]  # the user's text is kept beside the owner
    assert other_line(ali) == isp_before  # the other line untouched, its remark too
    planned = ok(run("plan", "-i", "hosts.yml", "--zone", "example.test", "--detailed-exitcode", cwd=tmp_path, env=env))
    assert "No changes." in planned.stdout and "not owned" not in planned.stdout
