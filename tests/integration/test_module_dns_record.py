"""fleetdns.ddns.dns_record and playbooks/records.yml through a real ansible-playbook against a real
BIND (also zone files and the Cloudflare emulator): check mode, apply, idempotence, keep, prune, clear
errors, no secret at -vvvv, and the playbook leaving a zone exactly as `fleetdns apply` does."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from emulators.cloudflare import CloudflareEmulator
from lab.bind import BindLab

from integration.playbook_runner import run_playbook, run_playbook_file

ROOT = Path(__file__).resolve().parents[2]
RECORDS_PLAYBOOK = ROOT / "playbooks" / "records.yml"
FLEETDNS = Path(sys.executable).parent / "fleetdns"

SAVE = """\
    - name: Save the results for the test
      ansible.builtin.copy:
        content: "{{ results | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
      changed_when: false
      check_mode: false
"""


def provider_vars(tmp_path: Path, bind: Any, **extra: Any) -> list[str]:
    """-e @file holding the lab provider `lab` and `extra` variables (secrets stay off the command line)."""
    path = tmp_path / "provider.json"
    path.write_text(json.dumps({"lab": bind.provider_options(key="admin"), **extra}))
    path.chmod(0o600)
    return ["-e", f"@{path}"]


def serial(bind: Any) -> int:
    """The zone's SOA serial: BIND adds one per UPDATE message it applies."""
    (soa,) = bind.query("example.test.", "SOA")
    return int(soa.split()[2])


MANY = """\
    - name: Records through the dns action group's defaults
      module_defaults:
        group/fleetdns.ddns.dns:
          provider: "{{ lab }}"
          owner: fleet-test
      block:
        - name: Many record sets in one task
          fleetdns.ddns.dns_record:
            zone: example.test
            ttl: 300
            records:
              - {name: www, type: A, value: [192.0.2.10, 192.0.2.11]}
              - {name: "@", type: MX, value: "10 mail"}
              - {name: mail, type: A, value: 192.0.2.25, ttl: 3600}
              - {name: "@", type: TXT, value: "v=spf1 mx -all"}
              - {name: _sip._tcp, type: SRV, value: "10 5 5060 sip"}
          register: many
        - name: One record set
          fleetdns.ddns.dns_record:
            zone: example.test
            name: sip
            type: AAAA
            value: "2001:DB8:0::5060"
          register: one
    - name: Collect
      ansible.builtin.set_fact:
        results: {many: "{{ many }}", one: "{{ one }}"}
"""


def test_check_mode_apply_and_rerun_against_bind(tmp_path: Path, bind: Any) -> None:
    extra = provider_vars(tmp_path, bind)
    secret = bind.keys["admin"].secret

    checked = run_playbook(tmp_path, MANY + SAVE, *extra, "--check", "--diff", name="check")
    assert checked.returncode == 0, checked.output
    assert checked.recap["changed"] == 2
    assert "+www.example.test. 300 IN A 192.0.2.10" in checked.output
    assert "+sip.example.test. 3600 IN AAAA 2001:db8::5060" in checked.output
    assert len(checked.results()["many"]["changes"]) == 5
    assert bind.query("www.example.test.", "A") == set()  # check mode changed nothing
    assert bind.query("a.www._fleetdns.example.test.", "TXT") == set()

    before = serial(bind)
    applied = run_playbook(tmp_path, MANY + SAVE, *extra, "--diff", "-vvvv", name="apply")
    assert applied.returncode == 0, applied.output
    assert applied.recap["changed"] == 2
    assert serial(bind) - before == 2  # one UPDATE message per task
    assert bind.query("www.example.test.", "A") == {"192.0.2.10", "192.0.2.11"}
    assert bind.query("example.test.", "MX") == {"10 mail.example.test."}
    assert bind.query("_sip._tcp.example.test.", "SRV") == {"10 5 5060 sip.example.test."}
    assert bind.query("sip.example.test.", "AAAA") == {"2001:db8::5060"}
    assert bind.query("a.www._fleetdns.example.test.", "TXT") == {'"fleetdns-owner=fleet-test"'}
    assert secret not in applied.output  # -vvvv shows module args and results
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in applied.output

    rerun = run_playbook(tmp_path, MANY + SAVE, *extra, "--diff", name="rerun")
    assert rerun.returncode == 0, rerun.output
    assert rerun.recap["changed"] == 0
    assert rerun.results()["many"]["changes"] == [] and rerun.results()["one"]["changes"] == []


