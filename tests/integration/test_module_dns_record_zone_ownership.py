"""fleetdns.ddns.dns_record with `ownership: zone` and playbooks/records.yml for a zone with
`ownership: zone`, through a real ansible-playbook against a real BIND: the task owns the whole zone
(no `_fleetdns` marker read or written), prune deletes what the task does not list (under the delete
guard), device addresses are kept, a marker of another owner id fails the task, the cloudflare
provider refuses the mode, and records.yml leaves a zone exactly as `fleetdns apply` does.

The lab zone holds `@ NS ns1` and `ns1 A 127.0.0.1`: a task owning the zone whole lists `ns1 A`
(BIND refuses an update removing the last address of an in-zone NS target).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lab.bind import BindLab, free_port

from integration.playbook_runner import run_playbook, run_playbook_file
from integration.test_module_dns_record import (
    INVENTORY,
    RECORDS_PLAYBOOK,
    SAVE,
    apply_on_twin,
    fleetdns,
    provider_vars,
    serial,
    zone_records,
)

ZONE_TASK = """\
    - name: The lab zone owned whole by this task
      fleetdns.ddns.dns_record:
        provider: "{{ lab }}"
        zone: example.test
        owner: fleet-test
        ownership: zone
        prune: true
        ttl: 300
        device_names: [gw.example.test]
        records:
          - {name: ns1, type: A, value: 127.0.0.1}
          - {name: www, type: A, value: [192.0.2.10, 192.0.2.11]}
          - {name: "@", type: MX, value: "10 mail"}
          - {name: mail, type: A, value: 192.0.2.25, ttl: 3600}
      register: zone_task
    - name: Collect
      ansible.builtin.set_fact:
        results: {zone_task: "{{ zone_task }}"}
"""


def actions(result: dict) -> list[tuple[str, str, str]]:
    return [(c["action"], c["name"], c["type"]) for c in result["changes"]]


def test_zone_ownership_prune_check_mode_apply_and_rerun(tmp_path: Path, bind: Any) -> None:
    bind.nsupdate(
        'update add handmade.example.test. 300 TXT "added by nsupdate"\n'
        "update add gw.example.test. 300 A 198.51.100.7"  # a device's agent reported its address
    )
    extra = provider_vars(tmp_path, bind)
    zone_before = bind.axfr_text()

    checked = run_playbook(tmp_path, ZONE_TASK + SAVE, *extra, "--check", "--diff", name="check")
    assert checked.returncode == 0, checked.output
    assert checked.recap["changed"] == 1
    result = checked.results()["zone_task"]
    assert ("delete", "handmade.example.test.", "TXT") in actions(result)
    assert sorted(actions(result)) == sorted(
        [
            ("create", "example.test.", "MX"),
            ("delete", "handmade.example.test.", "TXT"),
            ("create", "mail.example.test.", "A"),
            ("create", "www.example.test.", "A"),
        ]
    )  # ns1 A is there as listed; gw A is neither deleted nor registered
    assert '-handmade.example.test. 300 IN TXT "added by nsupdate"' in checked.output
    assert "+www.example.test. 300 IN A 192.0.2.10" in checked.output
    assert bind.axfr_text() == zone_before  # check mode sent nothing (the SOA serial included)

    applied = run_playbook(tmp_path, ZONE_TASK + SAVE, *extra, "--diff", name="apply")
    assert applied.returncode == 0, applied.output
    assert applied.recap["changed"] == 1
    assert sorted(actions(applied.results()["zone_task"])) == sorted(actions(result))
    assert bind.query("handmade.example.test.", "TXT") == set()
    assert bind.query("www.example.test.", "A") == {"192.0.2.10", "192.0.2.11"}
    assert bind.query("example.test.", "MX") == {"10 mail.example.test."}
    assert bind.query("mail.example.test.", "A") == {"192.0.2.25"}
    assert bind.query("gw.example.test.", "A") == {"198.51.100.7"}  # the device's address survives
    assert bind.query("ns1.example.test.", "A") == {"127.0.0.1"}
    assert bind.query("example.test.", "NS") == {"ns1.example.test."}  # the unlisted apex NS is left alone
    axfr = bind.axfr_text()
    assert "_fleetdns" not in axfr, axfr

    before = serial(bind)
    rerun = run_playbook(tmp_path, ZONE_TASK + SAVE, *extra, "--diff", name="rerun")
    assert rerun.returncode == 0, rerun.output
    assert rerun.recap["changed"] == 0
    assert rerun.results()["zone_task"]["changes"] == []
    assert serial(bind) == before


GUARDED = """\
    - name: Prune the lab zone owned whole
      fleetdns.ddns.dns_record:
        provider: "{{ lab }}"
        zone: example.test
        ownership: zone
        prune: true
        allow_deletes: "{{ allow | bool }}"
        records: [{name: ns1, type: A, value: 127.0.0.1}, {name: www, type: A, value: 192.0.2.10}]
      register: pruned
      ignore_errors: true
    - name: Collect
      ansible.builtin.set_fact:
        results: {pruned: "{{ pruned }}"}
