"""The fleet_model action plugin, run in-process with the variables a play would hand it."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible_collections.fleetdns.ddns.plugins.action.fleet_model import ActionModule

SECRET = "c2VjcmV0LXNlY3JldA=="
ALL_VARS = {
    "fleetdns_owner": "fleet-main",
    "fleetdns_providers": {
        "lab": {"type": "rfc2136", "server": "ns1.example.test", "tsig_key_name": "fleet-admin", "tsig_secret": SECRET},
    },
    "fleetdns_zones": {"Example.Test": {"provider": "lab", "default_ttl": 300}, "files.test": {}},
}
# A provider whose key the bind_server role makes: valid only with `server`.
WITH_KEY_TO_MAKE = {
    "fleetdns_providers": {
        **ALL_VARS["fleetdns_providers"],
        "made": {"type": "rfc2136", "server": "192.0.2.54", "tsig_key_name": "made-admin"},
    },
    "fleetdns_zones": {**ALL_VARS["fleetdns_zones"], "made.test": {"provider": "made"}},
}
HOSTVARS = {
    "ns1": {},
    "gw": {"fleetdns_names": ["gw.example.test", "Café.example.test"], "fleetdns_acme": True, "other": 1},
    "printer": {"fleetdns_names": ["printer.files.test"]},
}


def run(args: dict[str, Any], host: str = "ns1", **extra: Any) -> dict[str, Any]:
    task_vars = {
        **ALL_VARS,
        "inventory_hostname": host,
        "hostvars": HOSTVARS,
        "groups": {"all": list(HOSTVARS)},
        **extra,
    }
    task = MagicMock(args=args, async_val=0, check_mode=False, action="fleetdns.ddns.fleet_model")
    action = ActionModule(task, MagicMock(), MagicMock(), DataLoader(), Templar(DataLoader(), variables=task_vars))
    return action.run(task_vars=task_vars)


def test_every_zone_comes_with_its_device_names_spelled_as_the_cli_does() -> None:
    result = run({})
    assert result["changed"] is False and result["owner"] == "fleet-main"
    zones = {zone["name"]: zone for zone in result["zones"]}
    assert zones["example.test"]["key"] == "Example.Test"
    assert zones["example.test"]["device_names"] == ["gw.example.test.", "xn--caf-dma.example.test."]
    assert zones["files.test"]["builtin_provider"] == {"type": "zonefile", "directory": "zones"}
    assert "server" not in result and result["client"] is None
    assert SECRET not in str(result)


def test_zones_narrow_the_selection_and_an_unknown_zone_fails() -> None:
    assert [zone["name"] for zone in run({"zones": ["files.test."]})["zones"]] == ["files.test"]
    with pytest.raises(AnsibleActionFail, match=r"zone nowhere\.test\. is not in fleetdns_zones"):
        run({"zones": ["nowhere.test"]})


def test_a_client_host_gets_its_own_facts() -> None:
    client = run({}, host="gw")["client"]
    assert client["key_name"] == "gw" and client["acme"] is True
    assert client["zones"] == [
        {
            "zone": "example.test",
            "provider": "lab",
            "provider_type": "rfc2136",
            "update_only": False,
            "settings": {"server": "ns1.example.test", "port": 53, "timeout": 10, "deadline": 300},
            "names": ["gw.example.test.", "xn--caf-dma.example.test."],
        }
    ]


def test_without_server_a_provider_key_without_secret_is_an_error_as_in_the_cli() -> None:
    with pytest.raises(AnsibleActionFail, match="tsig_key_name and tsig_secret go together") as raised:
        run({}, **WITH_KEY_TO_MAKE)
    assert SECRET not in str(raised.value)


def test_a_server_is_identified_by_its_name_ansible_host_and_addresses_from_facts() -> None:
    facts = {"all_ipv4_addresses": ["192.0.2.54"], "default_ipv4": {"address": "192.0.2.54"}}
    server = run(
        {"server": {"clients": ["gw", "printer"]}},
        ansible_host="ns1.example.test",
        ansible_facts=facts,
        **WITH_KEY_TO_MAKE,
    )
    model = server["server"]
    assert [zone["name"] for zone in model["zones"]] == ["example.test", "made.test"]
    example = model["zones"][0]
    assert example["update_policy"] == [
        "grant fleet-admin zonesub ANY;",
        "grant gw name gw.example.test. A AAAA;",
        "grant gw name _acme-challenge.gw.example.test. TXT;",
        "grant gw name xn--caf-dma.example.test. A AAAA;",
        "grant gw name _acme-challenge.xn--caf-dma.example.test. TXT;",
    ]
    # the in-zone NS (this host) takes the default IPv4 address from facts: ansible_host is a name
    assert model["zones"][1]["glue"] == [{"name": "ns1.made.test.", "type": "A", "value": "192.0.2.54"}]
    assert [(k["name"], k["inline"]) for k in model["admin_keys"]] == [("fleet-admin", True), ("made-admin", False)]
    assert model["controller_keys"] == ["gw", "made-admin", "printer"]
    assert SECRET not in str(server)


def test_server_problems_fail_the_task_all_at_once() -> None:
    with pytest.raises(AnsibleActionFail) as raised:
        run({"server": {"zones": ["example.test", "missing.test"], "port": 5353}})
    message = str(raised.value)
    assert "bind_server_zones lists missing.test" in message
    assert "provider 'lab' uses port 53 but named on ns1 listens on bind_server_port 5353" in message
    assert "ns1.example.test. is inside the zone but has no address" in message


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(AnsibleActionFail, match="port"):
        run({"server": {"port": "fifty-three"}})


def test_a_client_gets_its_agent_files_with_its_own_key_from_the_controller_hidden_from_output(tmp_path) -> None:
    device = "ZGV2aWNlLWtleS1vZi1ndy1kZXZpY2Uta2V5IQ=="
    (tmp_path / "gw.key").write_text(f'key "gw" {{\n\talgorithm hmac-sha256;\n\tsecret "{device}";\n}};\n')
    result = run({"client": {"keys_dir": str(tmp_path), "static_ipv4": "192.0.2.8"}}, host="gw")
    assert result["_ansible_no_log"] is True
    config = result["client_files"]["agent_config"]
    assert device in config and SECRET not in config and '"static": "192.0.2.8"' in config
    assert result["client_files"]["ddclient_conf"] == ""


def test_a_client_without_its_key_on_the_controller_is_told_to_run_bind_server_first(tmp_path) -> None:
    with pytest.raises(AnsibleActionFail, match=r"no TSIG key named 'gw' on the controller.*bind_server"):
        run({"client": {"keys_dir": str(tmp_path)}}, host="gw")


def test_a_client_is_fine_with_an_admin_key_the_server_role_makes(tmp_path) -> None:
    device = "ZGV2aWNlLWtleS1vZi1ndy1kZXZpY2Uta2V5IQ=="
    (tmp_path / "gw.key").write_text(f'key "gw" {{\n\talgorithm hmac-sha256;\n\tsecret "{device}";\n}};\n')
    result = run({"client": {"keys_dir": str(tmp_path)}}, host="gw", **WITH_KEY_TO_MAKE)
    assert device in result["client_files"]["agent_config"]


@pytest.mark.parametrize(
    ("options", "mode"),
    [
        ({}, "cron"),  # no service manager given: no systemd
        ({"service_mgr": "systemd"}, "service"),
        ({"service_mgr": "systemd", "mode": "timer"}, "timer"),
        ({"service_mgr": "sysvinit", "mode": "timer"}, "cron"),
    ],
)
def test_a_client_is_told_how_its_agent_runs_from_its_service_manager(tmp_path, options, mode) -> None:
    (tmp_path / "gw.key").write_text('key "gw" {\n\talgorithm hmac-sha256;\n\tsecret "ZGV2aWNlLWtleQ==";\n};\n')
    result = run({"client": {"keys_dir": str(tmp_path), **options}}, host="gw")
    assert result["client_mode"] == mode
    assert "mode" not in result["client_files"]["agent_config"]


def test_a_run_mode_the_role_does_not_know_is_refused(tmp_path) -> None:
    with pytest.raises(AnsibleActionFail, match=r"mode.*cron"):
        run({"client": {"keys_dir": str(tmp_path), "mode": "cron", "service_mgr": "systemd"}}, host="gw")
