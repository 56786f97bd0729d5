"""The real `fleetdns` command with a `cloudflare` provider in the inventory, against the emulator over TLS:
plan / apply / plan again, the token taken from the environment and never printed (also with --debug),
and a bad token as one clear line without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.cloudflare_records import comment_owner
from emulators.cloudflare import CloudflareEmulator

FLEETDNS = Path(sys.executable).parent / "fleetdns"
INVENTORY = """\
all:
  vars:
    fleetdns_owner: fleet-main
    fleetdns_providers:
      cf:
        type: cloudflare
        api_token: "{{{{ lookup('env', 'FLEETDNS_TEST_CF_TOKEN') }}}}"
        base_url: {base_url}
        ca_bundle: {ca_bundle}
    fleetdns_zones:
      example.test:
        provider: cf
        default_ttl: 300
        records:
          - {{name: www, type: A, value: [192.0.2.1, 192.0.2.2]}}
          - {{name: "@", type: MX, value: "10 mail"}}
          - {{name: mail, type: A, value: 192.0.2.25, ttl: 1}}
  children:
    fleetdns_clients:
      hosts:
        gw: {{fleetdns_names: [gw.example.test]}}
"""


@pytest.fixture
def cf(tmp_path: Path) -> Iterator[CloudflareEmulator]:
    with CloudflareEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.zone = emulator.add_zone("example.test")
        yield emulator


def fleetdns(tmp_path: Path, token: str, *argv: str) -> subprocess.CompletedProcess:
    if not FLEETDNS.exists():
        pytest.fail(f"{FLEETDNS} not found: run `make venv`", pytrace=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETDNS_")}
    env.update(FLEETDNS_TEST_CF_TOKEN=token, NO_COLOR="1")
    return subprocess.run(
        [str(FLEETDNS), *argv, "-i", str(tmp_path / "hosts.yml")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def write_inventory(cf: CloudflareEmulator, tmp_path: Path) -> None:
    (tmp_path / "hosts.yml").write_text(INVENTORY.format(base_url=cf.https_url, ca_bundle=cf.ca_file))


def test_plan_apply_plan_with_a_cloudflare_provider(cf, tmp_path):
    write_inventory(cf, tmp_path)
    unmanaged = cf.add_record(cf.zone, name="printer", type="A", content="192.0.2.50", comment="office")
    plan = fleetdns(tmp_path, cf.token, "plan", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "www A" in plan.stdout and "register gw A" in plan.stdout

    applied = fleetdns(tmp_path, cf.token, "apply", "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert cf.counts["dns_records.batch"] == 1  # every change of the zone in one transaction

    records = {(r["name"], r["type"], r["content"]): r for r in cf.records(cf.zone)}
    assert {k for k in records if k[1] != "TXT"} == {
        ("example.test", "MX", "mail.example.test"),
        ("mail.example.test", "A", "192.0.2.25"),
        ("printer.example.test", "A", "192.0.2.50"),
        ("www.example.test", "A", "192.0.2.1"),
        ("www.example.test", "A", "192.0.2.2"),
    }
    assert records[("mail.example.test", "A", "192.0.2.25")]["ttl"] == 1
    assert records[("printer.example.test", "A", "192.0.2.50")] == unmanaged
    assert all(
        comment_owner(r["comment"]) == "fleet-main" for k, r in records.items() if k[0] != "printer.example.test"
    )

    again = fleetdns(tmp_path, cf.token, "--debug", "plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    for result in (plan, applied, again):
        assert cf.token not in result.stdout + result.stderr


def test_a_bad_token_is_one_clear_line(cf, tmp_path):
    write_inventory(cf, tmp_path)
    bad = "bad-token-0123456789abcdefghijklmnopqrstu"
    for argv in (("plan",), ("--debug", "apply", "--yes")):
        result = fleetdns(tmp_path, bad, *argv)
        assert result.returncode == 1
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "9109 Invalid access token" in errors[0] and "api_token" in errors[0]
        if "--debug" not in argv:  # --debug adds tracebacks on purpose; secrets stay hidden there too
            assert "Traceback" not in result.stderr
        assert bad not in result.stdout + result.stderr
    assert cf.records(cf.zone) == []
