from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.bind_server import (
    ServerSettings,
    glue_address,
    server_model,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.fleet import build_fleet

PROVIDERS = {
    "lab": {"type": "rfc2136", "server": "192.0.2.53", "tsig_key_name": "fleet-admin"},
    "legacy": {"type": "rfc2136", "server": "ns2", "port": 5353, "tsig_key_name": "legacy", "tsig_secret": "c2VjcmV0"},
    "files": {"type": "zonefile"},
}
ZONES = {
    "example.test": {
        "provider": "lab",
        "records": [
            {"name": "@", "type": "NS", "value": ["ns1", "ns.elsewhere.test.", "b.elsewhere.test."]},
            {"name": "ns1", "type": "A", "value": "192.0.2.53"},
            {"name": "ns1", "type": "AAAA", "value": "2001:DB8::53"},
        ],
    },
    "sub.example.test": {"provider": "lab"},
    "acl.test": {"provider": "legacy"},
    "files.test": {"provider": "files"},
}
HOSTS = {
    "gw": {"fleetdns_names": ["gw.example.test", "cam.sub.example.test"], "fleetdns_acme": True},
    "sensor-01": {"fleetdns_names": ["sensor-01.example.test"]},
    "cam": {"fleetdns_names": ["cam.acl.test"]},
    "printer": {"fleetdns_names": ["printer.files.test"]},
}
CLIENTS = ["gw", "sensor-01", "cam", "printer"]


def model(host: str = "ns1", fleet_zones: dict | None = None, **settings: Any) -> tuple[dict[str, Any], list[str]]:
    """The server model of `host` (and its problems) for ZONES with `fleet_zones` put over them."""
    all_vars = {"fleetdns_providers": PROVIDERS, "fleetdns_zones": {**ZONES, **(fleet_zones or {})}}
    fleet = build_fleet(all_vars, HOSTS, make_missing_keys=True)
    settings.setdefault("clients", CLIENTS)
    result, problems = server_model(fleet, ServerSettings(host, **settings))
    return result, [str(problem) for problem in problems]


def by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {zone["name"]: zone for zone in result["zones"]}


def test_a_server_serves_the_zones_whose_rfc2136_provider_names_it() -> None:
    assert [z["name"] for z in model(identities=["192.0.2.53"])[0]["zones"]] == ["example.test", "sub.example.test"]
    assert [z["name"] for z in model("NS2", port=5353)[0]["zones"]] == ["acl.test"]  # by inventory name
    assert model("ns3")[0]["zones"] == []


def test_bind_server_zones_overrides_the_choice_and_must_name_known_zones() -> None:
    result, problems = model("ns1", zones=["Files.Test.", "missing.test"], nameserver_address="192.0.2.9")
    assert [z["name"] for z in result["zones"]] == ["files.test"]
    assert problems == [
        "bind_server_zones lists missing.test, which is not in fleetdns_zones "
        "(hint: add it there or remove it from bind_server_zones)"
    ]


def test_each_device_gets_a_grant_for_exactly_its_names_in_the_longest_zone() -> None:
    result, problems = model(identities=["192.0.2.53"], nameserver_address="192.0.2.53")
    assert problems == []
    zones = by_name(result)
    assert zones["example.test"]["update_policy"] == [
        "grant fleet-admin zonesub ANY;",
        "grant gw name gw.example.test. A AAAA;",
        "grant gw name _acme-challenge.gw.example.test. TXT;",
        "grant sensor-01 name sensor-01.example.test. A AAAA;",
    ]
    assert zones["sub.example.test"]["update_policy"][1:] == [
        "grant gw name cam.sub.example.test. A AAAA;",
        "grant gw name _acme-challenge.cam.sub.example.test. TXT;",
    ]
    assert result["device_keys"] == [
        {"name": "gw", "host": "gw", "algorithm": "hmac-sha256"},
        {"name": "sensor-01", "host": "sensor-01", "algorithm": "hmac-sha256"},
    ]
    assert result["admin_keys"] == [
        {"name": "fleet-admin", "provider": "lab", "algorithm": "hmac-sha256", "inline": False}
    ]
    assert zones["example.test"]["allow_transfer"] == ["key fleet-admin"]


def test_only_the_listed_clients_get_keys_and_grants() -> None:
    result, _unused = model(identities=["192.0.2.53"], clients=["sensor-01", "not-in-inventory"])
    assert [key["host"] for key in result["device_keys"]] == ["sensor-01"]
    assert "gw" not in str(by_name(result)["example.test"]["update_policy"])
    # the controller keeps the keys of the fleet's clients and the keys the role makes, not only this server's
    assert result["controller_keys"] == ["fleet-admin", "sensor-01"]


def test_extra_grants_come_last_and_allow_update_refuses_grants_beside_it() -> None:
    options = {"example.test": {"extra_grants": ["grant acme wildcard *.example.test. TXT"]}}
    result, _unused = model(identities=["192.0.2.53"], zone_options=options)
    assert by_name(result)["example.test"]["update_policy"][-1] == "grant acme wildcard *.example.test. TXT;"

    options = {"acl.test.": {"allow_update": ["192.0.2.0/24"], "allow_transfer": ["none"]}}
    result, problems = model("ns2", port=5353, zone_options=options, nameserver_address="192.0.2.2")
    acl = by_name(result)["acl.test"]
    assert (acl["allow_update"], acl["update_policy"], acl["allow_transfer"]) == (["192.0.2.0/24"], [], ["none"])
    assert len(problems) == 1
    assert "zone acl.test: bind_server_zone_options sets allow_update, but cam has fleetdns_names in it" in problems[0]
    assert "BIND refuses allow-update and update-policy in one zone" in problems[0]


def test_a_port_other_than_the_providers_is_refused() -> None:
    _unused, problems = model("ns2", nameserver_address="192.0.2.2")
    assert problems == [
        "zone acl.test: provider 'legacy' uses port 5353 but named on ns2 listens on bind_server_port 53 "
        "(hint: make them equal)"
    ]


def test_zone_options_are_checked() -> None:
    _unused, problems = model(
        identities=["192.0.2.53"], zone_options={"example.test": {"allow_updates": []}, "a..b": {}}
    )
    assert any("unknown key 'allow_updates'" in problem for problem in problems)
    assert any("empty label" in problem for problem in problems)


def test_declared_ns_and_their_addresses_make_the_apex_and_glue_of_a_new_zone() -> None:
    zone = by_name(model(identities=["192.0.2.53"])[0])["example.test"]
    assert zone["nameservers"] == ["b.elsewhere.test.", "ns.elsewhere.test.", "ns1.example.test."]
    assert zone["glue"] == [
        {"name": "ns1.example.test.", "type": "A", "value": "192.0.2.53"},
        {"name": "ns1.example.test.", "type": "AAAA", "value": "2001:db8::53"},
    ]
    assert zone["soa"]["mname"] == "ns1.example.test."  # this server, being one of them


def test_an_in_zone_name_server_without_address_is_refused() -> None:
    zones = {"example.test": {"provider": "lab", "records": [{"name": "@", "type": "NS", "value": "a.ns"}]}}
    _unused, problems = model(identities=["192.0.2.53"], fleet_zones=zones)
    assert (
        "zone example.test: name server a.ns.example.test. is inside the zone but has no address "
        "(hint: declare its A record in fleetdns_zones or set bind_server_nameserver_address)"
    ) in problems
    _unused, problems = model(identities=["192.0.2.53"], fleet_zones=zones, nameserver_address="not-an-address")
    assert (
        "bind_server_nameserver_address: 'not-an-address' is not an IP address "
        "(hint: write an IPv4 or IPv6 address, like 192.0.2.53)"
    ) in problems
    assert not any("has no address" in problem for problem in problems)


def test_without_declared_ns_the_zone_or_role_nameservers_or_this_host_are_used() -> None:
    zones = {"sub.example.test": {"provider": "lab"}}
    own = by_name(model(identities=["192.0.2.53"], fleet_zones=zones, nameserver_address="2001:db8::1")[0])
    assert own["sub.example.test"]["nameservers"] == ["ns1.sub.example.test."]
    assert own["sub.example.test"]["glue"] == [
        {"name": "ns1.sub.example.test.", "type": "AAAA", "value": "2001:db8::1"}
    ]
    role = by_name(
        model("ns1.example.net", identities=["192.0.2.53"], fleet_zones=zones, nameservers=["ns.example.net."])[0]
    )
    assert role["sub.example.test"]["nameservers"] == ["ns.example.net."]
    assert role["sub.example.test"]["glue"] == []
    options = {"sub.example.test": {"nameservers": ["ns9.example.net.", "ns1.example.net."]}}
    zone = by_name(model("ns1.example.net", identities=["192.0.2.53"], fleet_zones=zones, zone_options=options)[0])
    assert zone["sub.example.test"]["nameservers"] == ["ns1.example.net.", "ns9.example.net."]
    assert zone["sub.example.test"]["soa"]["mname"] == "ns1.example.net."


@pytest.mark.parametrize(
    ("contact", "rname"),
    [
        ("hostmaster", "hostmaster.sub.example.test."),
        ("dns-admin@example.net", "dns-admin.example.net."),
        ("admin.example.org.", "admin.example.org."),
    ],
)
def test_the_soa_contact_becomes_the_rname(contact: str, rname: str) -> None:
    zones = {"sub.example.test": {"provider": "lab"}}
    result, _unused = model(
        identities=["192.0.2.53"], fleet_zones=zones, soa_contact=contact, nameserver_address="192.0.2.53"
    )
    soa = by_name(result)["sub.example.test"]["soa"]
    assert soa == {
        "mname": "ns1.sub.example.test.", "rname": rname, "refresh": 3600, "retry": 900, "expire": 1209600,
        "minimum": 300,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("given", "ansible_host", "default_ipv4", "expected"),
    [
        ("192.0.2.9", "192.0.2.53", "10.0.0.1", "192.0.2.9"),
        ("", "192.0.2.53", "10.0.0.1", "192.0.2.53"),
        ("", "2001:db8::53", "", "2001:db8::53"),
        ("", "ns1.example.test", "10.0.0.1", "10.0.0.1"),
        ("", "ns1.example.test", None, ""),
        ("ns1", "192.0.2.53", "", "ns1"),  # given but no address: kept, so the model names it
    ],
)
def test_glue_address(given: str, ansible_host: str, default_ipv4: Any, expected: str) -> None:
    assert glue_address(given, ansible_host, default_ipv4) == expected