KEEP_AND_PRUNE = """\
    - name: Tasks against the lab
      module_defaults:
        group/fleetdns.ddns.dns:
          provider: "{{ lab }}"
          zone: example.test
      block:
        - name: Add our TXT value beside the one someone else put there
          fleetdns.ddns.dns_record: {name: "@", type: TXT, value: "fleet=1", on_existing: keep}
          register: keep
        - name: The same again changes nothing
          fleetdns.ddns.dns_record: {name: "@", type: TXT, value: "fleet=1", on_existing: keep}
          register: keep_again
        - name: Two owned record sets
          fleetdns.ddns.dns_record:
            records: [{name: www, type: A, value: 192.0.2.80}, {name: old, type: A, value: 192.0.2.81}]
          register: two
        - name: Only www, pruning the rest of what we own
          fleetdns.ddns.dns_record:
            records: [{name: www, type: A, value: 192.0.2.80}]
            prune: true
          register: prune
        - name: Replacing the unmanaged A record is refused
          fleetdns.ddns.dns_record: {name: handmade, type: A, value: 192.0.2.1}
          register: refused
          ignore_errors: true
        - name: Remove just our TXT value
          fleetdns.ddns.dns_record: {name: "@", type: TXT, value: "fleet=1", state: absent}
          register: absent
    - name: Collect
      ansible.builtin.set_fact:
        results:
          keep: "{{ keep }}"
          keep_again: "{{ keep_again }}"
          two: "{{ two }}"
          prune: "{{ prune }}"
          refused: "{{ refused }}"
          absent: "{{ absent }}"
"""


def test_keep_adds_beside_unmanaged_values_and_prune_leaves_unmanaged_records(tmp_path: Path, bind: Any) -> None:
    bind.nsupdate(
        'update add example.test. 300 TXT "google-site-verification=abc"\n'
        "update add handmade.example.test. 300 A 192.0.2.99"
    )
    run = run_playbook(tmp_path, KEEP_AND_PRUNE + SAVE, *provider_vars(tmp_path, bind), name="keep")
    assert run.returncode == 0, run.output
    results = run.results()
    assert results["keep"]["changed"] is True
    assert results["keep"]["changes"][0]["after"]["values"] == ['"fleet=1"', '"google-site-verification=abc"']
    assert results["keep_again"]["changed"] is False
    assert [c["name"] for c in results["prune"]["changes"]] == ["old.example.test."]
    assert results["refused"]["failed"] is True
    assert "handmade A exists with other values (ttl 300: 192.0.2.99)" in results["refused"]["msg"]
    assert results["absent"]["changes"][0]["after"]["values"] == ['"google-site-verification=abc"']

    assert bind.query("example.test.", "TXT") == {'"google-site-verification=abc"'}
    assert bind.query("handmade.example.test.", "A") == {"192.0.2.99"}
    assert bind.query("www.example.test.", "A") == {"192.0.2.80"}
    assert bind.query("old.example.test.", "A") == set()
    assert bind.query("a.old._fleetdns.example.test.", "TXT") == set()
    assert bind.query("txt._fleetdns.example.test.", "TXT") == set()  # the TXT set never became ours


