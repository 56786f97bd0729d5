"""The client role's model: what each device is told, from the fleet model, checked with the agent's
own config loader (the file the role writes must load on the device)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import load_agent_config
from ansible_collections.fleetdns.ddns.plugins.module_utils.client_files import (
    ClientSettings,
    DeviceFiles,
    agent_run_mode,
    device_files,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.fleet import build_fleet
from ansible_collections.fleetdns.ddns.plugins.module_utils.tsig import TsigKey, parse_keys

ADMIN_SECRET = "YWRtaW4tc2VjcmV0LWFkbWluLXNlY3JldA=="
DEVICE_SECRET = "ZGV2aWNlLXNlY3JldC1kZXZpY2Utc2VjcmV0IQ=="
TOKEN = "cf-token-0123456789"
DUCK = "duck-token-1234"
DYN_PASSWORD = "dyn,pass#word'x"
NAMECHEAP = "nc-password-abc"
FREEDNS = "free-password"

INVENTORY: dict[str, Any] = {
    "fleetdns_owner": "fleet-main",
    "fleetdns_providers": {
        "lab": {
            "type": "rfc2136",
            "server": "192.0.2.53",
            "port": 5353,
            "tsig_key_name": "fleet-admin",
            "tsig_secret": ADMIN_SECRET,
        },
        "cf": {"type": "cloudflare", "api_token": TOKEN},
        "duck": {"type": "duckdns", "token": DUCK},
        "noip": {"type": "dyndns2", "username": "me", "password": DYN_PASSWORD},
        "dyn": {"type": "dyndns2", "username": "me", "password": DYN_PASSWORD, "server": "https://members.dyndns.org"},
        "nc": {"type": "namecheap", "domain": "nc.test", "password": NAMECHEAP},
        "free": {"type": "freedns", "username": "freeuser", "password": FREEDNS},
        "freetoken": {"type": "freedns", "token": "tok-tok"},
    },
    "fleetdns_zones": {
        "example.test": {"provider": "lab"},
        "other.test": {"provider": "lab"},
        "cf.test": {"provider": "cf"},
        "duckdns.org": {"provider": "duck"},
        "ddns.net": {"provider": "noip"},
        "dyn.test": {"provider": "dyn"},
        "nc.test": {"provider": "nc"},
        "mooo.com": {"provider": "free"},
        "tok.test": {"provider": "freetoken"},
        "files.test": {},
    },
}
SECRETS = (ADMIN_SECRET, DEVICE_SECRET, TOKEN, DUCK, DYN_PASSWORD, NAMECHEAP, FREEDNS)


def device_key(name: str = "gw") -> TsigKey:
    return TsigKey(name, "hmac-sha256", DEVICE_SECRET)


def files_of(hosts: dict[str, dict[str, Any]], host: str, key: TsigKey | None = None, **settings: Any) -> DeviceFiles:
    fleet = build_fleet(INVENTORY, hosts)
    return device_files(fleet, fleet.clients[host], ClientSettings(**settings), key)


def loaded(tmp_path: Path, text: str):
    path = tmp_path / "agent.json"
    path.write_text(text)
    os.chmod(path, 0o600)
    return load_agent_config(str(path))


def test_an_idna_name_reaches_the_agent_in_ascii_and_the_device_signs_with_its_own_key(tmp_path: Path) -> None:
    files = files_of({"gw": {"fleetdns_names": ["Café.example.test"]}}, "gw", device_key(), static_ipv4="192.0.2.7")
    assert not files.problems
    data = json.loads(files.agent_config)
    assert data["names"] == [{"name": "xn--caf-dma.example.test", "providers": ["lab"]}]
    lab = data["providers"]["lab"]
    assert (lab["server"], lab["port"], lab["zone"]) == ("192.0.2.53", 5353, "example.test")
    assert (lab["tsig_key_name"], lab["tsig_secret"], lab["ownership"]) == ("gw", DEVICE_SECRET, "key")
    assert ADMIN_SECRET not in files.agent_config  # the provider's own key never goes to a device
    assert data["detect"] == {"ipv4": {"static": "192.0.2.7"}}
    config = loaded(tmp_path, files.agent_config)
    assert [name.name for name in config.names] == ["xn--caf-dma.example.test."]
    assert DEVICE_SECRET in files.secrets and ADMIN_SECRET not in files.secrets


def test_several_names_in_several_zones_of_one_provider_get_one_entry_per_zone(tmp_path: Path) -> None:
    hosts = {"gw": {"fleetdns_names": ["gw.example.test", "vpn.example.test", "gw.other.test", "gw.cf.test"]}}
    files = files_of(hosts, "gw", device_key(), allow_non_global=True, ttl=120)
    data = json.loads(files.agent_config)
    assert sorted(data["providers"]) == ["cf", "lab@example.test", "lab@other.test"]
    assert [(n["name"], n["providers"]) for n in data["names"]] == [
        ("gw.example.test", ["lab@example.test"]),
        ("vpn.example.test", ["lab@example.test"]),
        ("gw.other.test", ["lab@other.test"]),
        ("gw.cf.test", ["cf"]),
    ]
    assert data["providers"]["cf"]["api_token"] == TOKEN and data["providers"]["cf"]["ownership"] == "markers"
    assert data["allow_non_global"] is True and data["providers"]["lab@other.test"]["ttl"] == 120
    config = loaded(tmp_path, files.agent_config)
    assert config.providers["lab@other.test"].zone == "other.test."
    assert TOKEN in files.secrets


def test_a_host_on_update_only_services_gets_their_credentials_and_no_zone(tmp_path: Path) -> None:
    hosts = {"cam": {"fleetdns_names": ["cam.duckdns.org", "cam.ddns.net"]}}
    files = files_of(hosts, "cam")
    assert not files.problems
    data = json.loads(files.agent_config)
    assert (data["providers"]["duck"]["type"], data["providers"]["duck"]["token"]) == ("duckdns", DUCK)
    assert "zone" not in data["providers"]["duck"] and "ownership" not in data["providers"]["noip"]
    config = loaded(tmp_path, files.agent_config)
    assert sorted(config.providers) == ["duck", "noip"]
    fleet = build_fleet(INVENTORY, hosts)
    assert [zone.to_dict()["update_only"] for zone in fleet.clients["cam"].zones] == [True, True]
    assert fleet.clients["cam"].to_dict()["signs_with_key"] is False


def test_a_missing_device_key_is_a_problem_naming_the_role_that_makes_it() -> None:
    files = files_of({"gw": {"fleetdns_names": ["gw.example.test"]}}, "gw", None)
    assert "no TSIG key named 'gw'" in str(files.problems[0]) and "bind_server" in str(files.problems[0])
    assert not files.agent_config


def test_ddclient_gets_nsupdate_with_the_device_key_one_setting_per_line_password_last() -> None:
    hosts = {"s1": {"fleetdns_names": ["s1.example.test"], "fleetdns_agent": "ddclient"}}
    files = files_of(hosts, "s1", device_key("s1"), static_ipv4="192.0.2.9", ddclient_key_file="/etc/ddclient/s1.key")
    assert not files.problems and not files.agent_config
    lines = files.ddclient_conf.splitlines()
    block = lines[lines.index("protocol=nsupdate") :]
    assert block == [
        "protocol=nsupdate",
        "server=192.0.2.53:5353",
        "login=/usr/bin/nsupdate",
        "zone=example.test",
        "ttl=60",
        "min-error-interval=0",
        "password=/etc/ddclient/s1.key",
        "s1.example.test",
    ]
    assert "use=ip" in lines and "ip=192.0.2.9" in lines and "ssl=yes" in lines
    assert all("," not in line for line in lines if not line.startswith("#"))
    (key,) = parse_keys(files.ddclient_key)
    assert (key.name, key.secret) == ("s1", DEVICE_SECRET)
    assert DEVICE_SECRET not in files.ddclient_conf


def test_ddclient_speaks_each_services_protocol_from_the_same_provider_definitions() -> None:
    names = ["a.cf.test", "a.duckdns.org", "a.ddns.net", "a.dyn.test", "a.nc.test", "a.mooo.com"]
    files = files_of({"d": {"fleetdns_names": names, "fleetdns_agent": "ddclient"}}, "d", ddclient_interface="eth0")
    assert not files.problems
    text = files.ddclient_conf
    for block in (
        "protocol=cloudflare\nmin-error-interval=300\nserver=api.cloudflare.com/client/v4\nzone=cf.test\nlogin=token\nttl=1\n"
        f"password='{TOKEN}'\na.cf.test\n",
        f"protocol=duckdns\nmin-error-interval=300\nserver=www.duckdns.org\nlogin=unused\npassword='{DUCK}'\na.duckdns.org\n",
        f"protocol=noip\nmin-error-interval=300\nserver=dynupdate.no-ip.com\nlogin=me\npassword='{DYN_PASSWORD}'\na.ddns.net\n",
        f"protocol=dyndns2\nmin-error-interval=300\nserver=members.dyndns.org\nscript=/nic/update\nlogin=me\npassword='{DYN_PASSWORD}'\n"
        "a.dyn.test\n",
        f"protocol=namecheap\nmin-error-interval=300\nserver=dynamicdns.park-your-domain.com\nlogin=nc.test\npassword='{NAMECHEAP}'\n"
        "a.nc.test\n",
        f"protocol=freedns\nmin-error-interval=300\nserver=freedns.afraid.org\nlogin=freeuser\npassword='{FREEDNS}'\na.mooo.com\n",
    ):
        assert block in text
    assert "use=if\nif=eth0\n" in text


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["a.files.test"], "ddclient cannot update a zonefile provider"),
        (["a.tok.test"], "freedns protocol logs in with the account's username and password"),
    ],
)
def test_what_ddclient_cannot_do_is_a_problem_with_a_way_out(names: list[str], message: str) -> None:
    files = files_of({"d": {"fleetdns_names": names, "fleetdns_agent": "ddclient"}}, "d")
    assert message in str(files.problems[0]) and "fleetdns" in str(files.problems[0])
    assert not files.ddclient_conf


def test_no_secret_shows_in_the_models_facts() -> None:
    hosts = {"gw": {"fleetdns_names": ["gw.example.test", "gw.cf.test", "gw.duckdns.org"]}}
    fleet = build_fleet(INVENTORY, hosts)
    facts = str(fleet.clients["gw"].to_dict())
    assert not [secret for secret in SECRETS if secret in facts]


@pytest.mark.parametrize(
    ("requested", "service_mgr", "mode"),
    [
        ("service", "systemd", "service"),
        ("timer", "systemd", "timer"),
        ("service", "sysvinit", "cron"),
        ("timer", "openrc", "cron"),
        # A container started without an init: Ansible reports the command it runs, or nothing.
        ("timer", "sleep", "cron"),
        ("service", "", "cron"),
        ("service", None, "cron"),
    ],
)
def test_the_agent_runs_as_asked_under_systemd_and_from_cron_anywhere_else(requested, service_mgr, mode) -> None:
    assert agent_run_mode(requested, service_mgr) == mode


def test_an_unknown_run_mode_is_refused_with_the_modes_it_can_be() -> None:
    with pytest.raises(ValueError, match=r"fleetdns_agent_mode is 'cron'; use one of: service, timer"):
        agent_run_mode("cron", "sysvinit")
