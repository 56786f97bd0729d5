"""The plumbing every DDNS emulator shares: HTTPS with the test CA, faults (body, status, stall, drop,
after), the log and counters, and the host-name and address checks."""

from __future__ import annotations

import http.client
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

try:
    from emulators.ddns_base import is_fqdn, parse_address
    from emulators.duckdns import DuckDnsEmulator
except ImportError:  # under `ansible-test units` tests/ is part of the collection, not on sys.path
    from ansible_collections.fleetdns.ddns.tests.emulators.ddns_base import is_fqdn, parse_address
    from ansible_collections.fleetdns.ddns.tests.emulators.duckdns import DuckDnsEmulator

TOKEN = "a7c4d0ad-114e-40ef-ba1d-d217904a50f2"


@pytest.fixture
def duck(tmp_path) -> Iterator[DuckDnsEmulator]:
    with DuckDnsEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.add_account(TOKEN, ["myhome"])
        yield emulator


def url(duck, base=None, ip="192.0.2.1"):
    return f"{base or duck.http_url}/update?domains=myhome&token={TOKEN}&ip={ip}"


def test_https_with_the_test_ca(fetch, duck):
    assert fetch(url(duck, duck.https_url), ca_file=duck.ca_file)[1] == "OK"
    assert duck.requests[-1]["scheme"] == "https"


def test_https_without_the_test_ca_is_refused(duck):
    with pytest.raises(urllib.error.URLError) as caught:
        urllib.request.urlopen(url(duck, duck.https_url), timeout=10, context=ssl.create_default_context())
    assert isinstance(caught.value.reason, ssl.SSLCertVerificationError)


def test_injected_status_once(fetch, duck):
    duck.inject(kind="status", status=503)
    assert fetch(url(duck))[0] == 503
    assert duck.state("myhome").ipv4 is None
    assert fetch(url(duck))[:2] == (200, "OK")


def test_injected_after_changes_state_but_answers_the_fault(fetch, duck):
    duck.inject(kind="status", status=502, after=True)
    assert fetch(url(duck))[0] == 502
    assert duck.state("myhome").ipv4 == "192.0.2.1"


def test_injected_stall(fetch, duck):
    duck.inject(kind="slow", delay=0.5)
    started = time.monotonic()
    assert fetch(url(duck))[1] == "OK"
    assert time.monotonic() - started >= 0.5


def test_injected_drop(duck):
    duck.inject(kind="drop")
    connection = http.client.HTTPConnection(duck.http_server, timeout=10)
    connection.request("GET", url(duck).removeprefix(duck.http_url))
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        connection.getresponse()
    connection.close()
    assert duck.requests[-1]["status"] == 0
    assert duck.state("myhome").ipv4 is None


def test_fault_for_one_endpoint_only(fetch, duck):
    duck.inject(kind="body", body="KO", endpoint="listing")  # DuckDNS has no such endpoint
    assert fetch(url(duck))[1] == "OK"


def test_counts_and_reset(fetch, duck):
    fetch(url(duck))
    fetch(url(duck, ip="192.0.2.2"))
    assert duck.counts == {"update": 2, "total": 2}
    duck.reset_log()
    assert duck.requests == [] and duck.counts == {}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("home.example.test", True), ("home.example.test.", True), ("a-b.c", True), ("single", False),
     ("-a.test", False), ("a_.test", False), ("", False), (("a" * 63 + ".") * 4 + "test", False)],
)  # fmt: skip
def test_is_fqdn(name, expected):
    assert is_fqdn(name) is expected


def test_parse_address():
    assert str(parse_address("2001:DB8:0::1")) == "2001:db8::1"
    assert parse_address("192.0.2.1").version == 4
    assert parse_address("fe80::1%eth0") is None
    assert parse_address("nope") is None