"""


def test_zone_ownership_prune_is_held_by_the_delete_guard(tmp_path: Path, bind: Any) -> None:
    bind.nsupdate("\n".join(f"update add legacy{i}.example.test. 300 A 192.0.2.{100 + i}" for i in range(6)))
    zone_before = bind.axfr_text()

    refused = run_playbook(tmp_path, GUARDED + SAVE, *provider_vars(tmp_path, bind, allow=False), name="refused")
    assert refused.returncode == 0, refused.output
    result = refused.results()["pruned"]
    assert result["failed"] is True
    # 6 of the 7 record sets the task owns (ns1 A and the six legacy A): above 5 and above 30 %
    assert "prune: zone example.test.: the plan deletes 6 of the 7 record sets fleetdns owns (86%)" in result["msg"]
    assert "allow_deletes: true" in result["msg"]
    assert bind.axfr_text() == zone_before

    allowed = run_playbook(tmp_path, GUARDED + SAVE, *provider_vars(tmp_path, bind, allow=True), name="allowed")
    assert allowed.returncode == 0, allowed.output
    changes = actions(allowed.results()["pruned"])
    assert sorted(changes) == [("create", "www.example.test.", "A")] + [
        ("delete", f"legacy{i}.example.test.", "A") for i in range(6)
    ]
    assert all(bind.query(f"legacy{i}.example.test.", "A") == set() for i in range(6))
    assert bind.query("www.example.test.", "A") == {"192.0.2.10"}
    assert "_fleetdns" not in bind.axfr_text()


FOREIGN = """\
    - name: Own the lab zone whole while another owner id has marked a record set in it
      fleetdns.ddns.dns_record:
        provider: "{{ lab }}"
        zone: example.test
        owner: fleet-test
        ownership: zone
        prune: true
        records: [{name: ns1, type: A, value: 127.0.0.1}, {name: www, type: A, value: 192.0.2.10}]
      register: foreign
      ignore_errors: true
    - name: Collect
      ansible.builtin.set_fact:
        results: {foreign: "{{ foreign }}"}
"""


def test_zone_ownership_fails_on_a_marker_of_another_owner(tmp_path: Path, bind: Any) -> None:
    bind.nsupdate(
        "update add www.example.test. 300 A 192.0.2.80\n"
        'update add a.www._fleetdns.example.test. 300 TXT "fleetdns-owner=someone-else"'
    )
    zone_before = bind.axfr_text()
    run = run_playbook(tmp_path, FOREIGN + SAVE, *provider_vars(tmp_path, bind), "--diff", name="foreign")
    assert run.returncode == 0, run.output
    result = run.results()["foreign"]
    assert result["failed"] is True
    assert "www A is marked as owned by 'someone-else'" in result["msg"], result["msg"]
    assert "ownership: zone" in result["msg"]
    assert "\n" not in result["msg"] and "Traceback" not in run.output
    assert bind.axfr_text() == zone_before


CLOUDFLARE_ZONE = """\
    - name: A cloudflare zone cannot be owned whole
      fleetdns.ddns.dns_record:
        provider: {type: cloudflare, api_token: "{{ token }}", base_url: "https://127.0.0.1:{{ port }}/client/v4"}
        zone: example.test
        ownership: zone
        prune: true
        name: www
        type: A
        value: 192.0.2.10
      register: cloudflare
      ignore_errors: true
    - name: Collect
      ansible.builtin.set_fact:
        results: {cloudflare: "{{ cloudflare }}"}
