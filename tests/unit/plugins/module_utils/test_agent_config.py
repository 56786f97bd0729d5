from __future__ import annotations

from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import (
    DEVICE_TTL,
    default_state_path,
    load_agent_config,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils import agent_fakes
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.agent_fakes import (
    SECRET,
    basic_config,
    fake_provider,
    write_config,
)

fake_services = agent_fakes.fake_services  # the fixture, used through pytestmark
pytestmark = pytest.mark.usefixtures("fake_services")


def problems(path: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_agent_config(path)
    return [str(p) for p in caught.value.problems]


def rfc2136(**extra: object) -> dict:
    return {
        "type": "rfc2136",
        "zone": "example.test",
        "server": "127.0.0.1",
        "port": 5353,
        "tsig_key_name": "gw",
        "tsig_secret": "c2VjcmV0LXNlY3JldC1zZWNyZXQ=",
        **extra,
    }


def test_a_valid_config_gets_its_defaults(tmp_path: Path) -> None:
    path = write_config(tmp_path, basic_config())
    config = load_agent_config(path)
    assert [n.name for n in config.names] == ["gw.dyn.test."]
    assert config.names[0].providers == ["a", "b"] and config.names[0].families == (4,)
    assert config.detect[4].static == "8.8.8.8" and 6 not in config.detect
    assert config.state_file == default_state_path(path) == str(tmp_path / "agent.state.json")
    assert config.settings["interval"] == 300 and config.settings["min_update_interval"] == 60
    assert config.ttl_for(config.names[0], config.providers["a"]) == DEVICE_TTL == 60
    assert SECRET in config.secrets


def test_ttl_of_the_name_wins_over_the_providers(tmp_path: Path) -> None:
    data = {
        "names": [
            {"name": "gw.example.test", "providers": ["p"], "ttl": 30},
            {"name": "b.example.test", "providers": ["p"]},
        ],
        "providers": {"p": rfc2136(ttl=120)},
        "detect": {"ipv4": {"static": "8.8.8.8"}, "ipv6": False},
    }
    config = load_agent_config(write_config(tmp_path, data))
    provider = config.providers["p"]
    assert [config.ttl_for(n, provider) for n in config.names] == [30, 120]
    assert provider.verify_servers == [("127.0.0.1", 5353)]  # the primary, by default


def test_a_file_others_may_read_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, basic_config(), mode=0o644)
    found = problems(path)
    assert found == [
        f"{path}:1:1: {path} may be read by group or others (mode 0644); it holds credentials (hint: chmod 600 {path})"
    ]


def test_invalid_json_is_located(tmp_path: Path) -> None:
    path = write_config(tmp_path, '{\n  "names": [],\n}\n')
    assert problems(path) == [
        f"{path}:3:1: invalid JSON: expected a key in double quotes (a trailing comma is not allowed in JSON) "
        "(hint: the agent's config file is JSON (RFC 8259))"
    ]


def test_a_name_outside_the_providers_zone_is_refused(tmp_path: Path) -> None:
    data = {
        "names": [{"name": "gw.other.test", "providers": ["p"]}],
        "providers": {"p": rfc2136()},
        "detect": {"ipv4": {"static": "8.8.8.8"}, "ipv6": False},
    }
    path = write_config(tmp_path, data)
    assert problems(path) == [
        f"{path}:6:9: names[0].providers[0]: provider 'p' serves zone example.test.; "
        "gw.other.test. is outside it (hint: use a provider of the name's zone, or correct the provider's zone)"
    ]


def test_an_update_only_provider_with_a_zone_is_checked_too(tmp_path: Path) -> None:
    data = basic_config(providers={"a": fake_provider("a", zone="duckdns.org"), "b": fake_provider("b")})
    found = problems(write_config(tmp_path, data))
    assert len(found) == 1 and "provider 'a' serves zone duckdns.org.; gw.dyn.test. is outside it" in found[0]


def test_every_problem_is_reported_with_its_line_and_no_secret(tmp_path: Path) -> None:
    data = basic_config(
        interval=1,
        detect={"ipv4": {"static": "not-an-ip"}, "ipv7": {}},
        providers={"a": fake_provider("a", pasword=SECRET), "b": {"type": "nosuch"}, "c": rfc2136(zone=None)},
        names=[
            {"name": "gw.dyn.test", "providers": ["a", "zz"], "famlies": []},
            {"name": "gw.dyn.test", "providers": ["a"]},
        ],
    )
    del data["providers"]["c"]["zone"]
    path = write_config(tmp_path, data)
    found = problems(path)
    text = "\n".join(found)
    assert SECRET not in text
    expected = [
        "interval: an interval under 10 s would hammer the sources",
        "detect.ipv7: unknown key 'ipv7'",
        "detect.ipv4.static: 'not-an-ip' is not an IPv4 address",
        "providers.a.pasword: unknown key 'pasword' (hint: did you mean 'password'?)",
        "providers.b.type: unknown provider type 'nosuch'",
        "providers.c: a rfc2136 provider needs 'zone'",
        "names[0].famlies: unknown key 'famlies'",
        "names[0].providers[1]: unknown provider 'zz'",
        "names[1].name: gw.dyn.test. is listed twice",
    ]
    for item in expected:
        assert item in text, text
    assert all(line.startswith(f"{path}:") for line in found), text
    assert len(found) == len(expected), text


def test_providers_with_their_own_problems_are_not_reported_again_at_the_name(tmp_path: Path) -> None:
    data = basic_config(providers={"a": {"type": "fakeddns", "service": "a"}, "b": fake_provider("b")})
    found = problems(write_config(tmp_path, data))
    assert len(found) == 1 and "providers.a: missing required option 'password'" in found[0]


@pytest.mark.parametrize(
    ("detect", "message"),
    [
        ({"ipv4": {"static": "8.8.8.8", "command": ["x"]}}, "static and command exclude each other"),
        ({"ipv4": {"command": "wan-ip"}}, "must be a list of strings"),
        ({"ipv4": {"sources": ["nosuch"]}}, "unknown source 'nosuch'"),
        ({"ipv4": {"sources": ["ipify"], "quorum": 2}}, "quorum 2 is more than the 1 source(s)"),
        ({"ipv6": {"static": "8.8.8.8"}}, "'8.8.8.8' is not an IPv6 address"),
        ({"ipv4": {"timeout": 0}}, "0 is not a number of seconds from 0 to 120"),
        ({"ipv6": {"interface": "eth0", "static": "2001:db8::1"}}, "static and interface exclude each other"),
        ({"ipv6": {"interface": "eth 0"}}, "'eth 0' is not an interface name"),
        ({"ipv6": {"interface": False}}, "False is not an interface name"),
        ({"ipv4": "yes"}, "must be an object or false"),
    ],
)
def test_detection_problems(tmp_path: Path, detect: dict, message: str) -> None:
    found = problems(write_config(tmp_path, basic_config(detect=detect)))
    assert any(message in line for line in found), found


def test_a_family_that_is_off_cannot_be_asked_for(tmp_path: Path) -> None:
    data = basic_config(names=[{"name": "gw.dyn.test", "providers": ["a"], "families": ["ipv6"]}])
    found = problems(write_config(tmp_path, data))
    assert any("IPv6 detection is off" in line for line in found), found


def test_verify_servers_are_parsed(tmp_path: Path) -> None:
    data = basic_config(
        providers={
            "a": fake_provider("a", verify_servers=["ns1.dyn.test", "192.0.2.1:5353", "[2001:db8::1]:53", "x:y"]),
            "b": fake_provider("b"),
        }
    )
    found = problems(write_config(tmp_path, data))
    assert len(found) == 1 and "providers.a.verify_servers[3]: 'x:y' is not a host" in found[0]
    data["providers"]["a"]["verify_servers"].pop()
    config = load_agent_config(write_config(tmp_path, data))
    assert config.providers["a"].verify_servers == [("ns1.dyn.test", 53), ("192.0.2.1", 5353), ("2001:db8::1", 53)]


def test_the_device_ttl_is_the_default_for_every_zone_provider(tmp_path: Path) -> None:
    data = {"names": [{"name": "gw.example.test", "providers": ["p"]}], "providers": {"p": rfc2136()},
            "detect": {"ipv4": {"static": "8.8.8.8"}, "ipv6": False}}  # fmt: skip
    config = load_agent_config(write_config(tmp_path, data))
    assert config.ttl_for(config.names[0], config.providers["p"]) == DEVICE_TTL == 60


def test_an_update_only_service_cannot_be_given_a_ttl(tmp_path: Path) -> None:
    found = problems(write_config(tmp_path, basic_config(providers={"a": fake_provider("a", ttl=60),
                                                                    "b": fake_provider("b")})))  # fmt: skip
    assert any("providers.a.ttl: a fakeddns service sets the TTL of its names itself" in p for p in found), found


def test_a_name_ttl_needs_a_provider_that_sets_ttls(tmp_path: Path) -> None:
    data = basic_config(names=[{"name": "gw.dyn.test", "providers": ["a", "b"], "ttl": 120}])
    found = problems(write_config(tmp_path, data))
    assert any("names[0].ttl: none of its providers sets TTLs (a, b: update-only" in p for p in found), found


CLOUDFLARE = {"type": "cloudflare", "zone": "example.test", "api_token": "cf-token-secret-1234567890"}


@pytest.mark.parametrize(("where", "ttl", "ok"), [("provider", 1, True), ("provider", 10, False),
                                                  ("name", 90000, False), ("name", 120, True)])  # fmt: skip
def test_a_ttl_the_service_refuses_is_refused_before_anything_is_sent(
    tmp_path: Path, where: str, ttl: int, ok: bool
) -> None:
    name = {"name": "gw.example.test", "providers": ["cf"], **({"ttl": ttl} if where == "name" else {})}
    provider = {**CLOUDFLARE, **({"ttl": ttl} if where == "provider" else {})}
    data = {"names": [name], "providers": {"cf": provider}, "detect": {"ipv4": {"static": "8.8.8.8"}, "ipv6": False}}
    path = write_config(tmp_path, data)
    if ok:
        config = load_agent_config(path)
        assert config.ttl_for(config.names[0], config.providers["cf"]) == ttl
    else:
        found = problems(path)
        assert any(f"TTL {ttl} is refused by cloudflare: it takes 30 to 86400, or 1" in p for p in found), found


def test_the_interface_detection_is_configured(tmp_path: Path) -> None:
    data = basic_config(detect={"ipv4": {"interface": "wan0"}, "ipv6": {"interface": True}})
    config = load_agent_config(write_config(tmp_path, data))
    assert (config.detect[4].interface, config.detect[6].interface) == ("wan0", "*")
