"""The duckdns provider against the strict DuckDNS emulator: the request, the verbose answer parsed,
KO a definitive refusal, IPv6, clear, TXT for ACME, no request when DNS already agrees, and the
token in no message or log record."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import provider_class
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.ddns_http import COLLECTION_VERSION, DdnsClient
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.duckdns import DuckDnsProvider
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.update_errors import (
    UpdateDeferredError,
    UpdateRefusedError,
)
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.providers.ddns_helpers import (
    assert_hidden,
    duckdns,
    state_lookup,
)

TOKEN = "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"
HOME = "myhome.duckdns.org."
V4, V4_NEW, V6 = "192.0.2.20", "192.0.2.21", "2001:db8::20"


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DdnsClient, "BACKOFF", 0.01)


@pytest.fixture
def duck(tmp_path) -> Iterator[duckdns.DuckDnsEmulator]:
    with duckdns.DuckDnsEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.add_account(TOKEN, ["myhome"])
        emulator.add_account("another-token-0000", ["theirs"])
        yield emulator


def provider(emulator, **options) -> DuckDnsProvider:
    cls = provider_class("duckdns")
    assert cls is DuckDnsProvider
    full = {k: spec.default for k, spec in cls.OPTIONS.items()}
    full.update({"token": TOKEN, "server": emulator.https_url, "ca_bundle": emulator.ca_file, **options})
    instance = DuckDnsProvider("duck", full)
    assert instance.check_options() == []
    return instance


def dns_of(emulator):
    def read(name: str, rtype: str) -> str | None:
        state = emulator.state(name)
        return state.ipv4 if rtype == "A" else state.ipv6

    return state_lookup(read)


def test_update_sends_the_documented_request(duck) -> None:
    with provider(duck) as p:
        answer = p.update(HOME, {"A": frozenset({V4})})
    assert answer.changed is True and answer.addresses["A"] == frozenset({V4})
    sent = duck.requests[-1]
    assert sent["path"] == "/update" and sent["scheme"] == "https"
    assert sent["query"] == {"domains": "myhome", "token": "<redacted>", "ip": V4, "verbose": "true"}
    assert sent["user_agent"].startswith(f"fleetdns/{COLLECTION_VERSION}")
    assert duck.state("myhome").ipv4 == V4


def test_ipv4_and_ipv6(duck) -> None:
    with provider(duck) as p:
        answer = p.update(HOME, {"A": frozenset({V4}), "AAAA": frozenset({V6})})
    assert answer.addresses == {"A": frozenset({V4}), "AAAA": frozenset({V6})}
    assert duck.requests[-1]["query"]["ipv6"] == V6
    with provider(duck) as p:
        p.update(HOME, {"AAAA": frozenset({"2001:db8::21"})})
    assert "ip" not in duck.requests[-1]["query"]  # no IPv4 detection when only the AAAA changes
    assert (duck.state("myhome").ipv4, duck.state("myhome").ipv6) == (V4, "2001:db8::21")


def test_nochange(duck) -> None:
    with provider(duck) as p:
        p.update(HOME, {"A": frozenset({V4})})
        assert p.update(HOME, {"A": frozenset({V4})}).changed is False


def test_clear_removes_both(duck) -> None:
    with provider(duck) as p:
        p.update(HOME, {"A": frozenset({V4}), "AAAA": frozenset({V6})})
        answer = p.update(HOME, {"A": frozenset(), "AAAA": frozenset()})
        assert answer.changed is True and answer.addresses == {"A": frozenset(), "AAAA": frozenset()}
        with pytest.raises(UpdateRefusedError):
            p.update(HOME, {"A": frozenset()})
    assert duck.requests[-1]["query"]["clear"] == "true"
    assert duck.state("myhome").ipv4 is None


def test_a_second_run_sends_nothing(duck) -> None:
    with provider(duck) as p:
        assert p.set_addresses(HOME, {"A": frozenset({V4})}, dns_of(duck)).verified
        again = p.set_addresses(HOME, {"A": frozenset({V4})}, dns_of(duck))
        assert not again.sent
        assert p.set_addresses(HOME, {"A": frozenset({V4_NEW})}, dns_of(duck)).changed
    assert duck.counts["update"] == 2


@pytest.mark.parametrize(
    ("options", "name"),
    [({"token": "wrong-token-1234"}, HOME), ({}, "theirs.duckdns.org."), ({}, "nobody.duckdns.org.")],
)
def test_ko_is_a_definitive_refusal(duck, options, name) -> None:
    with provider(duck, **options) as p, pytest.raises(UpdateRefusedError) as caught:
        p.update(name, {"A": frozenset({V4})})
    assert caught.value.code == "KO" and "token" in caught.value.hint
    assert duck.counts["update"] == 1
    assert_hidden(TOKEN, str(caught.value))
    assert_hidden("wrong-token-1234", str(caught.value))


def test_names_outside_duckdns_are_refused_before_sending(duck) -> None:
    with provider(duck) as p:
        for name in ("home.example.test.", "duckdns.org.", "a.myhome.duckdns.org."):
            with pytest.raises(UpdateRefusedError) as caught:
                p.update(name, {"A": frozenset({V4})})
            assert caught.value.code == "config"
    assert duck.counts["total"] == 0


def test_5xx_then_gives_up_deferred(duck) -> None:
    duck.inject(kind="status", status=500, times=10)
    with provider(duck) as p, pytest.raises(UpdateDeferredError):
        p.update(HOME, {"A": frozenset({V4})})
    assert duck.counts["update"] == DdnsClient.ATTEMPTS


def test_unknown_answer_is_quoted_without_the_token(duck) -> None:
    duck.inject(kind="body", body=f"<html>oops {TOKEN}</html>")
    with provider(duck) as p, pytest.raises(UpdateDeferredError) as caught:
        p.update(HOME, {"A": frozenset({V4})})
    assert "oops ********" in caught.value.message and TOKEN not in caught.value.message


def test_txt_for_acme(duck) -> None:
    with provider(duck) as p:
        assert p.set_txt("_acme-challenge.myhome.duckdns.org.", "challenge-value") is True
        assert duck.state("myhome").txt == "challenge-value"
        assert p.set_txt(HOME, "challenge-value") is False
        assert p.clear_txt(HOME) is True
    assert duck.state("myhome").txt is None


def test_the_token_reaches_no_log_record(duck, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with provider(duck) as p:
        p.update(HOME, {"A": frozenset({V4})})
    duck.inject(kind="drop", times=10)
    with provider(duck) as p, pytest.raises(UpdateDeferredError) as caught:
        p.update(HOME, {"A": frozenset({V4_NEW})})
    assert_hidden(TOKEN, str(caught.value), caught.value.hint)
    # urllib3 logs request lines with their query at DEBUG: the token is there, so the fronts scrub
    # their log output (the CLI's redacting stderr, Ansible's no_log); what the provider itself says
    # never carries it.
    assert all(TOKEN not in r.getMessage() for r in caplog.records if not r.name.startswith("urllib3"))
