"""config.validate: good inventories become the expected FleetConfig; bad ones list every problem."""

from __future__ import annotations

import random
from typing import Any, ClassVar

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils import providers as registry
from ansible_collections.fleetdns.ddns.plugins.module_utils.config import (
    DEFAULT_OWNER,
    DEFAULT_TTL,
    FleetConfig,
    validate,
    validate_owner,
    validate_provider,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError, Location
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.base import (
    NO_STORE,
    Capabilities,
    Option,
    UpdateAnswer,
    UpdateOnlyProvider,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet
from hypothesis import given, settings
from hypothesis import strategies as st

ZONE = "example.test."


def fleet(**all_vars: Any) -> dict[str, Any]:
    return all_vars


def problems(all_vars: dict, hosts: dict | None = None, locate: Any = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate(all_vars, hosts or {}, locate)
    return [str(p) for p in caught.value.problems]


# -- good inventories -------------------------------------------------------------------------------------


def test_empty_inventory_uses_the_embedded_default() -> None:
    config = validate({}, {})
    assert config.owner == DEFAULT_OWNER
    assert list(config.providers) == ["default"]
    default = config.providers["default"]
    assert default.type == "zonefile" and default.options["directory"] == "zones"
    assert config.zones == {} and config.hosts == {}


def test_zone_records_are_normalised() -> None:
    all_vars = fleet(
        fleetdns_owner="fleet-main",
        fleetdns_zones={
            "Example.TEST": {
                "default_ttl": 300,
                "records": [
                    {"name": "@", "type": "ns", "value": "ns1"},
                    {"name": "ns1", "type": "A", "value": "192.0.2.53"},
                    {"name": "WWW", "type": "CNAME", "value": "gw"},
                    {"name": "mail.example.test.", "type": "A", "values": ["192.0.2.25", "192.0.2.26"], "ttl": 3600},
                    {"name": "@", "type": "MX", "value": ["10 Mail.Example.Test."]},
                    {"name": "v6", "type": "AAAA", "value": "2001:DB8:0:0::0:10"},
                    {"name": "@", "type": "TXT", "value": "v=spf1 mx -all"},
                    {"name": "*.lab", "type": "A", "value": "192.0.2.7", "ttl": "60"},
                ],
            }
        },
    )
    config = validate(all_vars, {})
    zone = config.zones[ZONE]
    assert zone.provider == "default" and zone.default_ttl == 300
    assert zone.records == {
        (r.name, r.type): r
        for r in [
            RecordSet(ZONE, "NS", 300, frozenset({"ns1.example.test."})),
            RecordSet(f"ns1.{ZONE}", "A", 300, frozenset({"192.0.2.53"})),
            RecordSet(f"www.{ZONE}", "CNAME", 300, frozenset({"gw.example.test."})),
            RecordSet(f"mail.{ZONE}", "A", 3600, frozenset({"192.0.2.25", "192.0.2.26"})),
            RecordSet(ZONE, "MX", 300, frozenset({"10 mail.example.test."})),
            RecordSet(f"v6.{ZONE}", "AAAA", 300, frozenset({"2001:db8::10"})),
            RecordSet(ZONE, "TXT", 300, frozenset({'"v=spf1 mx -all"'})),
            RecordSet(f"*.lab.{ZONE}", "A", 60, frozenset({"192.0.2.7"})),
        ]
    }


def test_zone_without_settings_and_default_ttl() -> None:
    config = validate({"fleetdns_zones": {"example.test": None}}, {})
    assert config.zones[ZONE].default_ttl == DEFAULT_TTL and config.zones[ZONE].records == {}


def test_providers_get_their_defaults_and_secrets_are_known() -> None:
    all_vars = fleet(
        fleetdns_providers={
            "lab": {"type": "rfc2136", "server": "127.0.0.1", "tsig_key_name": "k", "tsig_secret": "c2VjcmV0"},
            "files": {"type": "zonefile", "directory": "out"},
        },
        fleetdns_zones={"example.test": {"provider": "lab"}, "other.test": {"provider": "files"}},
    )
    config = validate(all_vars, {})
    lab = config.providers["lab"]
    assert lab.options["port"] == 53 and lab.options["tsig_algorithm"] == "hmac-sha256"
    assert lab.redacted()["tsig_secret"] == "********"
    assert config.secrets() == ["c2VjcmV0"]
    assert config.providers["files"].options["directory"] == "out"
    assert set(config.providers) == {"default", "lab", "files"}
    assert config.notes == []


def test_templated_port_string_becomes_a_number() -> None:
    all_vars = fleet(
        fleetdns_providers={"lab": {"type": "rfc2136", "server": "127.0.0.1", "port": "5353"}},
        fleetdns_zones={"example.test": {"provider": "lab"}},
    )
    assert validate(all_vars, {}).providers["lab"].options["port"] == 5353


def test_hosts_and_the_desired_state() -> None:
    all_vars = fleet(
        fleetdns_zones={
            "example.test": {"records": [{"name": "www", "type": "CNAME", "value": "gw"}]},
            "lab.example.test": {},
        }
    )
    hosts = {
        "gw": {"fleetdns_names": ["GW.example.test"], "ansible_host": "192.0.2.1"},
        "sensor": {"fleetdns_names": "sensor.lab.example.test.", "fleetdns_agent": "ddclient", "fleetdns_acme": True},
        "ns1": {"ansible_host": "192.0.2.53"},
    }
    config = validate(all_vars, hosts)
    assert set(config.hosts) == {"gw", "sensor"}
    assert config.hosts["gw"].names == ["gw.example.test."] and config.hosts["gw"].agent == "fleetdns"
    assert config.hosts["sensor"].agent == "ddclient" and config.hosts["sensor"].acme is True
    desired = config.desired(ZONE)
    assert set(desired.records) == {(f"www.{ZONE}", "CNAME")}
    assert desired.registered == {(f"gw.{ZONE}", "A"), (f"gw.{ZONE}", "AAAA")}
    # the longest zone wins: sensor belongs to lab.example.test
    assert config.desired(f"lab.{ZONE}").registered == {(f"sensor.lab.{ZONE}", "A"), (f"sensor.lab.{ZONE}", "AAAA")}


def test_unused_provider_problems_are_notes_not_errors() -> None:
    all_vars = fleet(fleetdns_providers={"lab": {"type": "rfc2136", "port": 5353}, "spare": {"type": "zonefile"}})
    config = validate(all_vars, {})
    assert "lab" not in config.providers
    assert any("missing required option 'server'" in n and "not used by any zone" in n for n in config.notes)
    assert "provider 'spare' is not used by any zone" in config.notes


def test_config_is_a_fleet_config() -> None:
    assert isinstance(validate({}, {}), FleetConfig)


# -- problems ---------------------------------------------------------------------------------------------


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        fleet(
            fleetdns_owner="bad owner",
            fleetdns_zones={
                "example.test": {
                    "records": [
                        {"name": "www", "type": "A", "value": "300.1.1.1"},
                        {"name": "www", "type": "MX", "value": "mail"},
                        {"name": "x", "type": "A", "value": "192.0.2.1", "ttl": -1},
                    ]
                }
            },
        ),
        {"gw": {"fleetdns_names": ["gw.nowhere.test"], "fleetdns_agent": "inadyn"}},
    )
    assert len(found) == 6
    assert found[0].startswith("fleetdns_owner: owner id 'bad owner' is not valid")


@pytest.mark.parametrize("owner", ["fleet-main\n", "fleet-main\r\n", "fleet\nmain", " fleet-main"])
def test_an_owner_id_is_matched_whole(owner: str) -> None:
    # a YAML `|` block ends in a newline, which `$` in a pattern would have let through
    found = problems(fleet(fleetdns_owner=owner))
    assert len(found) == 1 and found[0].startswith("fleetdns_owner: owner id") and "is not valid" in found[0]
    with pytest.raises(ConfigError, match="is not valid"):
        validate_owner(owner)


def test_values_and_value_together() -> None:
    (problem,) = problems(
        fleet(fleetdns_zones={"example.test": {"records": [{"name": "a", "type": "A", "value": "1", "values": "2"}]}})
    )
    assert "give either 'value' or 'values', not both" in problem


def test_non_mapping_sections() -> None:
    found = problems({"fleetdns_providers": ["lab"], "fleetdns_zones": "example.test"})
    assert [p.split(": ", 1)[0] for p in found] == ["fleetdns_providers", "fleetdns_zones"]
    assert all("hint:" in p for p in found)


def test_zone_declared_twice_by_case() -> None:
    (problem,) = problems(fleet(fleetdns_zones={"example.test": {}, "EXAMPLE.test.": {}}))
    assert "declared twice" in problem


class FakeLocator:
    """Stands in for the inventory loader's locator: every value and key has a made-up place."""

    secrets: tuple[str, ...] = ("s3cr3t-value",)

    def __call__(self, container: Any, key: Any) -> Location:
        return Location("value.yml", 1, len(str(key)))

    def key(self, container: Any, key: Any) -> Location:
        return Location("key.yml", 2, len(str(key)))

    def unset_env(self, container: Any, key: Any) -> list[str]:
        return ["LAB_SECRET"] if key == "tsig_secret" else []


def test_key_problems_point_at_the_key_and_value_problems_at_the_value() -> None:
    all_vars = fleet(fleetdns_zones={"example.test": {"records": [{"name": "a", "type": "A", "vaule": "1"}]}})
    with pytest.raises(ConfigError) as caught:
        validate(all_vars, {}, FakeLocator())
    unknown, no_value = caught.value.problems
    assert unknown.location == Location("key.yml", 2, 5) and "unknown key 'vaule'" in unknown.message
    assert no_value.location == Location("value.yml", 1, 4) and "record has no 'value'" in no_value.message


def test_unset_environment_variable_is_named_in_the_hint() -> None:
    all_vars = fleet(
        fleetdns_providers={"lab": {"type": "rfc2136", "server": "ns1", "tsig_key_name": "k", "tsig_secret": ""}},
        fleetdns_zones={"example.test": {"provider": "lab"}},
    )
    with pytest.raises(ConfigError) as caught:
        validate(all_vars, {}, FakeLocator())
    (problem,) = caught.value.problems
    assert problem.hint.startswith("environment variable LAB_SECRET is not set")


def test_secrets_from_the_locator_are_scrubbed() -> None:
    all_vars = fleet(
        fleetdns_zones={"example.test": {"records": [{"name": "a", "type": "A", "value": "s3cr3t-value"}]}}
    )
    with pytest.raises(ConfigError) as caught:
        validate(all_vars, {}, FakeLocator())
    assert "s3cr3t" not in str(caught.value) and "********" in str(caught.value)


def test_secret_option_values_are_never_shown() -> None:
    all_vars = fleet(
        fleetdns_providers={"lab": {"type": "rfc2136", "server": "ns1", "tsig_secret": ["hidden-secret-list"]}},
        fleetdns_zones={"example.test": {"provider": "lab"}},
    )
    text = "\n".join(problems(all_vars))
    assert "hidden-secret-list" not in text and "secret, not shown" in text


def test_host_variable_typo() -> None:
    (problem,) = problems({"fleetdns_zones": {"example.test": {}}}, {"gw": {"fleetdns_agnet": "ddclient"}})
    assert problem == "gw.fleetdns_agnet: unknown variable 'fleetdns_agnet' (hint: did you mean 'fleetdns_agent'?)"


def test_ownership_defaults_to_markers_and_zone_is_accepted() -> None:
    all_vars = fleet(
        fleetdns_providers={"lab": {"type": "rfc2136", "server": "127.0.0.1"}},
        fleetdns_zones={
            "example.test": {"provider": "lab", "ownership": "zone"},
            "files.test": {"ownership": "zone"},
            "plain.test": {},
            "marked.test": {"ownership": "markers"},
        },
    )
    zones = validate(all_vars, {}).zones
    assert zones[ZONE].ownership == "zone" and zones["files.test."].ownership == "zone"
    assert zones["plain.test."].ownership == "markers" and zones["marked.test."].ownership == "markers"


def test_unknown_ownership_is_located_at_its_value_with_a_hint() -> None:
    all_vars = fleet(fleetdns_zones={"example.test": {"ownership": "bogus"}})
    with pytest.raises(ConfigError) as caught:
        validate(all_vars, {}, FakeLocator())
    (problem,) = caught.value.problems
    assert problem.location == Location("value.yml", 1, len("ownership"))
    assert "unknown ownership 'bogus'" in problem.message
    assert "markers" in problem.hint and "zone" in problem.hint


def test_zone_ownership_is_refused_for_a_cloudflare_provider() -> None:
    all_vars = fleet(
        fleetdns_providers={"cf": {"type": "cloudflare", "api_token": "t0ken-value"}},
        fleetdns_zones={"example.test": {"provider": "cf", "ownership": "zone"}, "other.test": {"provider": "cf"}},
    )
    (problem,) = problems(all_vars)
    assert problem.startswith("fleetdns_zones.example.test.ownership: ownership: zone is not available")
    assert "cloudflare provider 'cf'" in problem and "ownership: markers" in problem
    assert "t0ken-value" not in problem


# -- the providers' declared capabilities ----------------------------------------------------------------


class DuckLike(UpdateOnlyProvider):
    """An update-only provider type for these tests: a name's addresses, nothing else."""

    TYPE = "ducklike"
    OPTIONS: ClassVar[dict[str, Option]] = {"token": Option(str, required=True, secret=True)}
    CAPABILITIES = Capabilities(("A", "AAAA"), lists_zone=False, ownership_store=NO_STORE, zone_ownership=False)

    def update(self, name: str, addresses: Any) -> UpdateAnswer:
        raise AssertionError("validation must not reach the network")


@pytest.fixture
def ducklike(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._PROVIDERS, "ducklike", lambda: DuckLike)


def test_a_record_type_the_provider_cannot_manage_is_located_at_its_type() -> None:
    all_vars = fleet(
        fleetdns_providers={"cf": {"type": "cloudflare", "api_token": "t0ken-value"}},
        fleetdns_zones={
            "example.test": {
                "provider": "cf",
                "records": [
                    {"name": "www", "type": "A", "value": "192.0.2.1"},
                    {"name": "_25._tcp.mail", "type": "TLSA", "value": "3 1 1 " + "ab" * 32},
                ],
            },
            "other.test": {"records": [{"name": "_25._tcp.mail", "type": "TLSA", "value": "3 1 1 " + "ab" * 32}]},
        },
    )
    with pytest.raises(ConfigError) as caught:
        validate(all_vars, {}, FakeLocator())
    (problem,) = caught.value.problems  # the zonefile default manages TLSA: other.test is fine
    assert problem.path == "fleetdns_zones.example.test.records[1].type"
    assert problem.location == Location("value.yml", 1, len("type"))
    assert problem.message == "the cloudflare provider 'cf' cannot manage TLSA records"
    assert "A, AAAA, CAA, CNAME, MX, NS, PTR, SRV, TXT" in problem.hint and "another provider" in problem.hint


def test_records_in_a_zone_of_an_update_only_provider_are_located_at_the_key(ducklike: None) -> None:
    all_vars = fleet(
        fleetdns_providers={"duck": {"type": "ducklike", "token": "sekrit-token"}},
        fleetdns_zones={
            "dyn.test": {"provider": "duck", "records": [{"name": "gw", "type": "A", "value": "192.0.2.1"}]}
        },
    )
    with pytest.raises(ConfigError) as caught:
        validate(all_vars, {"gw": {"fleetdns_names": ["gw.dyn.test"]}}, FakeLocator())
    (problem,) = caught.value.problems  # the host's name still finds its zone
    assert problem.path == "fleetdns_zones.dyn.test.records"
    assert problem.location == Location("key.yml", 2, len("records"))
    assert "ducklike provider 'duck'" in problem.message and "cannot hold records" in problem.message
    assert "zonefile" in problem.hint and "fleetdns_names" in problem.hint


def test_an_update_only_provider_serves_device_names_without_records(ducklike: None) -> None:
    all_vars = fleet(
        fleetdns_providers={"duck": {"type": "ducklike", "token": "sekrit-token"}},
        fleetdns_zones={"dyn.test": {"provider": "duck", "records": []}},
    )
    config = validate(all_vars, {"gw": {"fleetdns_names": ["gw.dyn.test"]}})
    assert config.zones["dyn.test."].provider == "duck" and config.hosts["gw"].names == ["gw.dyn.test."]
    assert config.secrets() == ["sekrit-token"]


def test_a_front_that_needs_a_zone_provider_refuses_an_update_only_one(ducklike: None) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_provider({"type": "ducklike", "token": "sekrit-token"})
    (problem,) = caught.value.problems
    assert problem.path == "provider.type" and "needs a zone provider" in problem.message
    assert "cloudflare, dnspod, rfc2136, zonefile" in problem.hint and "sekrit-token" not in str(problem)


# -- properties -------------------------------------------------------------------------------------------

_labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
_ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))


