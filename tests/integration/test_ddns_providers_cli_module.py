"""The four update-only providers through the fronts, with the real `fleetdns` command and the real
ansible-playbook: `validate` accepts an inventory whose device names live in their zones and refuses
`records:` there at its line; `plan` and `apply` leave such zones out (they cannot be read; each
host's agent keeps its names current) and still work on the zone-file zone beside them. No password
or token is ever printed, not even with --debug. (The dns_record module with these providers:
test_ddns_providers_dns.py.) playbooks/records.yml leaves those zones out as apply does."""

from __future__ import annotations

import re
from pathlib import Path

from .playbook_runner import run_playbook_file
from .test_cli import ROOT, ok, run

RECORDS_PLAYBOOK = ROOT / "playbooks" / "records.yml"

SECRETS = {
    "noip": "NoIp-Key-Secret-0001",
    "duck": "duck-token-secret-0002",
    "afraid": "afraid-token-secret-0003",
    "nc": "namecheap-ddns-secret-0004",
}

INVENTORY = f"""\
all:
  vars:
    fleetdns_owner: fleet-main
    fleetdns_providers:
      files: {{type: zonefile, directory: zones}}
      noip: {{type: dyndns2, username: owner@example.test, password: {SECRETS["noip"]}}}
      duck: {{type: duckdns, token: {SECRETS["duck"]}}}
      afraid: {{type: freedns, token: {SECRETS["afraid"]}}}
      nc: {{type: namecheap, domain: example.net, password: {SECRETS["nc"]}}}
    fleetdns_zones:
      example.test:
        provider: files
        default_ttl: 300
        records:
          - {{name: mail, type: A, value: 192.0.2.25}}
      ddns.example.org: {{provider: noip}}
      duckdns.org: {{provider: duck}}
      afraid.example.org: {{provider: afraid}}
      example.net: {{provider: nc}}
  children:
    fleetdns_clients:
      hosts:
        gw: {{fleetdns_names: [gw.example.test, home.ddns.example.org]}}
        cam: {{fleetdns_names: [mycam.duckdns.org, cam.afraid.example.org, cam.example.net]}}
"""


def write(tmp_path: Path, text: str = INVENTORY) -> Path:
    (tmp_path / "zones").mkdir(exist_ok=True)
    path = tmp_path / "hosts.yml"
    path.write_text(text)
    return path


def no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS.values():
            assert secret not in text, text


def test_validate_plan_and_apply_with_update_only_zones(tmp_path: Path) -> None:
    write(tmp_path)
    valid = ok(run("validate", "-i", "hosts.yml", "--debug", cwd=tmp_path))
    plan = ok(run("plan", "-i", "hosts.yml", "--debug", "--detailed-exitcode", cwd=tmp_path), 2)
    for zone, provider, kind in (
        ("ddns.example.org.", "noip", "dyndns2"),
        ("duckdns.org.", "duck", "duckdns"),
        ("afraid.example.org.", "afraid", "freedns"),
        ("example.net.", "nc", "namecheap"),
    ):
        assert f"not planning {zone}: its {kind} provider '{provider}' only sets the addresses" in plan.stderr
    assert "zone example.test. (provider files)" in plan.stdout
    applied = ok(run("apply", "-i", "hosts.yml", "--yes", "--debug", cwd=tmp_path))
    assert "mail" in (tmp_path / "zones" / "example.test.zone").read_text()
    again = ok(run("plan", "-i", "hosts.yml", "--detailed-exitcode", cwd=tmp_path))
    assert "No changes." in again.stdout
    no_secret(valid.stdout, valid.stderr, plan.stdout, plan.stderr, applied.stdout, applied.stderr)


def test_records_in_an_update_only_zone_are_a_located_error(tmp_path: Path) -> None:
    text = INVENTORY.replace(
        "      ddns.example.org: {provider: noip}\n",
        "      ddns.example.org:\n        provider: noip\n        records:\n"
        "          - {name: www, type: A, value: 192.0.2.1}\n",
    )
    path = write(tmp_path, text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.strip() == "records:" and i > 15)
    before = sorted(p.name for p in (tmp_path / "zones").iterdir())
    for command in ("validate", "plan", "apply"):
        failed = (
            run(command, "-i", "hosts.yml", "--yes", cwd=tmp_path)
            if command == "apply"
            else run(command, "-i", "hosts.yml", cwd=tmp_path)
        )
        assert failed.returncode == 1 and "Traceback" not in failed.stderr
        assert re.search(
            rf"{re.escape(path.name)}:{line}:\d+: fleetdns_zones\.ddns\.example\.org\.records: ", failed.stderr
        )
        assert "dyndns2 provider 'noip', which can only set the addresses of single names" in failed.stderr
        no_secret(failed.stdout, failed.stderr)
    assert sorted(p.name for p in (tmp_path / "zones").iterdir()) == before  # nothing written


def test_a_bad_update_only_provider_entry_is_located_without_its_secret(tmp_path: Path) -> None:
    text = INVENTORY.replace(
        f"noip: {{type: dyndns2, username: owner@example.test, password: {SECRETS['noip']}}}",
        f"noip: {{type: dyndns2, password: {SECRETS['noip']}, server: 'http://dynupdate.example.com'}}",
    )
    write(tmp_path, text)
    failed = run("validate", "-i", "hosts.yml", cwd=tmp_path)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "missing required option 'username'" in failed.stderr
    assert "fleetdns_providers.noip.server: plain http to a non-loopback host" in failed.stderr
    no_secret(failed.stdout, failed.stderr)


def test_records_playbook_leaves_update_only_zones_out(tmp_path: Path) -> None:
    """playbooks/records.yml applies what `fleetdns apply` applies: the zone-file zone, not the others."""
    inventory = write(tmp_path)
    played = run_playbook_file(tmp_path, RECORDS_PLAYBOOK, inventory, "-vvvv")
    assert played.returncode == 0, played.output[-3000:]
    assert played.recap["failed"] == 0 and played.recap["changed"] == 1
    assert "mail" in (tmp_path / "zones" / "example.test.zone").read_text()
    for zone in ("ddns.example.org", "duckdns.org", "afraid.example.org", "example.net"):
        assert f"skipping: [localhost] => (item={zone})" in played.output
    no_secret(played.output)
