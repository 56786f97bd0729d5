"""Conformance of the DuckDNS emulator with Debian's ddclient 3.10 (`protocol=duckdns`, https only, the
`server=` host:port of the emulator, trusting the test CA). ddclient sends `domains=<host>&token=&ip=`
and takes the last answer line containing `OK` as success.

The PyPI `ddns` client 4.2.0 has no DuckDNS provider (its only one of the four services here is No-IP),
so ddclient is the one independent client for this emulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emulators.duckdns import DuckDnsEmulator

from integration.ddclient_runner import run_ddclient, tls_options

TOKEN = "a7c4d0ad-114e-40ef-ba1d-d217904a50f2"  # DuckDNS tokens are UUIDs


@pytest.fixture
def duck(tmp_path: Path) -> Iterator[DuckDnsEmulator]:
    with DuckDnsEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.add_account(TOKEN, ["myhome", "mycabin"])
        yield emulator


def ddclient(duck: DuckDnsEmulator, tmp_path: Path, ip: str, token: str = TOKEN, host: str = "myhome"):
    options = {**tls_options(duck.ca_file), "use": "ip", "ip": ip, "protocol": "duckdns", "server": duck.https_server}
    return run_ddclient(tmp_path, {**options, "password": token}, [host])


def test_ddclient_sets_the_address(duck, tmp_path):
    result = ddclient(duck, tmp_path, "192.0.2.4")
    assert "SUCCESS:  updating myhome: good: IP address set to 192.0.2.4" in result.stdout + result.stderr
    assert duck.state("myhome").ipv4 == "192.0.2.4"
    assert duck.state("mycabin").ipv4 is None
    (request,) = duck.requests
    assert request["query"] == {"domains": "myhome", "token": "<redacted>", "ip": "192.0.2.4"}
    assert (request["status"], request["answer"]) == (200, "OK")


def test_ddclient_with_the_full_duckdns_name(duck, tmp_path):
    result = ddclient(duck, tmp_path, "192.0.2.5", host="mycabin.duckdns.org")
    assert "SUCCESS" in result.stdout + result.stderr
    assert duck.state("mycabin").ipv4 == "192.0.2.5"


def test_ddclient_ipv6_in_ip_sets_the_aaaa(duck, tmp_path):
    result = ddclient(duck, tmp_path, "2001:db8::5")
    assert "SUCCESS" in result.stdout + result.stderr
    assert (duck.state("myhome").ipv4, duck.state("myhome").ipv6) == (None, "2001:db8::5")


def test_ddclient_wrong_token_gets_ko_and_nothing_changes(duck, tmp_path):
    result = ddclient(duck, tmp_path, "192.0.2.4", token="00000000-0000-0000-0000-000000000000")
    assert "FAILED:   updating myhome: Server said: 'KO'" in result.stdout + result.stderr
    assert duck.state("myhome").ipv4 is None
    assert TOKEN not in result.stdout + result.stderr


def test_ddclient_domain_of_another_account_gets_ko(duck, tmp_path):
    duck.add_account("11111111-2222-3333-4444-555555555555", ["theirs"])
    result = ddclient(duck, tmp_path, "192.0.2.4", host="theirs")
    assert "Server said: 'KO'" in result.stdout + result.stderr
    assert duck.state("theirs").ipv4 is None