@settings(max_examples=60)
@given(
    records=st.dictionaries(_labels, st.lists(_ipv4, min_size=1, max_size=3), min_size=1, max_size=15),
    ttl=st.integers(0, 2**31 - 1),
    seed=st.integers(),
)
def test_declared_a_records_become_exactly_these_record_sets(records: dict, ttl: int, seed: int) -> None:
    items = [{"name": name, "type": "A", "value": values} for name, values in records.items()]
    random.Random(seed).shuffle(items)
    config = validate({"fleetdns_zones": {"example.test": {"default_ttl": ttl, "records": items}}}, {})
    expected = {
        (f"{name}.{ZONE}", "A"): RecordSet(f"{name}.{ZONE}", "A", ttl, frozenset(values))
        for name, values in records.items()
    }
    assert config.zones[ZONE].records == expected


LONG = ".".join(["a" * 60] * 3) + "." + "b" * 44  # 227 characters: in example.test its AAAA marker needs 257 octets
CLOUDFLARE = {"type": "cloudflare", "api_token": "t0ken-t0ken-t0ken"}


def test_records_are_held_to_dns_limits_on_every_provider() -> None:
    huge = {"name": "big", "type": "TXT", "value": "x" * 200_000}
    for provider in ({}, {"provider": "cf"}):
        found = problems(
            fleet(
                fleetdns_providers={"cf": CLOUDFLARE}, fleetdns_zones={"example.test": {**provider, "records": [huge]}}
            )
        )
        assert len(found) == 1 and found[0].startswith("fleetdns_zones.example.test.records[0].value: the value")
        assert "200,785 bytes on the wire, more than the 65,535 one record can hold" in found[0]
        assert len(found[0]) < 400


