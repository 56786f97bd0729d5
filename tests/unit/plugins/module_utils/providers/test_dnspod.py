"""The dnspod provider against the local DNSPod emulator (HTTPS with a test CA, every TC3 signature
checked), through the engine's plan/apply path: the record mapping both ways, the field spellings,
what is kept of records fleetdns changes, ModifyDynamicDNS for a single address, paging, pins,
throttling in 200 bodies, errors naming the record or the credential, and secret hygiene."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.config import ProviderConfig, record_rules, validate_records
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import (
    ChangedSinceReadError,
    ConfigError,
    PlanConflictError,
    ProviderError,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.ownership import MARKER_OWNERSHIP
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import ZoneDesired, ZonePlan, make_zone_plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import dnspod as dnspod_module
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import zone_provider_class
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.dnspod import DnspodProvider
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.dnspod_records import (
    api_fields,
    canonical_value,
    sub_domain,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.rdata import normalize_values
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet

try:
    from emulators.dnspod import DnspodEmulator
except ImportError:  # under `ansible-test units` tests/ is part of the collection, not on sys.path
    from ansible_collections.fleetdns.ddns.tests.emulators.dnspod import DnspodEmulator

ZONE = "example.test."
OWNER = "fleet-main"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DnspodProvider, "BACKOFF", 0.01)


@pytest.fixture
def api(tmp_path) -> Iterator[DnspodEmulator]:
    with DnspodEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.domain = emulator.add_domain("example.test")
        yield emulator


def provider(api: DnspodEmulator, **options) -> DnspodProvider:
    opts = {k: spec.default for k, spec in DnspodProvider.OPTIONS.items()}
    opts.update(secret_id=api.secret_id, secret_key=api.secret_key, endpoint=api.https_url, ca_bundle=api.ca_file)
    opts.update(options)
    return DnspodProvider("dp", opts)


def rrset(name: str, rtype: str, values, ttl: int = 600) -> RecordSet:
    absolute = ZONE if name == "@" else f"{name}.{ZONE}"
    return RecordSet(absolute, rtype, ttl, normalize_values(rtype, values, ZONE))


def desired(*sets: RecordSet, registered: set | None = None) -> ZoneDesired:
    return ZoneDesired(ZONE, {s.key: s for s in sets}, set(registered or ()))


def run(p: DnspodProvider, want: ZoneDesired, adopt: bool = False) -> ZonePlan:
    state = p.read(ZONE, set(want.records) | want.registered)
    plan = make_zone_plan(want, state, OWNER, "dp", adopt)
    p.apply(ZONE, plan.changes, OWNER)
    return plan


def plan_only(p: DnspodProvider, want: ZoneDesired) -> ZonePlan:
    return make_zone_plan(want, p.read(ZONE, set(want.records) | want.registered), OWNER, "dp")


def named(api: DnspodEmulator, name: str, rtype: str) -> list[dict]:
    return [r for r in api.records("example.test") if r["Name"] == name and r["Type"] == rtype]


def sent(api: DnspodEmulator, action: str) -> list[dict]:
    return [r["params"] for r in api.requests if r["action"] == action and "params" in r]


ALL_TYPES = (
    rrset("www", "A", ["192.0.2.1", "192.0.2.2"]),
    rrset("www", "AAAA", "2001:DB8:0:0::10"),
    rrset("@", "MX", ["10 mail", "20 mx2.example.net."]),
    rrset("@", "TXT", ["v=spf1 -all", 'say "hi"']),
    rrset("alias", "CNAME", "www"),
    rrset("_sip._tcp", "SRV", "10 5 5060 sip.example.test."),
    rrset("@", "CAA", '0 issue "letsencrypt.org"'),
    rrset("sub", "NS", ["ns1.example.net.", "ns2.example.net."]),
)


# ---- the mapping ---------------------------------------------------------------------------------------
def test_every_type_round_trips_and_a_second_run_changes_nothing(api):
    with provider(api) as p:
        plan = run(p, desired(*ALL_TYPES))
        assert plan.counts()["create"] == len(ALL_TYPES)
        assert plan_only(p, desired(*ALL_TYPES)).changes == []
    mx = sorted((r["MX"], r["Value"]) for r in named(api, "@", "MX"))
    assert mx == [(10, "mail.example.test."), (20, "mx2.example.net.")]
    assert named(api, "_sip._tcp", "SRV")[0]["Value"] == "10 5 5060 sip.example.test."
    assert named(api, "@", "CAA")[0]["Value"] == '0 issue "letsencrypt.org"'
    assert named(api, "alias", "CNAME")[0]["Value"] == "www.example.test."
    assert {r["Value"] for r in named(api, "@", "TXT")} == {"v=spf1 -all", 'say "hi"'}
    created = sent(api, "CreateRecord")
    assert all(c["RecordLine"] == "默认" and c["TTL"] == 600 and "SubDomain" in c for c in created)
    assert {c["SubDomain"] for c in created} >= {"@", "www", "_sip._tcp"}
    assert all(r["Remark"] == f"fleetdns-owner={OWNER}" for r in api.records("example.test"))


def test_values_read_either_way_and_written_absolute():
    assert canonical_value({"Type": "CNAME", "Value": "www.example.test"}, ZONE) == "www.example.test."
    assert canonical_value({"Type": "MX", "Value": "mail.example.test.", "MX": 5}, ZONE) == "5 mail.example.test."
    assert canonical_value({"Type": "SRV", "Value": "1 2 3 t.example.test"}, ZONE) == "1 2 3 t.example.test."
    assert api_fields("MX", "5 mail.example.test.") == {"Value": "mail.example.test.", "MX": 5}
    assert api_fields("TXT", '"a" "b"') == {"Value": '"a" "b"'}
    assert sub_domain(ZONE, ZONE) == "@" and sub_domain(f"a.b.{ZONE}", ZONE) == "a.b"


def test_an_update_modifies_in_place_keeping_remark_line_weight_and_status(api):
    with provider(api) as p:
        run(p, desired(rrset("www", "A", ["192.0.2.1", "192.0.2.2"]), rrset("old", "TXT", "bye")))
    target = named(api, "www", "A")[0]
    api.store.edit_record("example.test", target["RecordId"], Remark=f"router {target['Remark']}", Weight=7)
    api.reset_counts()
    with provider(api) as p:
        plan = run(p, desired(rrset("www", "A", ["192.0.2.2", "192.0.2.3"], ttl=3600)))
    assert plan.counts() == {"create": 0, "update": 1, "delete": 1, "adopt": 0, "register": 0}
    www = {r["Value"]: r for r in named(api, "www", "A")}
    assert set(www) == {"192.0.2.2", "192.0.2.3"}
    reused = www["192.0.2.3"] if www["192.0.2.3"]["RecordId"] == target["RecordId"] else www["192.0.2.2"]
    assert reused["RecordId"] == target["RecordId"]
    assert reused["Remark"] == f"router fleetdns-owner={OWNER}" and reused["Weight"] == 7
    assert {r["TTL"] for r in www.values()} == {3600}
    assert named(api, "old", "TXT") == []
    assert api.counts["CreateRecord"] == 0 and api.counts["ModifyDynamicDNS"] == 0
    assert all(m["TTL"] == 3600 and m["RecordLine"] == "默认" for m in sent(api, "ModifyRecord"))


def test_a_single_address_change_is_a_modify_dynamic_dns(api):
    with provider(api) as p:
        run(p, desired(rrset("gw", "A", "192.0.2.1"), rrset("gw", "AAAA", "2001:db8::1")))
        api.reset_counts()
        run(p, desired(rrset("gw", "A", "192.0.2.9"), rrset("gw", "AAAA", "2001:db8::1")))
    assert api.counts["ModifyDynamicDNS"] == 1 and api.counts["ModifyRecord"] == 0
    (params,) = sent(api, "ModifyDynamicDNS")
    assert params["Value"] == "192.0.2.9" and params["Ttl"] == 600 and "TTL" not in params
    assert params["SubDomain"] == "gw" and params["RecordLine"] == "默认"
    (gw,) = named(api, "gw", "A")
    assert gw["Value"] == "192.0.2.9" and gw["Remark"] == f"fleetdns-owner={OWNER}"


def test_unmanaged_records_and_other_lines_are_untouched(api):
    mine = api.add_record(api.domain, SubDomain="printer", RecordType="A", Value="192.0.2.50", Remark="office")
    line = api.add_record(api.domain, SubDomain="www", RecordType="A", Value="198.51.100.1", RecordLine="联通")
    off = api.add_record(api.domain, SubDomain="old", RecordType="A", Value="198.51.100.2", Status="DISABLE")
    with provider(api) as p:
        state = p.read(ZONE, set())
        assert (f"www.{ZONE}", "A") not in state.records and (f"old.{ZONE}", "A") not in state.records
        assert any("lines other than '默认'" in w and "www A (联通)" in w for w in state.warnings)
        assert any("disabled" in w for w in state.warnings)
        run(p, desired(rrset("www", "A", "192.0.2.1")))
        with pytest.raises(PlanConflictError, match="printer"):
            run(p, desired(rrset("printer", "A", "192.0.2.51")))
    records = {r["RecordId"]: r for r in api.records("example.test")}
    assert records[mine["RecordId"]] == mine and records[line["RecordId"]] == line and records[off["RecordId"]] == off


def default_ns(api: DnspodEmulator) -> list[dict]:
    return [r for r in api.records("example.test", with_default_ns=True) if r["DefaultNS"]]


def test_the_default_ns_records_are_dnspods_and_left_alone(api):
    """The two NS records DNSPod keeps at @ are not part of the zone read: not planned, not owned
    (even with an owner word in their remarks, as an older import --own wrote), so neither pruned nor
    changed, and named once in the warnings."""
    for record in default_ns(api):
        api.store.edit_record("example.test", record["RecordId"], Remark=f"fleetdns-owner={OWNER}")
    before = default_ns(api)
    assert len(before) == 2
    with provider(api) as p:
        state = p.read(ZONE, {(ZONE, "NS")})
        assert (ZONE, "NS") not in state.records and (ZONE, "NS") not in state.owners
        notes = [w for w in state.warnings if "DNSPod's own" in w]
        assert len(notes) == 1 and "f1g1ns1.dnspod.net" in notes[0] and "f1g1ns2.dnspod.net" in notes[0], notes
        plan = run(p, desired(rrset("www", "A", "192.0.2.1")), adopt=True)  # prunes what it owns and omits
        assert [c.key for c in plan.changes] == [(f"www.{ZONE}", "A")]
    assert default_ns(api) == before  # same ids, values and remarks
    assert api.counts["DeleteRecord"] == 0 and api.counts["ModifyRecord"] == 0


def test_ns_at_the_apex_of_a_dnspod_zone_is_refused_at_its_line():
    provider_config = ProviderConfig("dp", "dnspod", {})
    rules = record_rules(provider_config, MARKER_OWNERSHIP)
    with pytest.raises(ConfigError) as caught:
        validate_records([{"name": "@", "type": "NS", "value": ["ns1.example.net."]}], ZONE, rules=rules)
    (problem,) = caught.value.problems
    assert problem.path == "records[0].type" and "at the zone apex" in problem.message
    assert "the dnspod provider 'dp'" in problem.message and problem.hint
    below = validate_records([{"name": "sub", "type": "NS", "value": ["ns1.example.net."]}], ZONE, rules=rules)
    assert list(below) == [(f"sub.{ZONE}", "NS")]  # a delegation is fine


def test_another_record_line_is_configurable(api):
    with provider(api, record_line="电信") as p:
        run(p, desired(rrset("www", "A", "192.0.2.1")))
    assert named(api, "www", "A")[0]["Line"] == "电信"
    with provider(api, record_line="火星") as p, pytest.raises(ProviderError) as caught:
        run(p, desired(rrset("api", "A", "192.0.2.2")))
    assert "InvalidParameter.RecordLineInvalid" in caught.value.message and "api A" in caught.value.message
    assert "record_line" in caught.value.hint


def test_owned_set_without_records_gets_a_marker_until_it_has_data(api):
    gw = (f"gw.{ZONE}", "A")
    with provider(api) as p:
        run(p, desired(registered={gw}))
        (marker,) = [r for r in api.records("example.test") if r["Type"] == "TXT"]
        assert marker["Name"] == "a.gw._fleetdns" and marker["Value"] == f"fleetdns-owner={OWNER}"
        assert p.read(ZONE, set()).owners[gw] == OWNER
        run(p, desired(rrset("gw", "A", "192.0.2.7"), registered={gw}))
    assert [r["Type"] for r in api.records("example.test")] == ["A"]


# ---- paging --------------------------------------------------------------------------------------------
def test_large_zones_are_read_page_by_page(api, monkeypatch):
    monkeypatch.setattr(dnspod_module, "PAGE_SIZE", 7)
    for index in range(30):
        api.add_record(api.domain, SubDomain=f"h{index}", RecordType="A", Value=f"192.0.2.{index}")
    with provider(api) as p:
        state = p.read(ZONE, set())
    assert len([k for k in state.records if k[1] == "A"]) == 30
    assert api.counts["DescribeRecordList"] == 5  # 32 records (2 default NS), 7 a page
    assert [r["Offset"] for r in sent(api, "DescribeRecordList")] == [0, 7, 14, 21, 28]


def test_an_empty_domain_reads_as_empty(api):
    for record in api.records("example.test", with_default_ns=True):
        api.store.remove_record("example.test", record["RecordId"])
    with provider(api) as p:
        assert p.read(ZONE, set()).records == {}
    assert api.counts["error:ResourceNotFound.NoDataOfRecord"] == 1


# ---- failures ------------------------------------------------------------------------------------------
def test_throttling_in_a_200_body_backs_off_like_a_429(api):
    api.inject(code="RequestLimitExceeded", action="DescribeRecordList", times=2)
    api.inject(code="RequestLimitExceeded.RequestLimitExceeded", action="CreateRecord", times=2)
    with provider(api) as p:
        run(p, desired(rrset("www", "A", "192.0.2.1")))
    assert named(api, "www", "A")[0]["Value"] == "192.0.2.1"
    assert api.counts["CreateRecord"] == 3


def test_endless_throttling_is_a_rate_limit_error(api):
    api.inject(code="RequestLimitExceeded", times=100)
    with provider(api) as p, pytest.raises(ProviderError) as caught:
        p.read(ZONE, set())
    assert "DNSPod rate limit reached" in caught.value.message and "RequestLimitExceeded" in caught.value.message


@pytest.mark.parametrize("after", [False, True])
def test_a_write_whose_answer_was_lost_is_checked_not_repeated(api, after):
    api.inject(kind="drop", action="CreateRecord", after=after)
    with provider(api) as p:
        run(p, desired(rrset("www", "A", "192.0.2.1")))
    assert len(named(api, "www", "A")) == 1
    assert api.counts["CreateRecord"] == (1 if after else 2)


def test_a_lost_create_not_listed_yet_is_not_made_twice(api):
    # DNSPod lists a new record only after a short delay: the re-read after the lost answer does not
    # show it, the create is sent again and refused as existing, which means the first one went through.
    api.store.index_delay = 60.0
    api.inject(kind="drop", action="CreateRecord", after=True)
    with provider(api) as p:
        run(p, desired(rrset("www", "A", "192.0.2.1")))
    assert [r["Value"] for r in named(api, "www", "A")] == ["192.0.2.1"]
    assert api.counts["CreateRecord"] == 2 and api.counts["error:InvalidParameter.DomainRecordExist"] == 1


def test_a_refused_write_names_the_record_and_the_code(api):
    with provider(api) as p, pytest.raises(ProviderError) as caught:
        run(p, desired(rrset("www", "A", "192.0.2.1", ttl=60)))
    assert "LimitExceeded.RecordTtlLimit" in caught.value.message and "www A" in caught.value.message
    assert "600" in caught.value.hint


def test_a_change_between_plan_and_apply_stops_the_apply(api):
    with provider(api) as p:
        run(p, desired(rrset("www", "A", "192.0.2.1")))
        plan = make_zone_plan(
            desired(rrset("www", "A", "192.0.2.2"), rrset("new", "A", "192.0.2.3")), p.read(ZONE, set()), OWNER, "dp"
        )
        api.store.edit_record("example.test", named(api, "www", "A")[0]["RecordId"], Value="198.51.100.7")
        with pytest.raises(ChangedSinceReadError) as caught:
            p.apply(ZONE, plan.changes, OWNER)
    assert "www A" in str(caught.value) and "198.51.100.7" in str(caught.value)
    assert named(api, "new", "A") == []


def test_a_record_deleted_after_the_re_read_is_a_changed_since_read(api, monkeypatch):
    with provider(api) as p:
        run(p, desired(rrset("www", "A", "192.0.2.1"), rrset("api", "A", "192.0.2.5")))
        plan = make_zone_plan(desired(rrset("www", "A", "192.0.2.2")), p.read(ZONE, set()), OWNER, "dp")
        real_send = DnspodProvider._send

        def racing_send(self, zone, chunk):
            for record in named(api, "www", "A"):
                api.store.remove_record("example.test", record["RecordId"])
            return real_send(self, zone, chunk)

        monkeypatch.setattr(DnspodProvider, "_send", racing_send)
        with pytest.raises(ChangedSinceReadError, match=r"InvalidParameter\.RecordIdInvalid"):
            p.apply(ZONE, [c for c in plan.changes if c.name.startswith("www")], OWNER)


@pytest.mark.parametrize(
    ("options", "code", "credential"),
    [
        ({"secret_key": "WrongSecretKey0123456789abcdefgh"}, "AuthFailure.SignatureFailure", "secret_key"),
        ({"secret_id": "AKIDunknown0123456789"}, "AuthFailure.SecretIdNotFound", "secret_id"),
    ],
)
def test_auth_errors_stop_at_once_naming_the_credential(api, options, code, credential):
    with provider(api, **options) as p, pytest.raises(ProviderError) as caught:
        p.read(ZONE, set())
    assert code in caught.value.message and caught.value.hint.startswith(f"check {credential}")
    assert api.counts["total"] == 1  # not retried
    for secret in (api.secret_key, options.get("secret_key", "")):
        if secret:
            assert secret not in str(caught.value) + caught.value.hint


def test_a_clock_far_off_is_signature_expire(api):
    api.clock = lambda: 2_000_000_000.0
    with provider(api) as p, pytest.raises(ProviderError) as caught:
        p.read(ZONE, set())
    assert "AuthFailure.SignatureExpire" in caught.value.message and "clock" in caught.value.hint


def test_an_unknown_domain_is_named(api):
    with provider(api) as p, pytest.raises(ProviderError) as caught:
        p.read("other.test.", set())
    assert "InvalidParameterValue.DomainNotExists" in caught.value.message and "other.test." in caught.value.message


# ---- options -------------------------------------------------------------------------------------------
def test_option_problems_and_registration():
    def problems(**options):
        opts = {k: spec.default for k, spec in DnspodProvider.OPTIONS.items()}
        opts.update(options)
        return DnspodProvider("dp", opts).check_options()

    assert problems(secret_id="AKID1", secret_key="k") == []
    assert problems(secret_id="AKID1") == ["missing credentials: set secret_key"]
    assert "plain http" in problems(secret_id="a", secret_key="k", endpoint="http://dnspod.example.net")[0]
    assert problems(secret_id="a", secret_key="k", endpoint="http://127.0.0.1:8080") == []
    assert "record line" in problems(secret_id="a", secret_key="k", record_line=" ")[0]
    assert zone_provider_class("dnspod") is DnspodProvider
    assert {k for k, s in DnspodProvider.OPTIONS.items() if s.secret} == {"secret_key"}
    caps = DnspodProvider.CAPABILITIES
    assert caps.lists_zone and not caps.zone_ownership and caps.ownership_store == "comments"


def test_types_it_cannot_write_fail_at_plan_time(api):
    with provider(api) as p, pytest.raises(ProviderError, match="cannot manage PTR"):
        p.read(ZONE, {(f"1.{ZONE}", "PTR")})


def test_inventory_validation_hides_the_secret_key():
    from ansible_collections.fleetdns.ddns.plugins.module_utils.config import validate

    secret = "inventory-secret-key-0123456789abcdef"
    zones = {"example.test": {"provider": "dp"}}
    config = validate(
        {"fleetdns_providers": {"dp": {"type": "dnspod", "secret_id": "AKID1", "secret_key": secret}},
         "fleetdns_zones": zones},
        {},
    )  # fmt: skip
    assert config.providers["dp"].options["record_line"] == "默认"
    assert config.providers["dp"].redacted()["secret_key"] == "********"
    assert secret in config.secrets()
