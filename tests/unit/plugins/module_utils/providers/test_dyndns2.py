"""The dyndns2 provider against the strict No-IP / Dyn emulator: the request it sends, every answer
mapped to success, refusal (never resent) or deferral, IPv6, the DNS query that keeps a second run
from sending anything, and the password in no message or log record."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ProviderError
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import provider_class
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.ddns_http import (
    COLLECTION_VERSION,
    DdnsClient,
    check_server,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.dyndns2 import Dyndns2Provider
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.update_errors import (
    UpdateDeferredError,
    UpdateRefusedError,
)
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.providers.ddns_helpers import (
    assert_hidden,
    dyndns2,
    state_lookup,
)

USER, PASSWORD = "owner@example.test", "Sup3r-Secret-DDNS-Key"
HOME = "home.example.test."
V4, V4_NEW, V6 = "192.0.2.10", "192.0.2.11", "2001:db8::10"


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DdnsClient, "BACKOFF", 0.01)


@pytest.fixture
def noip(tmp_path) -> Iterator[dyndns2.Dyndns2Emulator]:
    with dyndns2.Dyndns2Emulator(tls_dir=tmp_path / "tls", flavour="noip", nochg_limit=2) as emulator:
        emulator.add_account(USER, PASSWORD, hosts=[HOME.rstrip(".")])
        yield emulator


def provider(emulator, **options) -> Dyndns2Provider:
    base = {"username": USER, "password": PASSWORD, "server": emulator.https_url, "ca_bundle": emulator.ca_file}
    base.update(options)
    cls = provider_class("dyndns2")
    assert cls is Dyndns2Provider
    full = {k: spec.default for k, spec in cls.OPTIONS.items()}
    full.update(base)
    instance = Dyndns2Provider("noip", full)
    assert instance.check_options() == []
    return instance


def dns_of(emulator):
    def read(name: str, rtype: str) -> str | None:
        ipv4, ipv6 = emulator.address(name.rstrip("."))
        return ipv4 if rtype == "A" else ipv6

    return state_lookup(read)


def test_update_sends_the_documented_request_and_maps_good(noip) -> None:
    with provider(noip) as p:
        answer = p.update(HOME, {"A": frozenset({V4})})
    assert answer.changed is True and answer.addresses == {"A": frozenset({V4})}
    assert noip.address(HOME.rstrip(".")) == (V4, None)
    sent = noip.requests[-1]
    assert sent["path"] == "/nic/update" and sent["scheme"] == "https"
    assert sent["query"] == {"hostname": "home.example.test", "myip": V4}
    assert sent["user"] == USER
    assert sent["user_agent"].startswith(f"fleetdns/{COLLECTION_VERSION}")


def test_ipv4_and_ipv6_in_one_request(noip) -> None:
    with provider(noip) as p:
        answer = p.update(HOME, {"AAAA": frozenset({"2001:DB8:0::10"}), "A": frozenset({V4})})
    assert noip.requests[-1]["query"]["myip"] == f"{V4},{V6}"
    assert answer.addresses == {"A": frozenset({V4}), "AAAA": frozenset({V6})}
    assert noip.address(HOME.rstrip(".")) == (V4, V6)


def test_ipv6_only(noip) -> None:
    with provider(noip) as p:
        p.update(HOME, {"AAAA": frozenset({V6})})
    assert noip.address(HOME.rstrip(".")) == (None, V6)


def test_nochg_is_success_without_change(noip) -> None:
    noip.set_address(HOME.rstrip("."), V4)
    with provider(noip) as p:
        answer = p.update(HOME, {"A": frozenset({V4})})
    assert answer.changed is False and answer.text == f"nochg {V4}"


def test_a_second_run_with_an_unchanged_address_sends_no_request(noip) -> None:
    """No-IP and Dyn block clients that resend an unchanged address: DNS is asked first."""
    with provider(noip) as p:
        first = p.set_addresses(HOME, {"A": frozenset({V4})}, dns_of(noip))
        assert first.sent and first.changed and first.verified
        for _run in range(5):  # more than the emulator's nochg limit
            again = p.set_addresses(HOME, {"A": frozenset({V4})}, dns_of(noip))
            assert not again.sent and not again.changed
        changed = p.set_addresses(HOME, {"A": frozenset({V4_NEW})}, dns_of(noip))
    assert changed.sent and changed.verified and changed.before == {"A": frozenset({V4})}
    assert noip.counts["update"] == 2
    assert not noip.host(HOME.rstrip(".")).blocked


@pytest.mark.parametrize(
    ("body", "fix"),
    [
        ("badauth", "username and password"),
        ("nohost", "create it in the account"),
        ("notfqdn", "full name"),
        ("numhost", "bug"),
        ("!donator", "upgrade the account"),
        ("badagent", "support"),
        ("abuse", "unblock the host"),
        ("badsys", "server and path"),
        ("!yours", "username"),
        ("!active", "activate"),
    ],
)
def test_every_refusal_is_definitive_and_sent_once(noip, body: str, fix: str) -> None:
    noip.inject(kind="body", body=body)
    with provider(noip) as p, pytest.raises(UpdateRefusedError) as caught:
        p.update(HOME, {"A": frozenset({V4})})
    assert caught.value.code == body and f"'{body}'" in caught.value.message and fix in caught.value.hint
    assert noip.counts["update"] == 1  # never resent


def test_real_bad_credentials_and_a_blocked_host(noip) -> None:
    with provider(noip, password="wrong-password-123") as p, pytest.raises(UpdateRefusedError) as caught:
        p.update(HOME, {"A": frozenset({V4})})
    assert caught.value.code == "badauth"
    assert "wrong-password-123" not in str(caught.value)
    noip.host(HOME.rstrip(".")).blocked = True
    with provider(noip) as p, pytest.raises(UpdateRefusedError) as blocked:
        p.update(HOME, {"A": frozenset({V4})})
    assert blocked.value.code == "abuse" and "blocked this host" in blocked.value.message


def test_unknown_host(noip) -> None:
    with provider(noip) as p, pytest.raises(UpdateRefusedError) as caught:
        p.update("shed.example.test.", {"A": frozenset({V4})})
    assert caught.value.code == "nohost" and "shed.example.test." in caught.value.message


@pytest.mark.parametrize("body", ["911", "dnserr"])
def test_service_trouble_defers_for_thirty_minutes_without_retrying(noip, body: str) -> None:
    noip.inject(kind="body", body=body)
    with provider(noip) as p, pytest.raises(UpdateDeferredError) as caught:
        p.update(HOME, {"A": frozenset({V4})})
    assert caught.value.code == body and caught.value.retry_after >= 1800
    assert noip.counts["update"] == 1


def test_a_5xx_is_retried_with_bounded_backoff(noip) -> None:
    noip.inject(kind="status", status=502, times=1)
    with provider(noip) as p:
        assert p.update(HOME, {"A": frozenset({V4})}).changed is True
    assert noip.counts["update"] == 2
    noip.inject(kind="status", status=503, times=10)
    noip.reset_log()
    with provider(noip) as p, pytest.raises(UpdateDeferredError) as caught:
        p.update(HOME, {"A": frozenset({V4_NEW})})
    assert noip.counts["update"] == DdnsClient.ATTEMPTS and "503" in caught.value.message


def test_a_stalled_service_ends_at_the_deadline(noip) -> None:
    noip.inject(kind="slow", delay=3)
    with provider(noip, deadline=0.5) as p, pytest.raises(UpdateDeferredError) as caught:
        p.update(HOME, {"A": frozenset({V4})})
    assert "deadline" in caught.value.message


def test_the_deadline_caps_the_retries_of_a_stalled_service(noip) -> None:
    """timeout 1 s, deadline 1.5 s: the second attempt waits only what is left, no third one starts."""
    stall = noip.inject(kind="slow", delay=4, times=DdnsClient.ATTEMPTS)
    started = time.monotonic()
    with provider(noip, timeout=1, deadline=1.5) as p, pytest.raises(UpdateDeferredError) as caught:
        p.update(HOME, {"A": frozenset({V4})})
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed
    assert DdnsClient.ATTEMPTS - stall.times == 2 and caught.value.code == "timeout"  # requests received
    assert caught.value.message.startswith("dyndns2 provider 'noip': no whole answer from ")
    assert "within the deadline of 1.5 s" in caught.value.message
    assert "(2 attempts" in caught.value.message and PASSWORD not in str(caught.value)


def test_unknown_answer_quotes_the_body_without_secrets(noip) -> None:
    noip.inject(kind="body", body=f"weird answer {PASSWORD}")
    with provider(noip) as p, pytest.raises(ProviderError) as caught:
        p.update(HOME, {"A": frozenset({V4})})
    assert "weird answer ********" in caught.value.message
    assert PASSWORD not in str(caught.value)


def test_missing_authorization_answer_and_wrong_path(noip) -> None:
    with provider(noip, path="/v3/update") as p, pytest.raises(UpdateRefusedError) as caught:
        p.update(HOME, {"A": frozenset({V4})})
    assert caught.value.code == "404" and "path" in caught.value.hint


def test_tls_needs_the_ca(noip) -> None:
    with provider(noip, ca_bundle=None) as p, pytest.raises(UpdateRefusedError) as caught:
        p.update(HOME, {"A": frozenset({V4})})
    assert caught.value.code == "tls" and "ca_bundle" in caught.value.hint
    assert noip.counts["update"] == 0


def test_what_dyndns2_cannot_do_is_refused_before_sending(noip) -> None:
    with provider(noip) as p:
        for addresses in (
            {"A": frozenset()},
            {"A": frozenset({V4, V4_NEW})},
            {"A": frozenset({V6})},
            {"TXT": frozenset({"x"})},
        ):
            with pytest.raises(UpdateRefusedError):
                p.update(HOME, addresses)
    assert noip.counts["total"] == 0


def test_server_must_be_https_except_loopback() -> None:
    assert check_server("https://members.dyndns.org") is None
    assert check_server("http://127.0.0.1:8080") is None
    assert "clear" in (check_server("http://dynupdate.example.net") or "")
    assert check_server("ftp://x") is not None
    assert Dyndns2Provider.declared_problems({"server": "http://dynupdate.example.net"})


def test_the_password_reaches_no_log_record(noip, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    noip.inject(kind="body", body="badauth")
    with provider(noip) as p, pytest.raises(UpdateRefusedError) as caught:
        p.update(HOME, {"A": frozenset({V4})})
    assert_hidden(PASSWORD, str(caught.value), caught.value.hint, caplog=caplog)
    assert caplog.records  # urllib3 logged the exchange, without the password


def test_collection_version_is_galaxys() -> None:
    from pathlib import Path

    import yaml

    galaxy = Path(__file__).resolve().parents[5] / "galaxy.yml"
    assert yaml.safe_load(galaxy.read_text())["version"] == COLLECTION_VERSION


def test_offline_marks_a_removed_host_offline_where_the_account_allows_it(noip) -> None:
    removed = {"A": frozenset(), "AAAA": frozenset()}
    with provider(noip, offline=True) as p:
        with pytest.raises(UpdateRefusedError, match="'!donator'"):
            p.update(HOME, removed)  # a free No-IP account has no offline
        noip.add_account("paid@example.test", PASSWORD, hosts=["paid.example.test"], donator=True)
    with provider(noip, offline=True, username="paid@example.test") as p:
        answer = p.update("paid.example.test.", removed)
    assert answer.changed is True and noip.host("paid.example.test").offline is True
    assert noip.requests[-1]["query"] == {"hostname": "paid.example.test", "offline": "YES"}
