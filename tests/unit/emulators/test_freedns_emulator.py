"""The FreeDNS emulator: v2 token URLs, the API listing with its own v1 update URLs, and the answers for
changed, unchanged and bad tokens/keys."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

try:
    from emulators.freedns import BAD_KEY, FreeDnsEmulator
except ImportError:  # under `ansible-test units` tests/ is part of the collection, not on sys.path
    from ansible_collections.fleetdns.ddns.tests.emulators.freedns import BAD_KEY, FreeDnsEmulator

LOGIN, PASSWORD = "fleetowner", "afraid-password"
SHA = hashlib.sha1(f"{LOGIN}|{PASSWORD}".encode()).hexdigest()


@pytest.fixture
def afraid() -> Iterator[FreeDnsEmulator]:
    with FreeDnsEmulator() as emulator:
        emulator.home = emulator.add_host(LOGIN, PASSWORD, "home.example.test", "192.0.2.1")
        emulator.v6 = emulator.add_host(LOGIN, PASSWORD, "v6.example.test", "2001:db8::1")
        emulator.unset = emulator.add_host(LOGIN, PASSWORD, "new.example.test")
        emulator.theirs = emulator.add_host("other", "pw", "theirs.example.test", "198.51.100.1")
        yield emulator


def test_v2_updated_then_no_change(fetch, afraid):
    url = f"{afraid.http_url}/u/{afraid.home.token}/?myip=192.0.2.7"
    assert fetch(url)[:2] == (200, "Updated home.example.test from 192.0.2.1 to 192.0.2.7")
    assert afraid.address("home.example.test") == "192.0.2.7"
    assert fetch(url)[1] == "No IP change detected for home.example.test with IP 192.0.2.7, skipping update"


def test_v2_without_myip_takes_the_callers_address_and_needs_no_auth(fetch, afraid):
    assert fetch(f"{afraid.http_url}/u/{afraid.home.token}/", agent=None)[1].endswith("to 127.0.0.1")


def test_v2_may_change_the_family(fetch, afraid):
    body = fetch(f"{afraid.http_url}/u/{afraid.home.token}/?myip=2607:f0d0:1102:d5::2")[1]
    assert body == "Updated home.example.test from 192.0.2.1 to 2607:f0d0:1102:d5::2"


@pytest.mark.parametrize("token", ["0123456789abcdef01234567", "x"])
def test_v2_bad_token(fetch, afraid, token):
    assert fetch(f"{afraid.http_url}/u/{token}/?myip=192.0.2.7")[:2] == (200, BAD_KEY)
    assert afraid.address("home.example.test") == "192.0.2.1"


def test_v2_bad_address_changes_nothing(fetch, afraid):
    assert fetch(f"{afraid.http_url}/u/{afraid.home.token}/?myip=300.1.1.1")[1] == "ERROR: Invalid address"
    assert afraid.address("home.example.test") == "192.0.2.1"


def test_listing_with_v2_shows_every_host_of_the_account(fetch, afraid):
    status, body, headers = fetch(f"{afraid.http_url}/api/?action=getdyndns&v=2&sha={SHA}")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert body.splitlines() == [
        f"home.example.test|192.0.2.1|{afraid.http_url}/dynamic/update.php?{afraid.home.key}",
        f"v6.example.test|2001:db8::1|{afraid.http_url}/dynamic/update.php?{afraid.v6.key}",
        f"new.example.test|NULL|{afraid.http_url}/dynamic/update.php?{afraid.unset.key}",
    ]


def test_listing_without_v2_leaves_ipv6_out(fetch, afraid):
    body = fetch(f"{afraid.http_url}/api/?action=getdyndns&sha={SHA}")[1]
    assert [line.split("|")[0] for line in body.splitlines()] == ["home.example.test", "new.example.test"]


@pytest.mark.parametrize(
    "query", [f"action=getdyndns&v=2&sha={'0' * 40}", "action=getdyndns&v=2", f"action=x&sha={SHA}"]
)
def test_listing_refuses_bad_credentials(fetch, afraid, query):
    assert fetch(f"{afraid.http_url}/api/?{query}")[1] == "ERROR: Could not authenticate."


def test_v1_update_url_with_address(fetch, afraid):
    url = f"{afraid.http_url}/dynamic/update.php?{afraid.home.key}&address=192.0.2.9"
    assert fetch(url)[1] == "Updated home.example.test from 192.0.2.1 to 192.0.2.9"
    assert fetch(url)[1] == "ERROR: Address 192.0.2.9 has not changed."
    assert fetch(f"{afraid.http_url}/dynamic/update.php?{afraid.unset.key}")[1] == (
        "Updated new.example.test from NULL to 127.0.0.1"
    )


def test_v1_bad_key(fetch, afraid):
    assert fetch(f"{afraid.http_url}/dynamic/update.php?nokey&address=192.0.2.9")[1] == BAD_KEY
    assert fetch(f"{afraid.http_url}/dynamic/update.php")[1] == BAD_KEY


def test_secrets_not_logged_and_endpoints_counted(fetch, afraid):
    fetch(f"{afraid.http_url}/api/?action=getdyndns&v=2&sha={SHA}")
    fetch(f"{afraid.http_url}/dynamic/update.php?{afraid.home.key}&address=192.0.2.9")
    fetch(f"{afraid.http_url}/u/{afraid.home.token}/?myip=192.0.2.10")
    logged = repr(afraid.requests)
    assert SHA not in logged and afraid.home.key not in logged and afraid.home.token not in logged
    assert afraid.counts == {"listing": 1, "update.v1": 1, "update.v2": 1, "total": 3}