"""


def test_zone_ownership_is_refused_with_a_cloudflare_provider_before_any_request(tmp_path: Path) -> None:
    """The base URL is a loopback port nobody listens on: a request would fail with a connection
    error, so the validation message proves the task stopped before using the network."""
    token = "cf-test-token-never-shown-0123456789abcdef"
    variables = tmp_path / "cf.json"
    variables.write_text(json.dumps({"token": token, "port": free_port()}))
    run = run_playbook(tmp_path, CLOUDFLARE_ZONE + SAVE, "-e", f"@{variables}", "-vvvv", name="cloudflare")
    assert run.returncode == 0, run.output
    result = run.results()["cloudflare"]
    assert result["failed"] is True
    assert result["msg"] == (
        "ownership: ownership: zone is not available with the cloudflare provider (hint: use markers)"
    ), result["msg"]
    assert token not in run.output


ORPHAN = """\
    - name: Own the lab zone whole without listing the address of its name server
      fleetdns.ddns.dns_record:
        provider: "{{ lab }}"
        zone: example.test
        ownership: zone
        prune: true
        records: [{name: www, type: A, value: 192.0.2.10}]
      register: orphan
      ignore_errors: true
    - name: Collect
      ansible.builtin.set_fact:
        results: {orphan: "{{ orphan }}"}
"""


@pytest.mark.parametrize("check", [True, False], ids=["check", "apply"])
def test_zone_ownership_refuses_to_delete_the_address_of_the_ns_target(tmp_path: Path, bind: Any, check: bool) -> None:
    zone_before = bind.axfr_text()
    options = ["--check"] if check else []
    run = run_playbook(tmp_path, ORPHAN + SAVE, *provider_vars(tmp_path, bind), *options, name="orphan")
    assert run.returncode == 0, run.output
    result = run.results()["orphan"]
    assert result.get("failed") is True, result
    assert "ns1 would lose its last address while @ NS points at it" in result["msg"], result["msg"]
    assert bind.axfr_text() == zone_before


# ---- playbooks/records.yml against `fleetdns apply` for a zone owned whole ----------------------

# The marker-ownership parity inventory, owning its zone whole: it must list the NS target's address.
ZONE_INVENTORY = INVENTORY.replace(
    "        provider: lab\n", "        provider: lab\n        ownership: zone\n"
).replace("        records:\n", "        records:\n          - {{name: ns1, type: A, value: 127.0.0.1}}\n")
assert ZONE_INVENTORY.count("ownership: zone") == 1 and ZONE_INVENTORY.count("name: ns1") == 1


def test_records_playbook_owns_a_zone_whole_exactly_as_fleetdns_apply(tmp_path: Path, bind: Any) -> None:
    twin = BindLab()
    try:
        # the same unlisted record and device address on both
        script = (
            'update add handmade.example.test. 300 TXT "added by nsupdate"\n'
            "update add gw.example.test. 300 A 198.51.100.7"
        )
        inventory, env = apply_on_twin(tmp_path, bind, twin, ZONE_INVENTORY, script)
        assert twin.query("handmade.example.test.", "TXT") == set()

        zone_before = bind.axfr_text()
        checked = run_playbook_file(tmp_path, RECORDS_PLAYBOOK, inventory, "--check", "--diff", env=env)
        assert checked.returncode == 0, checked.output
        assert checked.recap["changed"] == 1
        assert '-handmade.example.test. 300 IN TXT "added by nsupdate"' in checked.output
        assert bind.axfr_text() == zone_before

        applied = run_playbook_file(tmp_path, RECORDS_PLAYBOOK, inventory, env=env)
        assert applied.returncode == 0, applied.output
        assert applied.recap["changed"] == 1
        assert zone_records(bind) == zone_records(twin)
        assert bind.query("handmade.example.test.", "TXT") == set()
        assert bind.query("gw.example.test.", "A") == {"198.51.100.7"}
        for lab in (bind, twin):
            axfr = lab.axfr_text()
            assert "_fleetdns" not in axfr, axfr

        rerun = run_playbook_file(tmp_path, RECORDS_PLAYBOOK, inventory, env=env)
        assert rerun.returncode == 0 and rerun.recap["changed"] == 0, rerun.output
        plan = fleetdns("plan", "-i", str(inventory), env={"PATH": "/usr/bin:/bin", **env})
        assert plan.returncode == 0 and "no changes" in plan.stdout.lower(), plan.stdout + plan.stderr
    finally:
        twin.stop()