BAD = """\
    - name: A typo in a provider option
      fleetdns.ddns.dns_record:
        provider: "{{ lab | combine({'tsig_secrte': 'x'}) }}"
        zone: example.test
        name: www
        type: A
        value: 192.0.2.1
      register: typo
      ignore_errors: true
    - name: An option of another provider type
      fleetdns.ddns.dns_record:
        provider: "{{ lab | combine({'directory': 'zones'}) }}"
        zone: example.test
        name: www
        type: A
        value: 192.0.2.1
      register: other_type
      ignore_errors: true
    - name: A bad value and a bad TTL
      fleetdns.ddns.dns_record:
        provider: "{{ lab }}"
        zone: example.test
        records: [{name: www, type: A, value: 192.0.2.300}, {name: ok, type: MX, value: "10 mail", ttl: -5}]
      register: bad_value
      ignore_errors: true
    - name: A wrong TSIG secret
      fleetdns.ddns.dns_record:
        provider: "{{ lab | combine({'tsig_secret': wrong_secret}) }}"
        zone: example.test
        name: www
        type: A
        value: 192.0.2.1
      register: wrong_key
      ignore_errors: true
    - name: A zone the server does not serve
      fleetdns.ddns.dns_record:
        provider: "{{ lab }}"
        zone: other.test
        name: www
        type: A
        value: 192.0.2.1
      register: no_zone
      ignore_errors: true
    - name: Both a single record set and a list
      fleetdns.ddns.dns_record:
        provider: "{{ lab }}"
        zone: example.test
        name: www
        type: A
        value: 192.0.2.1
        records: []
      register: both
      ignore_errors: true
    - name: Collect
      ansible.builtin.set_fact:
        results:
          typo: "{{ typo }}"
          other_type: "{{ other_type }}"
          bad_value: "{{ bad_value }}"
          wrong_key: "{{ wrong_key }}"
          no_zone: "{{ no_zone }}"
          both: "{{ both }}"
"""


def test_bad_arguments_fail_with_one_clear_message_and_no_secret(tmp_path: Path, bind: Any) -> None:
    secret = bind.keys["admin"].secret
    wrong = "d3JvbmctZmxlZXQtc2VjcmV0LWZvci10aGUtdGVzdHM="
    run = run_playbook(tmp_path, BAD + SAVE, *provider_vars(tmp_path, bind, wrong_secret=wrong), "-vvvv")
    assert run.returncode == 0, run.output
    results = run.results()
    for key, result in results.items():
        assert result["failed"] is True, key
        assert "\n" not in result["msg"], (key, result["msg"])
    assert "Unsupported parameters" in results["typo"]["msg"] and "provider.tsig_secrte" in results["typo"]["msg"]
    assert results["other_type"]["msg"].startswith("provider.directory: unknown key 'directory' (hint: rfc2136")
    assert "records[0].value: '192.0.2.300' is not an IPv4 address" in results["bad_value"]["msg"]
    assert "records[1].ttl: TTL -5 is outside" in results["bad_value"]["msg"]
    assert results["wrong_key"]["msg"].startswith(f"rfc2136 provider 'dns_record' (127.0.0.1:{bind.port}): the server")
    assert "TSIG key 'fleet-admin'" in results["wrong_key"]["msg"]
    assert "other.test" in results["no_zone"]["msg"]
    assert "mutually exclusive: records|name" in results["both"]["msg"]
    assert "Traceback" not in run.output
    for hidden in (secret, wrong):
        at = run.output.find(hidden)
        assert at < 0, run.output[max(0, at - 2000) : at + 200]
    assert bind.query("www.example.test.", "A") == set()


# ---- playbooks/records.yml against `fleetdns apply` ---------------------------------------------