def test_a_provider_with_tighter_limits_declares_them() -> None:
    wide = {"name": "t", "type": "TXT", "value": ["x" * 3000, "y" * 3000, "z" * 3000]}
    assert validate(fleet(fleetdns_zones={"example.test": {"records": [wide]}}), {})  # a zone file takes it
    found = problems(
        fleet(
            fleetdns_providers={"cf": CLOUDFLARE},
            fleetdns_zones={"example.test": {"provider": "cf", "records": [wide]}},
        )
    )
    assert found == [
        "fleetdns_zones.example.test.records[0].value: the values hold 9,105 characters together; the cloudflare "
        "provider 'cf' takes at most 8,192 per record set (hint: use shorter or fewer values: the sizes that fit "
        "are in the message)"
    ]


def test_ownership_marker_names_must_fit_too() -> None:
    record = {"name": LONG, "type": "AAAA", "value": "2001:db8::1"}
    found = problems(fleet(fleetdns_zones={"example.test": {"records": [record]}}))
    assert len(found) == 1 and found[0].startswith("fleetdns_zones.example.test.records[0].name: ")
    assert "ownership marker aaaa.aaaa" in found[0] and "would be 257 octets" in found[0]
    # without markers (a zone owned whole, or Cloudflare's comments) the name itself fits
    assert validate(fleet(fleetdns_zones={"example.test": {"ownership": "zone", "records": [record]}}), {})
    cf = {"provider": "cf", "records": [record]}
    assert validate(fleet(fleetdns_providers={"cf": CLOUDFLARE}, fleetdns_zones={"example.test": cf}), {})
    # a device name gets markers on every provider that uses them
    found = problems(fleet(fleetdns_zones={"example.test": {}}), {"gw": {"fleetdns_names": [f"{LONG}.example.test"]}})
    assert len(found) == 1 and found[0].startswith("gw.fleetdns_names[0]: device name ") and "257 octets" in found[0]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("10 mail ; 20 backup", "text after ';' is a zone-file comment"),
        ("10 mail\n20 backup", "holds a line break"),
    ],
)
def test_zone_syntax_that_would_be_cut_is_refused(value: str, fragment: str) -> None:
    record = {"name": "@", "type": "MX", "value": value}
    found = problems(fleet(fleetdns_zones={"example.test": {"records": [record]}}))
    assert len(found) == 1 and found[0].startswith("fleetdns_zones.example.test.records[0].value: ")
    assert fragment in found[0]


