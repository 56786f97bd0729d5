"""What roles/bind_server derives from an inventory: served zones, keys, grants, and refusals.

Runs the role's model step with the real ansible-playbook on localhost (no BIND, no containers: the
Molecule scenario tests the running server). One playbook run per inventory keeps this fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

PLAYBOOK = """
- hosts: fleetdns_servers
  gather_facts: false
  tasks:
    - block:
        - ansible.builtin.include_role:
            name: fleetdns.ddns.bind_server
            tasks_from: model.yml
        - ansible.builtin.copy:
            content: "{{ {'model': _bind_server_model} | to_json }}"
            dest: "{{ results_dir }}/{{ inventory_hostname }}.json"
      rescue:
        - ansible.builtin.copy:
            content: "{{ {'failed': ansible_failed_result.msg} | to_json }}"
            dest: "{{ results_dir }}/{{ inventory_hostname }}.json"
"""

FLEETDNS = Path(sys.executable).parent / "fleetdns"

PROVIDERS = {
    "lab": {"type": "rfc2136", "server": "192.0.2.53", "port": 53, "tsig_key_name": "Fleet-Admin"},
    "legacy": {"type": "rfc2136", "server": "ns2", "tsig_key_name": "legacy", "tsig_secret": "c2VjcmV0"},
    "files": {"type": "zonefile"},
}


def run_model(tmp_path: Path, all_vars: dict, servers: dict, clients: dict) -> dict[str, dict]:
    """The model (or the failure message) of every server host, keyed by host name."""
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = {
        "all": {
            "vars": all_vars,
            "children": {
                "fleetdns_servers": {"hosts": {name: {**local, **hv} for name, hv in servers.items()}},
                "fleetdns_clients": {"hosts": clients},
            },
        }
    }
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    results = tmp_path / "results"
    results.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1"
    )
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            "hosts.yml",
            "play.yml",
            "-e",
            f"results_dir={results}",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return {path.stem: json.loads(path.read_text()) for path in results.glob("*.json")}


def zones_by_name(model: dict) -> dict[str, dict]:
    return {zone["name"]: zone for zone in model["zones"]}


def test_servers_get_their_zones_keys_and_least_privilege_grants(tmp_path: Path) -> None:
    all_vars = {
        "fleetdns_providers": PROVIDERS,
        "fleetdns_zones": {
            "Example.Test.": {
                "provider": "lab",
                "default_ttl": 300,
                "records": [
                    {"name": "@", "type": "NS", "value": ["ns1", "ns.elsewhere.test."]},
                    {"name": "ns1", "type": "A", "value": "192.0.2.53"},
                    {"name": "ns1.example.test.", "type": "AAAA", "values": ["2001:db8::53"]},
                ],
            },
            "sub.example.test": {"provider": "lab"},
            "acl.test": {"provider": "legacy"},
            "files.test": {"provider": "files"},
        },
        "bind_server_zone_options": {"acl.test": {"allow_update": ["192.0.2.0/24", "key legacy"]}},
    }
    servers = {"ns1": {"ansible_host": "192.0.2.53"}, "ns2": {"bind_server_nameserver_address": "192.0.2.54"}}
    clients = {
        "GW": {"fleetdns_names": ["gw.example.test", "cam.sub.example.test."], "fleetdns_acme": True},
        "sensor-01": {"fleetdns_names": "sensor-01.example.test"},
        "printer": {"fleetdns_names": ["printer.files.test"]},
        "no-names": {},
    }
    models = run_model(tmp_path, all_vars, servers, clients)
    ns1, ns2 = models["ns1"]["model"], models["ns2"]["model"]

    assert [zone["name"] for zone in ns1["zones"]] == ["example.test", "sub.example.test"]
    zones = zones_by_name(ns1)
    assert zones["example.test"]["update_policy"] == [
        "grant fleet-admin zonesub ANY;",
        "grant gw name gw.example.test. A AAAA;",
        "grant gw name _acme-challenge.gw.example.test. TXT;",
        "grant sensor-01 name sensor-01.example.test. A AAAA;",
    ]
    # a name goes to the longest zone that holds it
    assert zones["sub.example.test"]["update_policy"] == [
        "grant fleet-admin zonesub ANY;",
        "grant gw name cam.sub.example.test. A AAAA;",
        "grant gw name _acme-challenge.cam.sub.example.test. TXT;",
    ]
    assert zones["example.test"]["allow_transfer"] == ["key fleet-admin"]
    assert zones["example.test"]["nameservers"] == ["ns.elsewhere.test.", "ns1.example.test."]
    # the primary named in the SOA is this server when it is one of the name servers
    assert zones["example.test"]["soa"]["mname"] == "ns1.example.test."
    assert zones["example.test"]["glue"] == [
        {"name": "ns1.example.test.", "type": "A", "value": "192.0.2.53"},
        {"name": "ns1.example.test.", "type": "AAAA", "value": "2001:db8::53"},
    ]
    assert zones["example.test"]["ttl"] == 300
    assert zones["example.test"]["soa"]["rname"] == "hostmaster.example.test."
    assert [key["name"] for key in ns1["device_keys"]] == ["gw", "sensor-01"]
    # the provider has no secret: the key is generated, and nothing secret is in the model
    assert ns1["admin_keys"] == [
        {"name": "fleet-admin", "provider": "lab", "algorithm": "hmac-sha256", "inline": False}
    ]
    assert ns1["controller_keys"] == ["fleet-admin", "gw", "printer", "sensor-01"]

    # ns2 is matched by inventory name; its zone uses allow-update and gets no update-policy at all
    assert [zone["name"] for zone in ns2["zones"]] == ["acl.test"]
    acl = ns2["zones"][0]
    assert acl["allow_update"] == ["192.0.2.0/24", "key legacy"]
    assert acl["update_policy"] == []
    assert acl["glue"] == [{"name": "ns2.acl.test.", "type": "A", "value": "192.0.2.54"}]
    assert ns2["device_keys"] == []
    assert ns2["admin_keys"] == [{"name": "legacy", "provider": "legacy", "algorithm": "hmac-sha256", "inline": True}]
    assert "c2VjcmV0" not in json.dumps(ns2)


def test_inconsistent_inventories_are_refused_with_every_problem_named(tmp_path: Path) -> None:
    all_vars = {
        "fleetdns_providers": {
            **PROVIDERS,
            "lab": {**PROVIDERS["lab"], "port": 5353},
        },
        "fleetdns_zones": {"example.test": {"provider": "lab"}, "acl.test": {"provider": "legacy"}},
        "bind_server_zone_options": {"acl.test": {"allow_update": ["192.0.2.0/24"]}},
    }
    servers = {
        "ns1": {"ansible_host": "192.0.2.53", "bind_server_nameserver_address": "192.0.2.53"},
        "ns2": {"bind_server_zones": ["acl.test", "missing.test"]},
    }
    clients = {
        "fleet-admin": {"fleetdns_names": ["fleet-admin.example.test"]},
        "cam": {"fleetdns_names": ["cam.acl.test"]},
    }
    models = run_model(tmp_path, all_vars, servers, clients)
    ns1, ns2 = models["ns1"]["failed"], models["ns2"]["failed"]
    assert "zone example.test: provider 'lab' uses port 5353 but named on ns1 listens on bind_server_port 53" in ns1
    assert "host fleet-admin would get the TSIG key name 'fleet-admin'" in ns1
    assert "bind_server_zones lists missing.test, which is not in fleetdns_zones" in ns2
    assert "zone acl.test: bind_server_zone_options sets allow_update, but cam has fleetdns_names in it" in ns2
    assert "allow-update and update-policy" in ns2
    # ns2 serves acl.test by name only and has no address for its in-zone NS
    assert "name server ns2.acl.test. is inside the zone but has no address" in ns2


def test_a_unicode_device_name_is_granted_under_the_spelling_the_cli_registers(tmp_path: Path, bind: Any) -> None:
    all_vars = {
        "fleetdns_providers": {"lab": bind.provider_options()},
        "fleetdns_zones": {"example.test": {"provider": "lab"}},
    }
    servers = {
        "ns1": {"ansible_host": bind.host, "bind_server_port": bind.port, "bind_server_nameserver_address": bind.host}
    }
    clients = {"cafe": {"fleetdns_names": ["Café.Example.Test"]}}
    model = run_model(tmp_path, all_vars, servers, clients)["ns1"]["model"]
    grants = zones_by_name(model)["example.test"]["update_policy"]

    plan = subprocess.run(
        [str(FLEETDNS), "plan", "-i", str(tmp_path / "hosts.yml"), "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert plan.returncode == 0, plan.stdout + plan.stderr
    changes = json.loads(plan.stdout)["zones"][0]["changes"]
    registered = sorted({change["name"] for change in changes if change["action"] == "register"})
    assert registered == ["xn--caf-dma.example.test."]
    assert f"grant cafe name {registered[0]} A AAAA;" in grants