INVENTORY = """\
all:
  vars:
    fleetdns_owner: fleet-main
    fleetdns_providers:
      lab:
        type: rfc2136
        server: 127.0.0.1
        port: {port}
        tsig_key_name: fleet-admin
        tsig_algorithm: {algorithm}
        tsig_secret: "{{{{ lookup('env', 'FLEETDNS_TEST_TSIG') }}}}"
    fleetdns_zones:
      Example.Test:
        provider: lab
        default_ttl: 300
        records:
          - {{name: www, type: CNAME, value: gw}}
          - {{name: "@", type: MX, value: ["10 mail.example.test.", "20 mx2"]}}
          - {{name: mail, type: A, value: 192.0.2.25, ttl: 3600}}
          - {{name: "@", type: TXT, value: "v=spf1 mx -all"}}
          - {{name: _sip._tcp, type: SRV, value: "10 5 5060 sip.example.test."}}
          - {{name: sip, type: AAAA, value: "2001:db8::5060"}}
          - {{name: "@", type: CAA, value: '0 issue "letsencrypt.org"'}}
          - {{name: mx2, type: A, values: [192.0.2.26, 192.0.2.27]}}
  children:
    fleetdns_clients:
      hosts:
        gw: {{fleetdns_names: [gw.example.test]}}
        sensor-01: {{fleetdns_names: sensor-01.example.test.}}
"""


