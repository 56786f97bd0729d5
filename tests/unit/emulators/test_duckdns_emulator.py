"""The DuckDNS emulator answers as DuckDNS documents: OK/KO, the verbose four lines, ip/ipv6 rules,
clear, TXT, the path form, and token ownership of every domain."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

try:
    from emulators.duckdns import DuckDnsEmulator
except ImportError:  # under `ansible-test units` tests/ is part of the collection, not on sys.path
    from ansible_collections.fleetdns.ddns.tests.emulators.duckdns import DuckDnsEmulator

TOKEN = "a7c4d0ad-114e-40ef-ba1d-d217904a50f2"
OTHER = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def duck() -> Iterator[DuckDnsEmulator]:
    with DuckDnsEmulator() as emulator:
        emulator.add_account(TOKEN, ["myhome", "mycabin"])
        emulator.add_account(OTHER, ["theirs"])
        yield emulator


def update(fetch, duck, **query):
    query.setdefault("token", TOKEN)
    return fetch(f"{duck.http_url}/update?{urlencode(query)}")


def records(duck, name):
    state = duck.state(name)
    return state.ipv4, state.ipv6, state.txt


def test_ok_and_ko_are_plain_bodies(fetch, duck):
    status, body, headers = update(fetch, duck, domains="myhome", ip="192.0.2.1")
    assert (status, body) == (200, "OK")
    assert headers["Content-Type"].startswith("text/plain")
    assert update(fetch, duck, domains="myhome", ip="192.0.2.1", token=OTHER)[:2] == (200, "KO")


@pytest.mark.parametrize(
    "query",
    [
        {"domains": "myhome", "ip": "192.0.2.1", "token": "wrong"},
        {"domains": "myhome", "ip": "192.0.2.1", "token": ""},
        {"domains": "", "ip": "192.0.2.1"},
        {"ip": "192.0.2.1"},
        {"domains": "myhome,theirs", "ip": "192.0.2.1"},  # one domain not owned: nothing changes
        {"domains": "nosuch", "ip": "192.0.2.1"},
        {"domains": "myhome", "ip": "192.0.2.999"},
        {"domains": "myhome", "ipv6": "192.0.2.1"},
    ],
)
def test_ko_changes_nothing(fetch, duck, query):
    assert update(fetch, duck, **query)[1] == "KO"
    assert records(duck, "myhome") == (None, None, None)


def test_missing_token_is_ko(fetch, duck):
    assert fetch(f"{duck.http_url}/update?domains=myhome&ip=192.0.2.1")[1] == "KO"


def test_several_domains_and_full_names(fetch, duck):
    assert update(fetch, duck, domains="myhome,mycabin.duckdns.org", ip="192.0.2.1")[1] == "OK"
    assert records(duck, "myhome")[0] == records(duck, "mycabin")[0] == "192.0.2.1"


def test_verbose_four_lines_updated_then_nochange(fetch, duck):
    assert update(fetch, duck, domains="myhome", ip="192.0.2.1", verbose="true")[1] == "OK\n192.0.2.1\n\nUPDATED"
    assert update(fetch, duck, domains="myhome", ip="192.0.2.1", verbose="true")[1] == "OK\n192.0.2.1\n\nNOCHANGE"
    body = update(fetch, duck, domains="myhome", ipv6="2001:db8::1", verbose="true")[1]
    assert body == "OK\n192.0.2.1\n2001:db8::1\nUPDATED"


def test_verbose_ko_is_just_ko(fetch, duck):
    assert update(fetch, duck, domains="myhome", token="bad", verbose="true")[1] == "KO"


def test_ip_may_be_ipv6(fetch, duck):
    update(fetch, duck, domains="myhome", ip="2001:db8::5")
    assert records(duck, "myhome") == (None, "2001:db8::5", None)


def test_blank_ip_detects_the_callers_ipv4(fetch, duck):
    update(fetch, duck, domains="myhome", ip="")
    assert records(duck, "myhome")[0] == "127.0.0.1"


def test_ipv6_given_turns_detection_off(fetch, duck):
    update(fetch, duck, domains="myhome", ipv6="2001:db8::1")
    assert records(duck, "myhome") == (None, "2001:db8::1", None)


def test_clear_empties_both_addresses(fetch, duck):
    update(fetch, duck, domains="myhome", ip="192.0.2.1", ipv6="2001:db8::1")
    assert update(fetch, duck, domains="myhome", ip="192.0.2.7", clear="true")[1] == "OK"
    assert records(duck, "myhome") == (None, None, None)


def test_txt_set_and_clear_leave_addresses(fetch, duck):
    update(fetch, duck, domains="myhome", ip="192.0.2.1")
    assert update(fetch, duck, domains="myhome", txt="acme-challenge-value", verbose="true")[1] == (
        "OK\nacme-challenge-value\nUPDATED"
    )
    assert records(duck, "myhome") == ("192.0.2.1", None, "acme-challenge-value")
    assert update(fetch, duck, domains="myhome", txt="", clear="true")[1] == "OK"
    assert records(duck, "myhome") == ("192.0.2.1", None, None)


def test_txt_with_a_bad_token_is_ko(fetch, duck):
    assert update(fetch, duck, domains="myhome", txt="x", token="bad")[1] == "KO"
    assert records(duck, "myhome")[2] is None


def test_path_form(fetch, duck):
    assert fetch(f"{duck.http_url}/update/myhome/{TOKEN}/192.0.2.3")[1] == "OK"
    assert records(duck, "myhome")[0] == "192.0.2.3"
    assert fetch(f"{duck.http_url}/update/myhome/{TOKEN}")[1] == "OK"
    assert records(duck, "myhome")[0] == "127.0.0.1"
    assert fetch(f"{duck.http_url}/update/myhome/wrong/192.0.2.4")[1] == "KO"
    assert TOKEN not in repr(duck.requests)


def test_token_never_logged(fetch, duck):
    update(fetch, duck, domains="myhome", ip="192.0.2.1")
    assert duck.requests[0]["query"]["token"] == "<redacted>"
    assert TOKEN not in repr(duck.requests)


def test_unknown_path_is_404(fetch, duck):
    assert fetch(f"{duck.http_url}/nic/update?domains=myhome")[0] == 404