# -- names claimed twice, zones without a usable provider ---------------------------------------------


def test_a_name_listed_twice_by_one_host_is_refused_however_it_is_spelled() -> None:
    all_vars = fleet(fleetdns_zones={"example.test": {}})
    hosts = {"gw": {"fleetdns_names": ["gw.example.test", "GW.Example.Test."]}}
    assert problems(all_vars, hosts) == [
        f"gw.fleetdns_names[1]: gw.{ZONE} is listed twice in the fleetdns_names of host 'gw' (hint: remove one "
        "of the two entries (names differing only in case or final dot are the same))"
    ]


def test_a_name_claimed_by_a_second_host_says_where_the_first_claim_is() -> None:
    all_vars = fleet(fleetdns_zones={"example.test": {}})
    hosts = {
        "gw": {"fleetdns_names": ["gw.example.test"]},
        "spare": {"fleetdns_names": ["home.example.test", "gw.example.test"]},
    }
    with pytest.raises(ConfigError) as caught:
        validate(all_vars, hosts, FakeLocator())
    [problem] = caught.value.problems
    assert problem.path == "spare.fleetdns_names[1]"
    assert problem.message == f"gw.{ZONE} is already claimed by host 'gw' (at value.yml:1:1)"
    assert problem.location == Location("value.yml", 1, 1)


