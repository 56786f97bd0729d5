"""The alidns provider: its record mapping, and the provider against the local Alibaba Cloud DNS
emulator through the engine's plan/apply path: round trips, id reuse, remarks and lines kept,
DomainRecordDuplicate, throttling, auth errors, interrupted applies that a re-run completes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ChangedSinceReadError, ProviderError
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import ZoneDesired, ZonePlan, make_zone_plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import zone_provider_class
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.alidns import AliDnsProvider
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.alidns_api import throttled
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.alidns_records import (
    api_fields,
    canonical_value,
    name_of,
    rr_of,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.cloudflare_records import comment_owner
from ansible_collections.fleetdns.ddns.plugins.module_utils.rdata import normalize_value, normalize_values
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet

try:
    from emulators.alidns import AliDnsEmulator
except ImportError:  # under `ansible-test units` tests/ is part of the collection, not on sys.path
    from ansible_collections.fleetdns.ddns.tests.emulators.alidns import AliDnsEmulator

ZONE = "example.test."
DOMAIN = "example.test"
OWNER = "fleet-main"


# ---- mapping --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rtype", "text", "fields"),
    [
        ("A", "192.0.2.1", {"Value": "192.0.2.1"}),
        ("AAAA", "2001:DB8::1", {"Value": "2001:db8::1"}),
        ("CNAME", "www", {"Value": "www.example.test"}),
        ("NS", "ns1.example.net.", {"Value": "ns1.example.net"}),
        ("MX", "10 mail", {"Value": "mail.example.test", "Priority": "10"}),
        ("SRV", "10 5 5060 sip.example.test.", {"Value": "10 5 5060 sip.example.test"}),
        ("CAA", '0 issue "letsencrypt.org"', {"Value": '0 issue "letsencrypt.org"'}),
        ("TXT", "v=spf1 -all", {"Value": "v=spf1 -all"}),
        ("TXT", 'say "hi"', {"Value": 'say "hi"'}),
    ],
)
def test_values_map_to_api_fields_and_back(rtype, text, fields):
    canonical = normalize_value(rtype, text, ZONE)
    assert api_fields(rtype, canonical) == fields
    assert canonical_value({"Type": rtype, **fields}, ZONE) == canonical


def test_names_map_to_rr_and_back():
    assert rr_of(ZONE, ZONE) == "@" and rr_of(f"a.b.{ZONE}", ZONE) == "a.b" and rr_of(f"*.{ZONE}", ZONE) == "*"
    assert name_of("@", ZONE) == ZONE and name_of("WWW", ZONE) == f"www.{ZONE}"


def test_registered_with_honest_capabilities():
    cls = zone_provider_class("alidns")
    assert cls is AliDnsProvider
    assert cls.CAPABILITIES.lists_zone and cls.CAPABILITIES.ownership_store == "comments"
    assert not cls.CAPABILITIES.zone_ownership and "PTR" not in cls.CAPABILITIES.record_types
    assert cls.OPTIONS["access_key_secret"].secret and cls.OPTIONS["line"].default == "default"


class _Answer:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code, self.content = status, body

    def json(self):
        import json

        return json.loads(self.content)


@pytest.mark.parametrize("code", ["Throttling.User", "Throttling", "Throttling.Api", "LastOperationNotFinished"])
def test_throttling_codes_in_a_body_mean_back_off(code):
    for status in (200, 400, 403):
        assert throttled(_Answer(status, f'{{"Code": "{code}", "Message": "slow down"}}'.encode())) is not None
    assert throttled(_Answer(400, b'{"Code": "DomainRecordDuplicate"}')) is None
    assert throttled(_Answer(200, b'{"RecordId": "1"}')) is None


# ---- against the emulator ---------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AliDnsProvider, "BACKOFF", 0.01)


@pytest.fixture
def ali(tmp_path) -> Iterator[AliDnsEmulator]:
    with AliDnsEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.add_domain(DOMAIN)
        yield emulator


def provider(ali: AliDnsEmulator, **options) -> AliDnsProvider:
    opts = {k: spec.default for k, spec in AliDnsProvider.OPTIONS.items()}
    opts.update(access_key_id=ali.key_id, access_key_secret=ali.key_secret, endpoint=ali.https_url,
                ca_bundle=ali.ca_file)  # fmt: skip
    opts.update(options)
    return AliDnsProvider("ali", opts)


def rrset(name: str, rtype: str, values, ttl: int = 600) -> RecordSet:
    absolute = ZONE if name == "@" else f"{name}.{ZONE}"
    return RecordSet(absolute, rtype, ttl, normalize_values(rtype, values, ZONE))


def desired(*sets: RecordSet, registered: set | None = None) -> ZoneDesired:
    return ZoneDesired(ZONE, {s.key: s for s in sets}, set(registered or ()))


def run(p: AliDnsProvider, want: ZoneDesired, adopt: bool = False) -> ZonePlan:
    state = p.read(ZONE, set(want.records) | want.registered)
    plan = make_zone_plan(want, state, OWNER, "ali", adopt)
    p.apply(ZONE, plan.changes, OWNER)
    return plan


def plan_only(p: AliDnsProvider, want: ZoneDesired) -> ZonePlan:
    return make_zone_plan(want, p.read(ZONE, set(want.records) | want.registered), OWNER, "ali")


def by_rr(ali: AliDnsEmulator, rr: str, rtype: str) -> list[dict]:
    return [r for r in ali.records(DOMAIN) if r["RR"] == rr and r["Type"] == rtype]


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


def test_every_type_round_trips_owned_by_remark_and_a_second_run_changes_nothing(ali):
    with provider(ali) as p:
        plan = run(p, desired(*ALL_TYPES))
        assert plan.counts()["create"] == len(ALL_TYPES)
        assert plan_only(p, desired(*ALL_TYPES)).changes == []
    records = ali.records(DOMAIN)
    assert len(records) == 12 and not [r for r in records if "_fleetdns" in r["RR"]]  # one per value, no marker
    assert {comment_owner(r.get("Remark")) for r in records} == {OWNER}
    assert sorted((r["Priority"], r["Value"]) for r in by_rr(ali, "@", "MX")) == [
        (10, "mail.example.test"), (20, "mx2.example.net")
    ]  # fmt: skip
    assert by_rr(ali, "_sip._tcp", "SRV")[0]["Value"] == "10 5 5060 sip.example.test"
    assert {r["Line"] for r in records} == {"default"}


def test_update_reuses_records_in_place_and_delete_removes_them(ali):
    with provider(ali) as p:
        run(p, desired(rrset("www", "A", ["192.0.2.1", "192.0.2.2"]), rrset("old", "TXT", "bye")))
        ids = {r["Value"]: r["RecordId"] for r in by_rr(ali, "www", "A")}
        ali.reset_counts()
        plan = run(p, desired(rrset("www", "A", ["192.0.2.2", "192.0.2.3"], ttl=1200)))
        assert plan.counts() == {"create": 0, "update": 1, "delete": 1, "adopt": 0, "register": 0}
        www = {r["Value"]: r for r in by_rr(ali, "www", "A")}
        assert www["192.0.2.2"]["RecordId"] == ids["192.0.2.2"]
        assert www["192.0.2.3"]["RecordId"] == ids["192.0.2.1"]  # the changed value reused the old record
        assert {r["TTL"] for r in www.values()} == {1200} and by_rr(ali, "old", "TXT") == []
        assert {comment_owner(r.get("Remark")) for r in www.values()} == {OWNER}
        assert ali.counts["UpdateDomainRecordRemark"] == 0  # the remark stays through an update
        assert plan_only(p, desired(rrset("www", "A", ["192.0.2.2", "192.0.2.3"], ttl=1200))).changes == []


def test_unmanaged_records_their_remarks_and_other_lines_are_never_touched(ali):
    printer = ali.add_record(DOMAIN, "printer", "A", "192.0.2.50", remark="office printer")
    telecom = ali.add_record(DOMAIN, "www", "A", "198.51.100.1", line="telecom", remark="isp answer")
    before = {r["RecordId"]: r for r in ali.records(DOMAIN)}
    with provider(ali) as p:
        warnings = p.read(f"{DOMAIN}.", set()).warnings
        assert any("1 record(s) on lines other than 'default'" in w and "www A (telecom)" in w for w in warnings)
        run(p, desired(rrset("www", "A", "192.0.2.1")))
        run(p, desired(rrset("www", "A", "192.0.2.9")))
        run(p, desired())
    after = {r["RecordId"]: r for r in ali.records(DOMAIN)}
    assert after == {printer["RecordId"]: before[printer["RecordId"]], telecom["RecordId"]: before[telecom["RecordId"]]}


def test_a_configured_line_is_the_one_read_and_written(ali):
    ali.add_record(DOMAIN, "www", "A", "192.0.2.1")  # on the default line: not this provider's
    with provider(ali, line="unicom") as p:
        plan = run(p, desired(rrset("www", "A", "192.0.2.7")))
        assert plan.counts()["create"] == 1
    assert {(r["Value"], r["Line"]) for r in by_rr(ali, "www", "A")} == {("192.0.2.1", "default"),
                                                                         ("192.0.2.7", "unicom")}  # fmt: skip


def test_adopting_keeps_the_users_remark_text(ali):
    ali.add_record(DOMAIN, "mail", "A", "192.0.2.25", remark="set up by ops")
    with provider(ali) as p:
        assert plan_only(p, desired(rrset("mail", "A", "192.0.2.25"))).changes == []  # not owned: left
        run(p, desired(rrset("mail", "A", "192.0.2.25")), adopt=True)
    assert by_rr(ali, "mail", "A")[0]["Remark"] == f"set up by ops fleetdns-owner={OWNER}"


def test_a_registered_name_gets_a_marker_until_its_agent_reports(ali):
    key = (f"gw.{ZONE}", "A")
    with provider(ali) as p:
        run(p, desired(registered={key}))
        markers = [r for r in ali.records(DOMAIN) if r["Type"] == "TXT"]
        assert len(markers) == 1 and markers[0]["RR"] == "a.gw._fleetdns"
        assert p.read(ZONE, {key}).owners[key] == OWNER


def test_update_to_the_values_a_record_already_has_counts_as_done(ali):
    with provider(ali) as p:
        run(p, desired(rrset("www", "A", "192.0.2.1")))
        state = p.read(ZONE, set())
        plan = make_zone_plan(desired(rrset("www", "A", "192.0.2.2")), state, OWNER, "ali")
        record = by_rr(ali, "www", "A")[0]
        # Someone (or a lost answer) already made the same edit: the API answers DomainRecordDuplicate.
        ali.store.update({**{k: str(v) for k, v in record.items()}, "Value": "192.0.2.2"})
        with pytest.raises(ChangedSinceReadError):  # the pins see it first: the zone changed since the plan
            p.apply(ZONE, plan.changes, OWNER)
        ali.inject(kind="code", code="DomainRecordDuplicate", message="The DNS record already exists.",
                   action="UpdateDomainRecord", after=True)  # fmt: skip
        run(p, desired(rrset("www", "A", "192.0.2.3")))
        assert by_rr(ali, "www", "A")[0]["Value"] == "192.0.2.3"


def test_a_throttling_storm_is_waited_out(ali):
    ali.inject(kind="code", code="Throttling.User", times=3)
    ali.inject(kind="code", code="Throttling", status=200, action="AddDomainRecord", times=2)
    with provider(ali) as p:
        run(p, desired(rrset("www", "A", "192.0.2.1")))
    assert [r["Value"] for r in by_rr(ali, "www", "A")] == ["192.0.2.1"]
    assert ali.counts["error:Throttling.User"] == 3 and ali.counts["error:Throttling"] == 2


def test_throttling_that_never_ends_stops_with_a_rate_limit_error(ali):
    ali.inject(kind="code", code="Throttling.User", times=100)
    with provider(ali) as p, pytest.raises(ProviderError) as caught:
        p.read(ZONE, set())
    assert "rate limit" in caught.value.message and "Throttling.User" in caught.value.message
    ali.faults.clear()
    with provider(ali) as p:
        state = p.read(ZONE, set())
        plan = make_zone_plan(desired(rrset("www", "A", "192.0.2.1")), state, OWNER, "ali")
        ali.inject(kind="code", code="Throttling", status=200, action="AddDomainRecord", times=100)
        with pytest.raises(ProviderError) as caught:
            p.apply(ZONE, plan.changes, OWNER)
    assert "rate limit" in caught.value.message and "www A" in caught.value.message
    assert "wait" in caught.value.hint


@pytest.mark.parametrize(
    ("options", "names"),
    [
        ({"access_key_id": "LTAIunknown"}, "access_key_id"),
        ({"access_key_secret": "not-the-secret"}, "access_key_secret"),
    ],
)
def test_auth_errors_stop_at_once_naming_the_credential(ali, options, names):
    with provider(ali, **options) as p, pytest.raises(ProviderError) as caught:
        p.read(ZONE, set())
    assert names in caught.value.hint and getattr(caught.value, "retry", True) is False
    assert ali.counts["total"] == 1  # no retry
    assert ali.key_secret not in caught.value.message + caught.value.hint
    assert "not-the-secret" not in caught.value.message + caught.value.hint


def test_a_refused_record_is_named(ali):
    with provider(ali) as p:
        run(p, desired(rrset("www", "A", "192.0.2.1")))
        ali.inject(kind="code", code="QuotaExceeded.Record", message="The number of records exceeds the limit.",
                   action="AddDomainRecord")  # fmt: skip
        with pytest.raises(ProviderError) as caught:
            run(p, desired(rrset("www", "A", ["192.0.2.1", "192.0.2.2"])))
    assert "www A 192.0.2.2" in caught.value.message and "QuotaExceeded.Record" in caught.value.message
    assert caught.value.hint


def test_paging_reads_the_whole_zone(ali):
    for i in range(23):
        ali.add_record(DOMAIN, f"h{i}", "A", f"192.0.2.{i + 1}")
    with provider(ali, page_size=5) as p:
        assert len(p.read(ZONE, set()).records) == 23
    assert ali.counts["DescribeDomainRecords"] == 5


@pytest.mark.parametrize(
    ("action", "nth"),
    [("AddDomainRecord", 1), ("AddDomainRecord", 2), ("UpdateDomainRecordRemark", 1), ("DeleteDomainRecord", 1)],
)
def test_a_fault_between_two_writes_then_a_rerun_converges(ali, action, nth):
    """The n-th write of `action` fails for good (after the earlier writes went through); plan/apply
    again leaves the zone as wanted and owned; a marker left holding ownership goes at the next change."""
    want = desired(rrset("www", "A", ["192.0.2.1", "192.0.2.2"]), rrset("mail", "A", "192.0.2.25"))
    with provider(ali) as p:
        run(p, desired(rrset("old", "A", "192.0.2.99")))
        fault = ali.inject(kind="status", status=500, action=action, times=100)
        if nth > 1:  # let the first one through
            fault.times = 0
            ali.inject(kind="slow", action=action, times=nth - 1)
            fault.times = 100
            ali.faults.reverse()
        with pytest.raises(ProviderError):
            run(p, want)
        fault.times = 0
        for _attempt in range(2):
            run(p, want)
        again = plan_only(p, want)
        assert again.changes == []
        state = p.read(ZONE, set())
        assert {k: v.values for k, v in state.records.items()} == {k: v.values for k, v in want.records.items()}
        assert set(state.owners) == set(want.records) and set(state.owners.values()) == {OWNER}
        leftover = [r for r in ali.records(DOMAIN) if "_fleetdns" in r["RR"]]
        assert bool(leftover) == any("interrupted apply" in w for w in state.warnings)
        later = desired(rrset("www", "A", ["192.0.2.1", "192.0.2.2"], ttl=900), rrset("mail", "A", "192.0.2.25", 900))
        run(p, later)
    records = ali.records(DOMAIN)
    assert sorted((r["RR"], r["Value"]) for r in records) == [("mail", "192.0.2.25"), ("www", "192.0.2.1"),
                                                              ("www", "192.0.2.2")]  # fmt: skip
    assert {comment_owner(r.get("Remark")) for r in records} == {OWNER}


def test_a_lost_answer_to_a_create_is_recovered_without_a_duplicate(ali):
    ali.inject(kind="drop", action="AddDomainRecord", after=True, times=2)
    with provider(ali) as p:
        run(p, desired(rrset("www", "A", ["192.0.2.1", "192.0.2.2"])))
        assert plan_only(p, desired(rrset("www", "A", ["192.0.2.1", "192.0.2.2"]))).changes == []
    assert sorted(r["Value"] for r in ali.records(DOMAIN)) == ["192.0.2.1", "192.0.2.2"]
    assert {comment_owner(r.get("Remark")) for r in ali.records(DOMAIN)} == {OWNER}


def test_a_record_deleted_since_the_read_is_a_changed_since_read_error(ali):
    with provider(ali) as p:
        run(p, desired(rrset("www", "A", "192.0.2.1")))
        state = p.read(ZONE, set())
        plan = make_zone_plan(desired(rrset("www", "A", "192.0.2.2")), state, OWNER, "ali")
        ali.inject(kind="code", code="DomainRecordNotBelongToUser", message="The DNS record does not belong to you.",
                   action="UpdateDomainRecord")  # fmt: skip
        with pytest.raises(ChangedSinceReadError):
            p.apply(ZONE, plan.changes, OWNER)


def test_options_are_checked(ali):
    assert provider(ali, endpoint="http://alidns.example.com").check_options() == [
        "endpoint 'http://alidns.example.com' uses plain http to a non-loopback host; use https (credentials must "
        "not travel in clear)"
    ]
    assert "page_size" in " ".join(provider(ali, page_size=501).check_options())
    assert provider(ali, access_key_secret="").check_options() == ["access_key_secret is empty"]


def test_a_slow_answer_is_cut_off_at_the_deadline_and_a_slow_write_is_checked_by_reading(ali):
    ali.inject(kind="slow", delay=2.0, action="DescribeDomainRecords")
    with provider(ali, deadline=0.5) as p, pytest.raises(ProviderError) as caught:
        p.read(ZONE, set())
    assert "deadline of 0.5 s" in caught.value.message
    ali.inject(kind="slow", delay=2.0, action="AddDomainRecord", after=True)  # the write lands, its answer is late
    with provider(ali, deadline=1) as p:
        run(p, desired(rrset("www", "A", ["192.0.2.1", "192.0.2.2"])))
        assert plan_only(p, desired(rrset("www", "A", ["192.0.2.1", "192.0.2.2"]))).changes == []
    assert sorted(r["Value"] for r in ali.records(DOMAIN)) == ["192.0.2.1", "192.0.2.2"]
