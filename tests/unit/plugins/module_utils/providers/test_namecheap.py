"""The namecheap provider against the strict Namecheap emulator: the request, the XML answer with its
false `utf-16` prolog, every error mapped, the apex and a label, IPv4 only, a second run sending
nothing, and the Dynamic DNS password in no message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import provider_class
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.ddns_http import DdnsClient
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.namecheap import NamecheapProvider
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.update_errors import (
    UpdateDeferredError,
    UpdateRefusedError,
)
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.providers.ddns_helpers import (
    assert_hidden,
    namecheap,
    state_lookup,
)

DOMAIN, PASSWORD = "example.test", "0123456789abcdef0123456789abcdef"
HOME = "home.example.test."
V4, V4_NEW = "192.0.2.40", "192.0.2.41"


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DdnsClient, "BACKOFF", 0.01)


@pytest.fixture
def nc(tmp_path) -> Iterator[namecheap.NamecheapEmulator]:
    with namecheap.NamecheapEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.add_domain(DOMAIN, PASSWORD, hosts=["@", "home"])
        yield emulator


def provider(emulator, **options) -> NamecheapProvider:
    cls = provider_class("namecheap")
    assert cls is NamecheapProvider
    full = {k: spec.default for k, spec in cls.OPTIONS.items()}
    full.update({"domain": DOMAIN, "password": PASSWORD, "server": emulator.https_url, "ca_bundle": emulator.ca_file})
    full.update(options)
    instance = NamecheapProvider("nc", full)
    assert instance.check_options() == []
    return instance


def test_update_a_label_and_the_apex(nc) -> None:
    with provider(nc) as p:
        answer = p.update(HOME, {"A": frozenset({V4})})
        assert answer.addresses == {"A": frozenset({V4})} and answer.changed is None
        p.update("example.test.", {"A": frozenset({V4_NEW})})
    assert nc.address("home", DOMAIN) == V4 and nc.address("@", DOMAIN) == V4_NEW
    first = nc.requests[0]
    assert first["path"] == "/update" and first["scheme"] == "https"
    assert first["query"] == {"host": "home", "domain": DOMAIN, "password": "<redacted>", "ip": V4}
    assert nc.requests[1]["query"]["host"] == "@"
    assert first["user_agent"].startswith("fleetdns/")


def test_wrong_password(nc) -> None:
    with provider(nc, password="not-the-ddns-password") as p, pytest.raises(UpdateRefusedError) as caught:
        p.update(HOME, {"A": frozenset({V4})})
    assert caught.value.code == "badauth" and "Passwords do not match" in caught.value.message
    assert "Dynamic DNS password" in caught.value.hint
    assert_hidden("not-the-ddns-password", str(caught.value))
    assert nc.counts["update"] == 1


def test_host_without_a_record(nc) -> None:
    with provider(nc) as p, pytest.raises(UpdateRefusedError) as caught:
        p.update("shed.example.test.", {"A": frozenset({V4})})
    assert caught.value.code == "nohost" and "Advanced DNS" in caught.value.hint


def test_refused_before_sending(nc) -> None:
    with provider(nc) as p:
        for name, addresses in (
            (HOME, {"AAAA": frozenset({"2001:db8::1"})}),
            (HOME, {"A": frozenset()}),
            ("home.elsewhere.test.", {"A": frozenset({V4})}),
        ):
            with pytest.raises(UpdateRefusedError) as caught:
                p.update(name, addresses)
            assert caught.value.code == "config"
    assert nc.counts["total"] == 0


def test_a_second_run_sends_nothing(nc) -> None:
    lookup = state_lookup(lambda name, rtype: nc.address(name.split(".")[0], DOMAIN) if rtype == "A" else None)
    with provider(nc) as p:
        first = p.set_addresses(HOME, {"A": frozenset({V4})}, lookup)
        assert first.sent and first.changed and first.verified
        assert not p.set_addresses(HOME, {"A": frozenset({V4})}, lookup).sent
    assert nc.counts["update"] == 1


def test_odd_answers_are_deferred_and_quoted_without_the_password(nc) -> None:
    with provider(nc) as p:
        nc.inject(kind="body", body=f"<html>gateway {PASSWORD}</html>")
        with pytest.raises(UpdateDeferredError) as html:
            p.update(HOME, {"A": frozenset({V4})})
        nc.inject(
            kind="body",
            body="<interface-response><ErrCount>1</ErrCount><errors><Err1>Something new</Err1></errors>"
            "</interface-response>",
        )
        with pytest.raises(UpdateDeferredError) as new:
            p.update(HOME, {"A": frozenset({V4})})
        nc.inject(kind="status", status=504, times=10)
        with pytest.raises(UpdateDeferredError):
            p.update(HOME, {"A": frozenset({V4})})
    assert "gateway ********" in html.value.message and PASSWORD not in html.value.message
    assert "Something new" in new.value.message


def test_domain_option_is_checked() -> None:
    assert NamecheapProvider.declared_problems({"domain": "not a domain!", "server": "https://x.example"})