@pytest.mark.parametrize("provider", [None, ""])
def test_a_zone_with_an_empty_provider_is_refused(provider: Any) -> None:
    all_vars = fleet(
        fleetdns_providers={"lab": {"type": "zonefile"}}, fleetdns_zones={"example.test": {"provider": provider}}
    )
    assert problems(all_vars) == [
        f"fleetdns_zones.example.test.provider: zone {ZONE} has an empty provider (hint: name one of the defined "
        "providers (default, lab), or remove the provider key to keep the zone in a zone file with the built-in "
        "provider 'default')"
    ]


def test_an_unknown_provider_name_gets_the_closest_defined_one() -> None:
    all_vars = fleet(
        fleetdns_providers={"lab": {"type": "zonefile"}}, fleetdns_zones={"example.test": {"provider": "labb"}}
    )
    assert problems(all_vars) == [
        "fleetdns_zones.example.test.provider: unknown provider 'labb' (hint: did you mean 'lab'? defined providers: "
        "default, lab)"
    ]


def test_a_zone_left_to_the_built_in_provider_beside_defined_ones_is_noted_at_its_key() -> None:
    all_vars = fleet(
        fleetdns_providers={"lab": {"type": "zonefile", "directory": "lab"}},
        fleetdns_zones={"example.test": {}, "other.test": {"provider": "lab"}},
    )
    config = validate(all_vars, {}, FakeLocator())
    assert config.notes == [
        "key.yml:2:12: zone example.test names no provider, so the built-in provider 'default' keeps it in a zone "
        "file under zones/ (to serve it elsewhere, set provider: to one of lab)"
    ]
    assert validate(fleet(fleetdns_zones={"example.test": {}}), {}).notes == []  # no provider defined: the default
