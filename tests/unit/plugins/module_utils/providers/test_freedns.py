"""The freedns provider against the strict FreeDNS emulator: v2 tokens (A and AAAA), the account
listing with the v1 update URLs it hands out, every answer mapped, a second run sending nothing,
and tokens, password and listed keys in no message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import provider_class
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.ddns_http import DdnsClient
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.freedns import FreeDnsProvider
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.update_errors import (
    UpdateDeferredError,
    UpdateRefusedError,
)
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.providers.ddns_helpers import (
    assert_hidden,
    freedns,
    state_lookup,
)

LOGIN, PASSWORD = "fleetowner", "afraid-Passw0rd-xyz"
HOME, V6HOST = "home.example.test.", "v6.example.test."
V4, V4_NEW, V6 = "192.0.2.30", "192.0.2.31", "2001:db8::30"


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DdnsClient, "BACKOFF", 0.01)


@pytest.fixture
def afraid(tmp_path) -> Iterator[freedns.FreeDnsEmulator]:
    with freedns.FreeDnsEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.home = emulator.add_host(LOGIN, PASSWORD, HOME.rstrip("."), "192.0.2.1")
        emulator.v6 = emulator.add_host(LOGIN, PASSWORD, V6HOST.rstrip("."), "2001:db8::1")
        emulator.other = emulator.add_host("someone", "else", "theirs.example.test", "192.0.2.9")
        yield emulator


def provider(emulator, **options) -> FreeDnsProvider:
    cls = provider_class("freedns")
    assert cls is FreeDnsProvider
    full = {k: spec.default for k, spec in cls.OPTIONS.items()}
    full.update({"server": emulator.https_url, "api_server": emulator.https_url, "ca_bundle": emulator.ca_file})
    full.update(options)
    instance = FreeDnsProvider("afraid", full)
    assert instance.check_options() == []
    return instance


def dns_of(emulator):
    def read(name: str, rtype: str) -> str | None:
        value = emulator.address(name.rstrip("."))
        return value if value and (":" in value) == (rtype == "AAAA") else None

    return state_lookup(read)


def test_v2_token_update(afraid) -> None:
    with provider(afraid, token=afraid.home.token) as p:
        answer = p.update(HOME, {"A": frozenset({V4})})
    assert answer.changed is True and afraid.address(HOME.rstrip(".")) == V4
    sent = afraid.requests[-1]
    assert sent["path"] == "/u/<redacted>/" and sent["query"] == {"myip": V4} and sent["endpoint"] == "update.v2"
    assert sent["user_agent"].startswith("fleetdns/")


def test_v2_nochange(afraid) -> None:
    with provider(afraid, token=afraid.home.token) as p:
        assert p.update(HOME, {"A": frozenset({"192.0.2.1"})}).changed is False


def test_v2_ipv6_token(afraid) -> None:
    with provider(afraid, ipv6_token=afraid.v6.token) as p:
        assert p.update(V6HOST, {"AAAA": frozenset({V6})}).changed is True
        with pytest.raises(UpdateRefusedError) as caught:
            p.update(V6HOST, {"A": frozenset({V4})})  # no token for the A record
    assert afraid.address(V6HOST.rstrip(".")) == V6 and caught.value.code == "config"


def test_v2_token_of_another_host_is_refused(afraid) -> None:
    with provider(afraid, token=afraid.other.token) as p, pytest.raises(UpdateRefusedError) as caught:
        p.update(HOME, {"A": frozenset({V4})})
    assert caught.value.code == "wrong-host" and "theirs.example.test" in caught.value.message


def test_v2_unknown_token(afraid) -> None:
    with provider(afraid, token="0123456789abcdef0123abcd") as p, pytest.raises(UpdateRefusedError) as caught:
        p.update(HOME, {"A": frozenset({V4})})
    assert caught.value.code == "badtoken" and "update token" in caught.value.hint
    assert "0123456789abcdef0123abcd" not in str(caught.value)
    assert afraid.counts["update.v2"] == 1


def test_account_listing_then_v1_update(afraid) -> None:
    with provider(afraid, username=LOGIN, password=PASSWORD) as p:
        answer = p.update(HOME, {"A": frozenset({V4})})
        assert answer.changed is True and afraid.address(HOME.rstrip(".")) == V4
        assert afraid.home.key not in answer.text
        assert p.update(HOME, {"A": frozenset({V4})}).changed is False  # "has not changed"
        assert p.update(V6HOST, {"AAAA": frozenset({V6})}).changed is True
    assert [r["endpoint"] for r in afraid.requests][:2] == ["listing", "update.v1"]
    assert afraid.requests[1]["query"] == {"address": V4, "key": "<redacted>"}


def test_account_errors(afraid) -> None:
    with provider(afraid, username=LOGIN, password="wrong-password-77") as p, pytest.raises(UpdateRefusedError) as bad:
        p.update(HOME, {"A": frozenset({V4})})
    assert bad.value.code == "badauth" and "wrong-password-77" not in str(bad.value)
    with provider(afraid, username=LOGIN, password=PASSWORD) as p, pytest.raises(UpdateRefusedError) as missing:
        p.update("theirs.example.test.", {"A": frozenset({V4})})
    assert missing.value.code == "nohost"
    assert afraid.counts["update.v1"] == 0


def test_a_second_run_sends_nothing(afraid) -> None:
    with provider(afraid, token=afraid.home.token) as p:
        assert p.set_addresses(HOME, {"A": frozenset({V4})}, dns_of(afraid)).verified
        assert not p.set_addresses(HOME, {"A": frozenset({V4})}, dns_of(afraid)).sent
        assert p.set_addresses(HOME, {"A": frozenset({V4_NEW})}, dns_of(afraid)).changed
    assert afraid.counts["update.v2"] == 2


def test_refusals_and_deferrals_of_odd_answers(afraid) -> None:
    with provider(afraid, token=afraid.home.token) as p:
        afraid.inject(kind="body", body="ERROR: Invalid address")
        with pytest.raises(UpdateRefusedError):
            p.update(HOME, {"A": frozenset({V4})})
        afraid.inject(kind="body", body=f"<html>maintenance {afraid.home.token}</html>")
        with pytest.raises(UpdateDeferredError) as odd:
            p.update(HOME, {"A": frozenset({V4})})
        afraid.inject(kind="status", status=502, times=10)
        with pytest.raises(UpdateDeferredError):
            p.update(HOME, {"A": frozenset({V4})})
    assert_hidden(afraid.home.token, str(odd.value))
    assert "maintenance ********" in odd.value.message


def test_credentials_are_checked() -> None:
    def problems(**options):
        return FreeDnsProvider("x", {"server": "https://sync.afraid.org", **options}).check_options()

    assert problems() and problems(username="u") and problems(token="t", username="u", password="p")
    assert problems(token="t") == [] and problems(username="u", password="p") == []


def test_removing_is_refused_before_sending(afraid) -> None:
    with provider(afraid, token=afraid.home.token) as p, pytest.raises(UpdateRefusedError):
        p.update(HOME, {"A": frozenset()})
    assert afraid.counts["total"] == 0
