"""Conformance of the FreeDNS emulator with Debian's ddclient 3.10 (`protocol=freedns`, https only).

ddclient lists the account's hosts with `GET /api/?action=getdyndns&v=2&sha=<sha1(login|password)>`,
compares each host's listed address with the one it wants and, only when they differ, calls the listed
update URL with `&address=<ip>`; success is an answer matching `Updated.*<host>.*to.*<ip>`. So the
emulator's listing must hand out its own update URLs, and this proves listing and v1 update together.

No client here speaks the v2 `/u/<token>/` URL (ddclient uses the listing; the PyPI `ddns` 4.2.0 has no
FreeDNS provider): the v2 interface is proven by the emulator's unit tests only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emulators.freedns import FreeDnsEmulator

from integration.ddclient_runner import run_ddclient, tls_options

LOGIN, PASSWORD = "fleetowner", "afraid-password"
HOME = "home.example.test"


@pytest.fixture
def afraid(tmp_path: Path) -> Iterator[FreeDnsEmulator]:
    with FreeDnsEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.add_host(LOGIN, PASSWORD, HOME, "192.0.2.1")
        emulator.add_host(LOGIN, PASSWORD, "v6.example.test", "2001:db8::1")
        yield emulator


def ddclient(afraid: FreeDnsEmulator, tmp_path: Path, ip: str, password: str = PASSWORD, host: str = HOME):
    options = {
        **tls_options(afraid.ca_file),
        "use": "ip",
        "ip": ip,
        "protocol": "freedns",
        "server": afraid.https_server,
    }
    return run_ddclient(tmp_path, {**options, "login": LOGIN, "password": password}, [host])


def test_ddclient_lists_then_updates_through_the_listed_url(afraid, tmp_path):
    result = ddclient(afraid, tmp_path, "192.0.2.4")
    assert f"SUCCESS:  updating {HOME}: good: IPv4 address set to 192.0.2.4" in result.stdout + result.stderr
    assert afraid.address(HOME) == "192.0.2.4"
    listing, update = afraid.requests
    assert (listing["path"], listing["query"]) == ("/api/", {"action": "getdyndns", "v": "2", "sha": "<redacted>"})
    assert (update["path"], update["query"]) == ("/dynamic/update.php", {"address": "192.0.2.4", "key": "<redacted>"})
    assert update["answer"] == f"Updated {HOME} from 192.0.2.1 to 192.0.2.4"
    assert afraid.counts == {"listing": 1, "update.v1": 1, "total": 2}


def test_ddclient_sends_no_update_when_the_listing_shows_the_address(afraid, tmp_path):
    result = ddclient(afraid, tmp_path, "192.0.2.1")
    assert "update not necessary, 'A' record already set to 192.0.2.1" in result.stdout + result.stderr
    assert [r["endpoint"] for r in afraid.requests] == ["listing"]


def test_ddclient_ipv6_record(afraid, tmp_path):
    result = ddclient(afraid, tmp_path, "2001:db8::4", host="v6.example.test")
    assert "SUCCESS:  updating v6.example.test: good: IPv6 address set to 2001:db8::4" in result.stdout + result.stderr
    assert afraid.address("v6.example.test") == "2001:db8::4"


def test_ddclient_wrong_password_fails_at_the_listing(afraid, tmp_path):
    result = ddclient(afraid, tmp_path, "192.0.2.4", password="wrong")
    output = result.stdout + result.stderr
    assert f"FAILED:   updating {HOME}: failed to get record list from" in output
    assert "ERROR: Could not authenticate." in output
    assert [r["endpoint"] for r in afraid.requests] == ["listing"]
    assert afraid.address(HOME) == "192.0.2.1"
    assert PASSWORD not in output


def test_ddclient_host_not_in_the_listing(afraid, tmp_path):
    result = ddclient(afraid, tmp_path, "192.0.2.4", host="other.example.test")
    assert "No 'A' record at FreeDNS" in result.stdout + result.stderr
