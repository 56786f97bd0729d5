"""`fleetdns import --zone` from the DNSPod emulator (over TLS, every TC3 signature checked): a zone
holding every type the provider manages, a record a user wrote a remark on and records on another
line; the import writes the record sets of the default line, planning afterwards shows no change,
`--own` marks exactly the imported record sets (in their remarks, the user's text kept); the records
on the other line and the domain's two default NS records (DNSPod's own) are left out, listed once,
and untouched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.cloudflare_records import comment_owner
from emulators.dnspod import DnspodEmulator

from integration.test_cli import ok, run

INVENTORY = """\
# DNSPod, nothing declared yet
all:
  vars:
    fleetdns_owner: fleet-main
    fleetdns_providers:
      dp:
        type: dnspod
        secret_id: {secret_id}
        secret_key: "{{{{ lookup('env', 'FLEETDNS_TEST_DNSPOD_KEY') }}}}"
        endpoint: {endpoint}
        ca_bundle: {ca_bundle}
    fleetdns_zones: {{}}
"""
# (SubDomain, RecordType, Value, extra fields): every type the dnspod provider manages
RECORDS = [
    ("www", "A", "192.0.2.1", {}),
    ("www", "A", "192.0.2.2", {}),
    ("mail", "A", "192.0.2.25", {"TTL": 3600}),
    ("mail", "AAAA", "2001:db8::25", {}),
    ("@", "MX", "mail.example.test.", {"MX": 10}),
    ("@", "MX", "mail2.other.test.", {"MX": 20}),
    ("@", "TXT", "v=spf1 mx -all", {}),
    ("@", "CAA", '0 issue "letsencrypt.org"', {}),
    ("alias", "CNAME", "www.example.test.", {}),
    ("_sip._tcp", "SRV", "10 5 5060 sip.example.test.", {}),
    ("child", "NS", "ns1.other.test.", {}),
    ("printer", "A", "192.0.2.50", {"Remark": "office printer"}),
]
# the same names on another line: split-horizon answers fleetdns leaves alone
OTHER_LINE = [("www", "A", "198.51.100.7"), ("cn", "A", "198.51.100.8")]
IMPORTED = {(n, t) for n, t, _v, _x in RECORDS}  # not the domain's default NS at @: those are DNSPod's


@pytest.fixture
def api(tmp_path: Path) -> Iterator[DnspodEmulator]:
    with DnspodEmulator(tls_dir=tmp_path / "tls") as emulator:
        domain = emulator.add_domain("example.test")
        for name, rtype, value, extra in RECORDS:
            emulator.add_record(domain, SubDomain=name, RecordType=rtype, Value=value, **extra)
        for name, rtype, value in OTHER_LINE:
            emulator.add_record(domain, SubDomain=name, RecordType=rtype, Value=value, RecordLine="电信", Remark="isp")
        (tmp_path / "hosts.yml").write_text(
            INVENTORY.format(secret_id=emulator.secret_id, endpoint=emulator.https_url, ca_bundle=emulator.ca_file)
        )
        yield emulator


def declared(path: Path) -> set[tuple[str, str]]:
    data = yaml.safe_load(path.read_text())
    return {(r["name"], r["type"]) for r in data["all"]["vars"]["fleetdns_zones"]["example.test"]["records"]}


def other_line(api: DnspodEmulator) -> list[dict]:
    return [r for r in api.records("example.test") if r["Line"] != "默认"]


def default_ns(api: DnspodEmulator) -> list[dict]:
    return [r for r in api.records("example.test", with_default_ns=True) if r["DefaultNS"]]


def test_import_then_plan_is_clean_and_own_marks_exactly_the_imported_sets(api, tmp_path):
    env = {"FLEETDNS_TEST_DNSPOD_KEY": api.secret_key, "NO_COLOR": "1"}
    isp_before = other_line(api)
    ns_before = default_ns(api)
    assert len(ns_before) == 2
    before = api.records("example.test", with_default_ns=True)
    imported = ok(run("import", "-i", "hosts.yml", "--zone", "example.test", "--provider", "dp", cwd=tmp_path, env=env))
    out = imported.stdout + imported.stderr
    assert api.secret_key not in out
    assert f"imported {len(IMPORTED)} record sets" in imported.stdout, out
    assert "left out" in imported.stdout and "lines other than '默认'" in imported.stdout, out
    assert "www A (电信)" in imported.stdout and "cn A (电信)" in imported.stdout, out
    assert out.count("DNSPod's own") == 1 and "f1g1ns1.dnspod.net" in imported.stdout, out
    assert declared(tmp_path / "hosts.yml") == IMPORTED
    text = (tmp_path / "hosts.yml").read_text()
    assert "198.51.100" not in text and "cn" not in yaml.safe_load(text)["all"]["vars"]["fleetdns_zones"]
    assert "{name: www, type: A, value: [192.0.2.1, 192.0.2.2]}" in text
    assert api.records("example.test", with_default_ns=True) == before  # importing reads, never writes

    planned = ok(run("plan", "-i", "hosts.yml", "--zone", "example.test", "--detailed-exitcode", cwd=tmp_path, env=env))
    assert "No changes." in planned.stdout

    owned = ok(run("import", "-i", "hosts.yml", "--zone", "example.test", "--own", cwd=tmp_path, env=env))
    assert f"marked {len(IMPORTED)} record sets as owned by 'fleet-main'" in owned.stdout, owned.stdout
    assert api.secret_key not in owned.stdout + owned.stderr
    default_line = [r for r in api.records("example.test") if r["Line"] == "默认"]  # without the default NS
    assert {(r["Name"], r["Type"]) for r in default_line} == IMPORTED
    assert all(comment_owner(r["Remark"]) == "fleet-main" for r in default_line), default_line
    assert default_ns(api) == ns_before  # no owner word in DNSPod's own NS records
    printer = next(r for r in api.records("example.test") if r["Name"] == "printer")
    assert "office printer" in printer["Remark"]  # the user's text is kept beside the owner
    assert other_line(api) == isp_before  # the other line untouched, its remark too
    planned = ok(run("plan", "-i", "hosts.yml", "--zone", "example.test", "--detailed-exitcode", cwd=tmp_path, env=env))
    assert "No changes." in planned.stdout and "not owned" not in planned.stdout
