from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.config import validate
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError
from ansible_collections.fleetdns.ddns.plugins.module_utils.fleet import build_fleet

SECRET = "c2VjcmV0LXNlY3JldA=="
TOKEN = "cf-token-0123456789"


def inventory(**providers: Any) -> dict[str, Any]:
    return {
        "fleetdns_providers": {
            "lab": {"type": "rfc2136", "server": "192.0.2.53", "tsig_key_name": "Fleet-Admin", "tsig_secret": SECRET},
            "cf": {"type": "cloudflare", "api_token": TOKEN},
            **providers,
        },
        "fleetdns_zones": {
            "Example.Test.": {"provider": "lab", "default_ttl": 300},
            "sub.example.test": {"provider": "lab"},
            "cf.test": {"provider": "cf"},
            "files.test": {},
        },
    }


HOSTS = {
    "GW": {"fleetdns_names": ["gw.example.test", "cam.sub.example.test.", "gw.cf.test"], "fleetdns_acme": True},
    "sensor-01": {"fleetdns_names": "sensor-01.example.test", "fleetdns_agent": "ddclient"},
    "ns1": {},
}


def test_a_client_gets_its_names_grouped_by_the_longest_zone_with_the_providers_it_reaches() -> None:
    fleet = build_fleet(inventory(), HOSTS)
    gw = fleet.clients["GW"].to_dict()
    assert (gw["key_name"], gw["agent"], gw["acme"]) == ("gw", "fleetdns", True)
    assert [(z["zone"], z["provider"], z["provider_type"], z["names"]) for z in gw["zones"]] == [
        ("example.test", "lab", "rfc2136", ["gw.example.test."]),
        ("sub.example.test", "lab", "rfc2136", ["cam.sub.example.test."]),
        ("cf.test", "cf", "cloudflare", ["gw.cf.test."]),
    ]
    # connection settings, but never a secret, and not the provider's own key: a device signs with its own
    assert gw["zones"][0]["settings"] == {"server": "192.0.2.53", "port": 53, "timeout": 10, "deadline": 300}
    assert "api_token" not in gw["zones"][2]["settings"]
    assert SECRET not in str(fleet.clients) and TOKEN not in str(fleet.clients)
    assert fleet.clients["sensor-01"].agent == "ddclient"
    assert "ns1" not in fleet.clients  # no names, no client


def test_zones_carry_their_device_names_and_say_which_provider_applies_them() -> None:
    fleet = build_fleet(inventory(), HOSTS)
    zones = {zone: fleet.zone_dict(zone) for zone in fleet.config.zones}
    example = zones["example.test."]
    assert (example["name"], example["key"], example["default_ttl"]) == ("example.test", "Example.Test.", 300)
    assert example["device_names"] == ["gw.example.test.", "sensor-01.example.test."]
    assert example["builtin_provider"] is None
    # a zone without provider uses the built-in zonefile default, whose settings hold no secret
    assert zones["files.test."]["provider"] == "default"
    assert zones["files.test."]["builtin_provider"] == {"type": "zonefile", "directory": "zones"}


def test_a_unicode_device_name_is_spelled_as_the_cli_registers_it() -> None:
    hosts = {"cafe": {"fleetdns_names": ["Café.Example.Test"]}}
    fleet = build_fleet(inventory(), hosts)
    registered = {name for name, _unused in validate(inventory(), hosts).desired("example.test.").registered}
    assert registered == {"xn--caf-dma.example.test."}
    assert [device.name for device in fleet.device_names("example.test.")] == sorted(registered)


def test_an_invalid_inventory_raises_every_problem_and_never_shows_a_secret() -> None:
    all_vars = inventory(bad={"type": "rfc2136", "server": "x", "tsig_key_name": "k", "tsig_secret": "not base64!"})
    all_vars["fleetdns_zones"]["bad.test"] = {"provider": "bad"}
    hosts = {"gw": {"fleetdns_names": ["gw.nowhere.test"]}}
    with pytest.raises(ConfigError) as raised:
        build_fleet(all_vars, hosts)
    text = str(raised.value)
    assert "gw.nowhere.test is in none of the zones" in text
    assert "tsig_secret is not valid base64" in text
    assert "not base64!" not in text


def test_a_provider_key_without_secret_is_made_by_the_server_role_only() -> None:
    all_vars = inventory(made={"type": "rfc2136", "server": "192.0.2.54", "tsig_key_name": "Made-Here"})
    all_vars["fleetdns_zones"]["made.test"] = {"provider": "made"}
    with pytest.raises(ConfigError, match="tsig_key_name and tsig_secret go together"):
        build_fleet(all_vars, HOSTS)
    fleet = build_fleet(all_vars, HOSTS, make_missing_keys=True)
    assert fleet.admin_key("made").to_dict() == {
        "name": "made-here", "provider": "made", "algorithm": "hmac-sha256", "inline": False,
    }  # fmt: skip
    assert fleet.admin_key("lab").inline is True
    assert fleet.config.providers["made"].options["tsig_secret"] is None  # no stand-in secret is left behind
    assert fleet.admin_key("cf") is None


@pytest.mark.parametrize(
    ("hosts", "fragment"),
    [
        ({"fleet-admin": {"fleetdns_names": ["a.example.test"]}}, "which is already the admin key of provider 'lab'"),
        (
            {"GW": {"fleetdns_names": ["a.example.test"]}, "gw": {"fleetdns_names": ["b.example.test"]}},
            "hosts GW and gw would share the TSIG key name 'gw'",
        ),
        ({"gw/1": {"fleetdns_names": ["a.example.test"]}}, "host gw/1: its TSIG key is named after it"),
    ],
)
def test_host_names_that_cannot_be_key_names_are_problems(hosts: dict[str, Any], fragment: str) -> None:
    fleet = build_fleet(inventory(), hosts)
    assert any(fragment in str(problem) for problem in fleet.problems), fleet.problems


def test_hosts_with_sound_names_have_no_key_problems() -> None:
    assert build_fleet(inventory(), HOSTS).problems == []


def test_a_zone_of_an_update_only_provider_is_marked_so() -> None:
    all_vars = inventory(noip={"type": "dyndns2", "username": "u@example.test", "password": "Secret-Key-77"})
    all_vars["fleetdns_zones"]["ddns.example.org"] = {"provider": "noip"}
    fleet = build_fleet(all_vars, {"gw": {"fleetdns_names": ["gw.example.test", "home.ddns.example.org"]}})
    assert fleet.zone_dict("ddns.example.org.")["update_only"] is True
    assert fleet.zone_dict("ddns.example.org.")["device_names"] == ["home.ddns.example.org."]
    assert fleet.zone_dict("example.test.")["update_only"] is False
    assert "Secret-Key-77" not in str(fleet.zone_dict("ddns.example.org."))
