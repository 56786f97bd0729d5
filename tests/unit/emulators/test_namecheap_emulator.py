"""The Namecheap emulator: HTTP 200 XML always, ErrCount 0 with <IP> on success, the documented error
messages and numbers otherwise."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

try:
    from emulators.namecheap import NamecheapEmulator
except ImportError:  # under `ansible-test units` tests/ is part of the collection, not on sys.path
    from ansible_collections.fleetdns.ddns.tests.emulators.namecheap import NamecheapEmulator

DOMAIN, PASSWORD = "example.test", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


@pytest.fixture
def nc() -> Iterator[NamecheapEmulator]:
    with NamecheapEmulator() as emulator:
        emulator.add_domain(DOMAIN, PASSWORD, hosts=["@", "home", "*"])
        emulator.add_domain("other.test", "another-password")
        yield emulator


def update(fetch, nc, **query):
    query = {"host": "home", "domain": DOMAIN, "password": PASSWORD, **query}
    status, body, _headers = fetch(f"{nc.http_url}/update?{urlencode(query)}")
    assert status == 200  # errors too: "don't rely on the HTTP status code"
    assert body.startswith('<?xml version="1.0" encoding="utf-16"?>')
    root = ET.fromstring(body.split("?>", 1)[1].strip())
    assert root.tag == "interface-response" and root.findtext("Done") == "true"
    return root


def errors(root):
    return [e.text for e in root.find("errors")]


def test_success_sets_the_address(fetch, nc):
    root = update(fetch, nc, ip="192.0.2.1")
    assert (root.findtext("ErrCount"), root.findtext("IP"), root.findtext("Command")) == (
        "0",
        "192.0.2.1",
        "SETDNSHOST",
    )
    assert errors(root) == []
    assert nc.address("home", DOMAIN) == "192.0.2.1"


def test_apex_and_wildcard_hosts(fetch, nc):
    update(fetch, nc, host="@", ip="192.0.2.2")
    update(fetch, nc, host="*", ip="192.0.2.3")
    assert (nc.address("@", DOMAIN), nc.address("*", DOMAIN)) == ("192.0.2.2", "192.0.2.3")


def test_empty_ip_takes_the_callers_address(fetch, nc):
    assert update(fetch, nc, ip="").findtext("IP") == "127.0.0.1"


@pytest.mark.parametrize(
    "query",
    [{"password": "wrong"}, {"password": ""}, {"domain": "unknown.test"}, {"domain": "other.test"}, {"host": ""}],
)
def test_password_errors(fetch, nc, query):
    root = update(fetch, nc, ip="192.0.2.1", **query)
    assert root.findtext("ErrCount") == "1"
    assert errors(root) == ["Passwords do not match"]
    assert root.findtext("responses/response/ResponseNumber") == "304156"
    assert root.findtext("responses/response/ResponseString") == "Validation error; invalid ; password"
    assert nc.address("home", DOMAIN) is None


def test_host_without_record(fetch, nc):
    root = update(fetch, nc, host="nothere", ip="192.0.2.1")
    assert errors(root) == ["No Records updated. A record not Found;"]
    assert root.findtext("responses/response/ResponseNumber") == "380091"


@pytest.mark.parametrize("ip", ["192.0.2.256", "2001:db8::1", "home"])
def test_invalid_ip(fetch, nc, ip):
    root = update(fetch, nc, ip=ip)
    assert root.findtext("ErrCount") == "1" and errors(root) == ["Invalid IP"]
    assert nc.address("home", DOMAIN) is None


def test_password_never_logged(fetch, nc):
    update(fetch, nc, ip="192.0.2.1")
    assert nc.requests[0]["query"]["password"] == "<redacted>"
    assert PASSWORD not in repr(nc.requests)