def fleetdns(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real `fleetdns` command beside this interpreter; `env` None: this process's environment."""
    return subprocess.run([str(FLEETDNS), *argv], env=env, capture_output=True, text=True, timeout=60, check=False)


def zone_records(bind: Any) -> list[str]:
    """The zone by AXFR without its SOA (whose serial differs between two servers)."""
    return sorted(line for line in bind.axfr_text().splitlines() if line and " SOA " not in line)


def apply_on_twin(tmp_path: Path, bind: Any, twin: BindLab, inventory: str, script: str) -> tuple[Path, dict]:
    """Run `script` (nsupdate) on both labs, `fleetdns apply` the inventory on `twin`; returns the
    same inventory written for `bind` and the environment its TSIG secret needs."""
    for lab in (bind, twin):
        lab.nsupdate(script)
    by_cli, by_playbook = tmp_path / "cli", tmp_path / "playbook"
    for directory, lab in ((by_cli, twin), (by_playbook, bind)):
        directory.mkdir()
        (directory / "hosts.yml").write_text(inventory.format(port=lab.port, algorithm=lab.keys["admin"].algorithm))
    twin_env = {"PATH": "/usr/bin:/bin", "FLEETDNS_TEST_TSIG": twin.keys["admin"].secret}
    cli = fleetdns("apply", "-i", str(by_cli / "hosts.yml"), "--yes", env=twin_env)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    return by_playbook / "hosts.yml", {"FLEETDNS_TEST_TSIG": bind.keys["admin"].secret}


def test_records_playbook_leaves_bind_exactly_as_fleetdns_apply(tmp_path: Path, bind: Any) -> None:
    twin = BindLab()
    try:
        # the same unmanaged record on both; it must survive both
        script = "update add handmade.example.test. 300 A 192.0.2.99"
        inventory, env = apply_on_twin(tmp_path, bind, twin, INVENTORY, script)
        checked = run_playbook_file(tmp_path, RECORDS_PLAYBOOK, inventory, "--check", env=env)
        assert checked.returncode == 0, checked.output
        assert checked.recap["changed"] == 1
        assert bind.query("mail.example.test.", "A") == set()
        applied = run_playbook_file(tmp_path, RECORDS_PLAYBOOK, inventory, env=env)
        assert applied.returncode == 0, applied.output
        assert applied.recap["changed"] == 1
        assert zone_records(bind) == zone_records(twin)
        assert bind.query("handmade.example.test.", "A") == {"192.0.2.99"}
        assert bind.query("a.sensor-01._fleetdns.example.test.", "TXT") == {'"fleetdns-owner=fleet-main"'}

        rerun = run_playbook_file(tmp_path, RECORDS_PLAYBOOK, inventory, env=env)
        assert rerun.returncode == 0 and rerun.recap["changed"] == 0, rerun.output
        plan = fleetdns("plan", "-i", str(inventory), env={"PATH": "/usr/bin:/bin", **env})
        assert plan.returncode == 0 and "no changes" in plan.stdout.lower(), plan.stdout + plan.stderr
    finally:
        twin.stop()


def test_records_playbook_on_zone_files_matches_fleetdns_apply(tmp_path: Path) -> None:
    by_cli, by_playbook = tmp_path / "cli", tmp_path / "playbook"
    for directory in (by_cli, by_playbook):
        directory.mkdir()
        shutil.copy(ROOT / "hosts.example.yml", directory / "hosts.yml")
    cli = fleetdns("apply", "-i", str(by_cli / "hosts.yml"), "--yes")
    assert cli.returncode == 0, cli.stdout + cli.stderr
    inventory = by_playbook / "hosts.yml"
    checked = run_playbook_file(tmp_path, RECORDS_PLAYBOOK, inventory, "--check", "--diff")
    assert checked.returncode == 0, checked.output
    assert "+mail.example.test. 3600 IN A 192.0.2.25" in checked.output
    assert not (by_playbook / "zones").exists()
    applied = run_playbook_file(tmp_path, RECORDS_PLAYBOOK, inventory)
    assert applied.returncode == 0 and applied.recap["changed"] == 1, applied.output

    def records(directory: Path) -> list[str]:
        text = (directory / "zones" / "example.test.zone").read_text()
        return [line for line in text.splitlines() if "\tSOA\t" not in line]

    assert records(by_playbook) == records(by_cli)
    rerun = run_playbook_file(tmp_path, RECORDS_PLAYBOOK, inventory)
    assert rerun.returncode == 0 and rerun.recap["changed"] == 0, rerun.output


CLOUDFLARE = """\
    - name: Against Cloudflare, same module, no change to it
      module_defaults:
        group/fleetdns.ddns.dns:
          provider: {type: cloudflare, api_token: "{{ token }}", base_url: "{{ base_url }}", ca_bundle: "{{ ca }}"}
          zone: example.test
          owner: fleet-main
      block:
        - name: Records
          fleetdns.ddns.dns_record:
            ttl: 300
            records: [{name: www, type: A, value: [192.0.2.1, 192.0.2.2]}, {name: "@", type: MX, value: "10 mail"}]
          register: first
        - name: Records again
          fleetdns.ddns.dns_record:
            ttl: 300
            records: [{name: www, type: A, value: [192.0.2.1, 192.0.2.2]}, {name: "@", type: MX, value: "10 mail"}]
          register: again
        - name: A TXT value beside the one there
          fleetdns.ddns.dns_record: {name: "@", type: TXT, value: "fleet=1", on_existing: keep}
          register: keep
    - name: Collect
      ansible.builtin.set_fact:
        results: {first: "{{ first }}", again: "{{ again }}", keep: "{{ keep }}"}
"""


def test_the_same_module_drives_the_cloudflare_provider(tmp_path: Path) -> None:
    with CloudflareEmulator(tls_dir=tmp_path / "tls") as cf:
        zone = cf.add_zone("example.test")
        cf.add_record(zone, name="example.test", type="TXT", content="google-site-verification=abc", ttl=300)
        variables = tmp_path / "cf.json"
        variables.write_text(json.dumps({"token": cf.token, "base_url": cf.https_url, "ca": cf.ca_file}))
        run = run_playbook(tmp_path, CLOUDFLARE + SAVE, "-e", f"@{variables}", "-vvvv", name="cloudflare")
        assert run.returncode == 0, run.output
        results = run.results()
        assert results["first"]["changed"] is True and results["again"]["changed"] is False
        assert results["keep"]["changes"][0]["owned_after"] is False
        held = {(r["name"], r["type"], r["content"]) for r in cf.records(zone)}
        assert {
            ("www.example.test", "A", "192.0.2.1"),
            ("www.example.test", "A", "192.0.2.2"),
            ("example.test", "MX", "mail.example.test"),
            ("example.test", "TXT", "google-site-verification=abc"),
            ("example.test", "TXT", "fleet=1"),
        } <= held
        assert cf.token not in run.output
