"""The cloudflare provider against the local Cloudflare emulator (HTTPS with a test CA), through the
engine's own plan/apply path: round trips, idempotence, preservation of what users set on Cloudflare,
batching, retries, atomic failures, pins, auth errors and secret hygiene."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ChangedSinceReadError, ProviderError
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import ZoneDesired, ZonePlan, make_zone_plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import cloudflare as cf_module
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import zone_provider_class
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.cloudflare import CloudflareProvider
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.cloudflare_records import (
    comment_owner,
    with_owner,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.rdata import normalize_values
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet

try:
    from emulators.cloudflare import CloudflareEmulator
except ImportError:  # under `ansible-test units` tests/ is part of the collection, not on sys.path
    from ansible_collections.fleetdns.ddns.tests.emulators.cloudflare import CloudflareEmulator

ZONE = "example.test."
OWNER = "fleet-main"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CloudflareProvider, "BACKOFF", 0.01)


@pytest.fixture
def cf(tmp_path) -> Iterator[CloudflareEmulator]:
    emulator = CloudflareEmulator(tls_dir=tmp_path / "tls")
    emulator.start()
    emulator.zone = emulator.add_zone("example.test")
    try:
        yield emulator
    finally:
        emulator.stop()


def provider(cf: CloudflareEmulator, **options) -> CloudflareProvider:
    opts = {k: spec.default for k, spec in CloudflareProvider.OPTIONS.items()}
    opts.update(api_token=cf.token, base_url=cf.https_url, ca_bundle=cf.ca_file)
    opts.update(options)
    return CloudflareProvider("cf", opts)


def rrset(name: str, rtype: str, values, ttl: int = 300) -> RecordSet:
    absolute = ZONE if name == "@" else f"{name}.{ZONE}"
    return RecordSet(absolute, rtype, ttl, normalize_values(rtype, values, ZONE))


def desired(*sets: RecordSet, registered: set | None = None) -> ZoneDesired:
    return ZoneDesired(ZONE, {s.key: s for s in sets}, set(registered or ()))


def run(p: CloudflareProvider, want: ZoneDesired, adopt: bool = False, progress=None) -> ZonePlan:
    """plan + apply, as `fleetdns apply` does it."""
    state = p.read(ZONE, set(want.records) | want.registered)
    plan = make_zone_plan(want, state, OWNER, "cf", adopt)
    p.apply(ZONE, plan.changes, OWNER, progress)
    return plan


def plan_only(p: CloudflareProvider, want: ZoneDesired) -> ZonePlan:
    return make_zone_plan(want, p.read(ZONE, set(want.records) | want.registered), OWNER, "cf")


def by_name(cf: CloudflareEmulator, name: str, rtype: str) -> list[dict]:
    full = "example.test" if name == "@" else f"{name}.example.test"
    return [r for r in cf.records(cf.zone) if r["name"] == full and r["type"] == rtype]


ALL_TYPES = (
    rrset("www", "A", ["192.0.2.1", "192.0.2.2"]),
    rrset("www", "AAAA", "2001:DB8:0:0::10"),
    rrset("@", "MX", ["10 mail", "20 mx2.example.net."]),
    rrset("@", "TXT", ["v=spf1 -all", 'say "hi"', "x" * 300]),
    rrset("alias", "CNAME", "www"),
    rrset("_sip._tcp", "SRV", "10 5 5060 sip.example.test."),
    rrset("@", "CAA", '0 issue "letsencrypt.org"'),
    rrset("sub", "NS", ["ns1.example.net.", "ns2.example.net."]),
    rrset("1", "PTR", "host.example.test."),
)


# ---- round trips -------------------------------------------------------------------------------------------
def test_every_type_round_trips_and_a_second_run_changes_nothing(cf):
    with provider(cf) as p:
        plan = run(p, desired(*ALL_TYPES))
        assert plan.counts()["create"] == len(ALL_TYPES)
        assert plan_only(p, desired(*ALL_TYPES)).changes == []
    mx = sorted((r["priority"], r["content"]) for r in by_name(cf, "@", "MX"))
    assert mx == [(10, "mail.example.test"), (20, "mx2.example.net")]
    srv = by_name(cf, "_sip._tcp", "SRV")[0]
    assert srv["data"] == {"priority": 10, "weight": 5, "port": 5060, "target": "sip.example.test"}
    assert by_name(cf, "@", "CAA")[0]["data"] == {"flags": 0, "tag": "issue", "value": "letsencrypt.org"}
    assert by_name(cf, "alias", "CNAME")[0]["content"] == "www.example.test"
    assert {r["content"] for r in by_name(cf, "@", "TXT")} >= {"v=spf1 -all", 'say "hi"'}
    assert {r["ttl"] for r in cf.records(cf.zone)} == {300}
    assert {comment_owner(r["comment"]) for r in cf.records(cf.zone)} == {OWNER}


def test_update_patches_records_in_place_and_delete_removes_them(cf):
    with provider(cf) as p:
        run(p, desired(rrset("www", "A", ["192.0.2.1", "192.0.2.2"]), rrset("old", "TXT", "bye")))
        ids = {r["content"]: r["id"] for r in by_name(cf, "www", "A")}
        plan = run(p, desired(rrset("www", "A", ["192.0.2.2", "192.0.2.3"], ttl=600)))
        assert plan.counts() == {"create": 0, "update": 1, "delete": 1, "adopt": 0, "register": 0}
        www = {r["content"]: r for r in by_name(cf, "www", "A")}
        assert set(www) == {"192.0.2.2", "192.0.2.3"}
        assert www["192.0.2.2"]["id"] == ids["192.0.2.2"]
        assert www["192.0.2.3"]["id"] == ids["192.0.2.1"]  # the changed value reused the old record
        assert {r["ttl"] for r in www.values()} == {600}
        assert by_name(cf, "old", "TXT") == []
        assert plan_only(p, desired(rrset("www", "A", ["192.0.2.2", "192.0.2.3"], ttl=600))).changes == []


def test_automatic_ttl_is_ttl_1(cf):
    with provider(cf) as p:
        run(p, desired(rrset("auto", "A", "192.0.2.7", ttl=1)))
        assert by_name(cf, "auto", "A")[0]["ttl"] == 1
        assert plan_only(p, desired(rrset("auto", "A", "192.0.2.7", ttl=1))).changes == []


def test_cname_replaces_an_a_record_even_one_operation_per_batch(cf):
    with provider(cf, batch_size=1) as p:
        run(p, desired(rrset("x", "A", "192.0.2.1")))
        run(p, desired(rrset("x", "CNAME", "www")))
        assert by_name(cf, "x", "A") == [] and len(by_name(cf, "x", "CNAME")) == 1
        run(p, desired(rrset("x", "A", "192.0.2.1")))
        assert by_name(cf, "x", "CNAME") == [] and len(by_name(cf, "x", "A")) == 1


# ---- what users set on Cloudflare is kept ------------------------------------------------------------------
def test_proxied_comment_and_tags_survive_a_value_change(cf):
    record = cf.add_record(
        cf.zone, name="www", type="A", content="192.0.2.1", ttl=300, proxied=True,
        comment=f"web front, ask ops fleetdns-owner={OWNER}", tags=["team:web"],
    )  # fmt: skip
    with provider(cf) as p:
        run(p, desired(rrset("www", "A", ["192.0.2.9", "192.0.2.10"])))
    www = by_name(cf, "www", "A")
    assert sorted(r["content"] for r in www) == ["192.0.2.10", "192.0.2.9"]
    kept = next(r for r in www if r["id"] == record["id"])  # the changed value reused the record
    assert kept["proxied"] is True and kept["tags"] == ["team:web"]
    assert kept["comment"] == f"web front, ask ops fleetdns-owner={OWNER}"
    assert all(r["proxied"] for r in www)  # a new value of a proxied set stays proxied


def test_adopt_appends_the_owner_word_to_the_users_comment(cf):
    cf.add_record(cf.zone, name="mail", type="A", content="192.0.2.25", ttl=300, comment="do not touch by hand")
    with provider(cf) as p:
        plan = run(p, desired(rrset("mail", "A", "192.0.2.25")), adopt=True)
        assert plan.counts()["adopt"] == 1
        assert by_name(cf, "mail", "A")[0]["comment"] == f"do not touch by hand fleetdns-owner={OWNER}"
        assert plan_only(p, desired(rrset("mail", "A", "192.0.2.25"))).changes == []


def test_unmanaged_records_are_untouched(cf):
    others = [
        cf.add_record(cf.zone, name="printer", type="A", content="192.0.2.50", comment="office"),
        cf.add_record(cf.zone, name="@", type="TXT", content="google-site-verification=abc", ttl=3600),
        cf.add_record(cf.zone, name="blog", type="CNAME", content="example.github.io", proxied=True),
        cf.add_record(cf.zone, name="_x", type="URI", content='10 1 "https://example.net/"'),
    ]
    with provider(cf) as p:
        run(p, desired(rrset("www", "A", "192.0.2.1"), rrset("info", "TXT", "v=spf1 -all")))
        run(p, desired(rrset("www", "A", "192.0.2.2")))
        run(p, desired())
    remaining = {r["id"]: r for r in cf.records(cf.zone)}
    assert remaining == {r["id"]: r for r in others}


def test_owned_set_without_records_gets_a_marker_until_it_has_data(cf):
    key = (f"host1.{ZONE}", "A")
    with provider(cf) as p:
        plan = run(p, desired(registered={key}))
        assert plan.counts()["register"] == 1
        marker = by_name(cf, "a.host1._fleetdns", "TXT")
        assert [m["content"] for m in marker] == [f"fleetdns-owner={OWNER}"]
        assert plan_only(p, desired(registered={key})).changes == []
        # the device's address arrives: the record carries the owner word, the marker goes
        run(p, desired(rrset("host1", "A", "192.0.2.4"), registered={key}))
        assert comment_owner(by_name(cf, "host1", "A")[0]["comment"]) == OWNER
        assert by_name(cf, "a.host1._fleetdns", "TXT") == []
        assert plan_only(p, desired(rrset("host1", "A", "192.0.2.4"), registered={key})).changes == []
        run(p, desired())  # the host leaves the inventory
    assert cf.records(cf.zone) == []


def test_owner_word_edits_keep_the_rest_of_the_comment():
    assert with_owner(None, "a") == "fleetdns-owner=a"
    assert with_owner("keep me", "a") == "keep me fleetdns-owner=a"
    assert with_owner("keep fleetdns-owner=old me", "a") == "keep me fleetdns-owner=a"
    assert with_owner("keep me fleetdns-owner=a", None) == "keep me"
    assert with_owner("fleetdns-owner=a", None) is None
    assert comment_owner("not-fleetdns-owner=a") is None


# ---- batching ------------------------------------------------------------------------------------------------
def test_a_thousand_creates_go_out_in_five_batches(cf):
    want = desired(*(rrset(f"h{i}", "A", f"10.0.{i // 250}.{i % 250}") for i in range(1000)))
    seen = []
    with provider(cf) as p:
        run(p, want, progress=lambda done, total: seen.append((done, total)))
        assert plan_only(p, want).changes == []
    assert cf.counts["dns_records.batch"] == 5
    assert cf.counts["zones.list"] == 1  # looked up once per run
    assert cf.counts["total"] == 1 + 1 + 1 + 5 + 1  # lookup, read, re-read for pins, batches, final plan
    assert seen == [(200, 1000), (400, 1000), (600, 1000), (800, 1000), (1000, 1000)]
    assert len(cf.records(cf.zone)) == 1000


def test_batch_size_is_configurable(cf):
    want = desired(*(rrset(f"h{i}", "A", f"10.1.0.{i}") for i in range(10)))
    with provider(cf, batch_size=3) as p:
        run(p, want)
    assert cf.counts["dns_records.batch"] == 4


def test_large_zones_are_read_page_by_page(cf, monkeypatch):
    monkeypatch.setattr(cf_module, "READ_PAGE_SIZE", 100)
    for i in range(250):
        cf.add_record(cf.zone, name=f"n{i}", type="A", content=f"10.2.{i // 200}.{i % 200}")
    with provider(cf) as p:
        state = p.read(ZONE, set())
    assert len(state.records) == 250
    assert cf.counts["dns_records.list"] == 3


# ---- failures, retries, atomicity ---------------------------------------------------------------------------
def test_a_429_in_the_middle_of_an_apply_waits_retry_after_and_finishes(tmp_path):
    with CloudflareEmulator(tls_dir=tmp_path, rate_limit=4, rate_block=1) as cf:
        cf.zone = cf.add_zone("example.test")
        want = desired(*(rrset(f"h{i}", "A", f"10.0.{i // 250}.{i % 250}") for i in range(400)))
        started = time.monotonic()
        with provider(cf) as p:
            run(p, want)  # lookup, read, re-read, batch 1 pass; batch 2 is the 5th request -> 429
        assert time.monotonic() - started >= 1.0
        assert cf.counts["rate_limited"] == 1
        assert cf.counts["dns_records.batch"] == 3
        assert len(cf.records(cf.zone)) == 400


def test_a_rate_limit_block_longer_than_the_wait_limit_is_a_clear_error(tmp_path):
    with CloudflareEmulator(tls_dir=tmp_path, rate_limit=2, rate_block=3600) as cf:
        cf.zone = cf.add_zone("example.test")
        with provider(cf) as p, pytest.raises(ProviderError) as caught:
            run(p, desired(rrset("www", "A", "192.0.2.1")))
    assert "429" in str(caught.value) and "1,200 requests per 5 minutes" in str(caught.value)
    assert cf.token not in str(caught.value)


def test_5xx_before_processing_is_retried(cf):
    cf.inject(endpoint="dns_records.batch", status=502, times=2)
    cf.inject(endpoint="dns_records.list", status=503, times=1)
    with provider(cf) as p:
        run(p, desired(rrset("www", "A", "192.0.2.1")))
    assert [r["content"] for r in by_name(cf, "www", "A")] == ["192.0.2.1"]
    assert cf.counts["dns_records.batch"] == 3


@pytest.mark.parametrize("fault", [{"kind": "status", "status": 502}, {"kind": "drop"}])
def test_a_batch_that_went_through_before_the_failure_is_not_sent_twice(cf, fault):
    cf.inject(endpoint="dns_records.batch", after=True, **fault)
    with provider(cf) as p:
        run(p, desired(rrset("www", "A", ["192.0.2.1", "192.0.2.2"])))
        assert plan_only(p, desired(rrset("www", "A", ["192.0.2.1", "192.0.2.2"]))).changes == []
    assert sorted(r["content"] for r in by_name(cf, "www", "A")) == ["192.0.2.1", "192.0.2.2"]
    assert cf.counts["dns_records.batch"] == 1


def test_a_timed_out_batch_is_checked_not_repeated(cf):
    cf.inject(endpoint="dns_records.batch", kind="slow", delay=1.5)
    with provider(cf, timeout=1) as p:
        run(p, desired(rrset("www", "A", "192.0.2.1")))
    time.sleep(0.6)  # let the slow handler finish before the emulator stops
    assert [r["content"] for r in by_name(cf, "www", "A")] == ["192.0.2.1"]


def test_a_refused_batch_changes_nothing_and_names_the_record(cf):
    before = cf.records(cf.zone)
    want = desired(*(rrset(f"ok{i}", "A", f"192.0.2.{i}") for i in range(9)), rrset("bad", "A", "192.0.2.99", ttl=30))
    with provider(cf) as p, pytest.raises(ProviderError) as caught:
        run(p, want)
    message = str(caught.value)
    assert "bad A" in message and "9021" in message and "nothing of this batch was applied" in message
    assert cf.records(cf.zone) == before


def test_a_failure_after_earlier_batches_says_what_went_through(cf):
    want = desired(
        *(rrset(f"ok{i:02}", "A", f"192.0.2.{i}") for i in range(12)), rrset("zz", "A", "192.0.2.99", ttl=30)
    )
    with provider(cf, batch_size=5) as p, pytest.raises(ProviderError) as caught:
        run(p, want)
    assert "2 earlier batch(es) with 10 of the 13 changes were applied" in str(caught.value)
    assert len(cf.records(cf.zone)) == 10


# ---- pins ----------------------------------------------------------------------------------------------------
def test_a_change_between_plan_and_apply_stops_the_apply(cf):
    with provider(cf) as p:
        run(p, desired(rrset("www", "A", "192.0.2.1")))
        state = p.read(ZONE, set())
        plan = make_zone_plan(
            desired(rrset("www", "A", "192.0.2.2"), rrset("new", "A", "192.0.2.3")), state, OWNER, "cf"
        )
        record = by_name(cf, "www", "A")[0]
        cf.store.patch(cf.zone, record["id"], {"content": "198.51.100.7"}, "")  # someone else edits it
        with pytest.raises(ChangedSinceReadError) as caught:
            p.apply(ZONE, plan.changes, OWNER)
    assert "www A" in str(caught.value) and "198.51.100.7" in str(caught.value)
    assert by_name(cf, "new", "A") == []  # nothing applied
    assert [r["content"] for r in by_name(cf, "www", "A")] == ["198.51.100.7"]


def test_a_record_deleted_between_the_re_read_and_the_batch_rolls_the_batch_back(cf, monkeypatch):
    with provider(cf) as p:
        run(p, desired(rrset("www", "A", "192.0.2.1")))
        state = p.read(ZONE, set())
        plan = make_zone_plan(
            desired(rrset("www", "A", "192.0.2.2"), rrset("new", "A", "192.0.2.3")), state, OWNER, "cf"
        )
        real_send = CloudflareProvider._send_batch

        def racing_send(self, *args):
            cf.store.delete(cf.zone, by_name(cf, "www", "A")[0]["id"], "")
            return real_send(self, *args)

        monkeypatch.setattr(CloudflareProvider, "_send_batch", racing_send)
        with pytest.raises(ChangedSinceReadError) as caught:
            p.apply(ZONE, plan.changes, OWNER)
    assert "81044" in str(caught.value) and "www A" in str(caught.value)
    assert cf.records(cf.zone) == []


# ---- auth, TLS, options, secrets ------------------------------------------------------------------------------
def test_bad_token_is_one_clear_error_without_the_token(cf):
    secret = "wrong-token-0123456789abcdefghijklmnopqrs"
    with provider(cf, api_token=secret) as p, pytest.raises(ProviderError) as caught:
        p.read(ZONE, set())
    text = f"{caught.value} {caught.value.hint} {caught.value!r}"
    assert "9109" in text and "api_token" in text
    assert secret not in text


def test_a_token_sent_as_global_key_is_refused_with_6003(cf):
    p = provider(cf, api_token=None, api_email="ops@example.test", api_key=cf.token)
    with p, pytest.raises(ProviderError) as caught:
        p.read(ZONE, set())
    assert "6003" in str(caught.value) and "6103" in str(caught.value)
    assert cf.token not in f"{caught.value} {caught.value.hint}"


def test_global_api_key_works(cf):
    key = "0123456789abcdef0123456789abcdef01234"
    cf.add_global_key("ops@example.test", key)
    with provider(cf, api_token=None, api_email="ops@example.test", api_key=key) as p:
        run(p, desired(rrset("www", "A", "192.0.2.1")))
    assert len(by_name(cf, "www", "A")) == 1


def test_read_only_token_cannot_apply(cf):
    cf.add_token("read-only-token-0123456789abcdefghijklmn", edit=False)
    p = provider(cf, api_token="read-only-token-0123456789abcdefghijklmn")
    with p, pytest.raises(ProviderError) as caught:
        run(p, desired(rrset("www", "A", "192.0.2.1")))
    assert "10000" in str(caught.value) and "DNS:Edit" in caught.value.hint
    assert "read-only-token" not in str(caught.value)


def test_unknown_zone_and_zone_id_option(cf):
    with provider(cf) as p, pytest.raises(ProviderError, match="not in the Cloudflare account"):
        p.read("other.test.", set())
    with provider(cf, zone_id=cf.zone.id) as p:
        p.read(ZONE, set())
    assert cf.counts["zones.list"] == 1  # only the failed lookup above


def test_tls_is_verified(cf):
    with provider(cf, ca_bundle=None) as p, pytest.raises(ProviderError, match="TLS verification") as caught:
        p.read(ZONE, set())
    assert "ca_bundle" in caught.value.hint


def test_plain_http_to_loopback_works(cf):
    with provider(cf, base_url=cf.http_url, ca_bundle=None) as p:
        assert p.read(ZONE, set()).records == {}


def test_option_problems():
    def problems(**options):
        opts = {k: spec.default for k, spec in CloudflareProvider.OPTIONS.items()}
        opts.update(options)
        return CloudflareProvider("cf", opts).check_options()

    assert problems(api_token="t") == []
    assert problems() == ["missing credentials: set api_token (or api_email with api_key)"]
    assert "not both" in problems(api_token="t", api_email="a@b.c", api_key="k")[0]
    assert "go together" in problems(api_email="a@b.c")[0]
    assert "plain http" in problems(api_token="t", base_url="http://api.example.net/client/v4")[0]
    assert problems(api_token="t", base_url="http://127.0.0.1:8080/client/v4") == []
    assert "batch_size" in problems(api_token="t", batch_size=0)[0]
    assert zone_provider_class("cloudflare") is CloudflareProvider
    assert {k for k, s in CloudflareProvider.OPTIONS.items() if s.secret} == {"api_token", "api_key"}


def test_types_it_cannot_write_fail_at_plan_time(cf):
    with provider(cf) as p, pytest.raises(ProviderError, match="cannot manage TLSA"):
        p.read(ZONE, {(f"_443._tcp.{ZONE}", "TLSA")})


def test_inventory_validation_reports_option_problems_without_secrets():
    from ansible_collections.fleetdns.ddns.plugins.module_utils.config import validate
    from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError

    secret = "inventory-secret-token-0123456789abcdefgh"
    zones = {"example.test": {"provider": "cf"}}
    good = {"fleetdns_providers": {"cf": {"type": "cloudflare", "api_token": secret}}, "fleetdns_zones": zones}
    config = validate(good, {})
    assert config.providers["cf"].options["batch_size"] == 200
    assert config.providers["cf"].redacted()["api_token"] == "********"
    assert secret in config.secrets()
    bad = {
        "fleetdns_providers": {
            "cf": {"type": "cloudflare", "api_key": secret, "base_url": "http://api.example.net/client/v4", "batch": 5}
        },
        "fleetdns_zones": zones,
    }
    with pytest.raises(ConfigError) as caught:
        validate(bad, {})
    text = str(caught.value)
    assert "unknown key 'batch'" in text and "did you mean 'batch_size'" in text
    assert "api_email and api_key go together" in text and "plain http" in text
    assert secret not in text
