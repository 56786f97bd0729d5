"""Conformance of the Namecheap emulator with Debian's ddclient 3.10 (`protocol=namecheap`, https only,
`login=` the domain, `password=` its Dynamic DNS password, the host given in full; ddclient strips the
domain to get `host=` and counts an answer as success when a line holds `<ErrCount>0`).

The PyPI `ddns` client 4.2.0 has no Namecheap provider, so ddclient is the one independent client here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emulators.namecheap import NamecheapEmulator

from integration.ddclient_runner import run_ddclient, tls_options

DOMAIN = "example.test"
PASSWORD = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"  # the per-domain Dynamic DNS password, 32 hex digits


@pytest.fixture
def namecheap(tmp_path: Path) -> Iterator[NamecheapEmulator]:
    with NamecheapEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.add_domain(DOMAIN, PASSWORD, hosts=["@", "home"])
        yield emulator


def ddclient(nc: NamecheapEmulator, tmp_path: Path, ip: str, password: str = PASSWORD, host: str = "home"):
    options = {**tls_options(nc.ca_file), "use": "ip", "ip": ip, "protocol": "namecheap", "server": nc.https_server}
    return run_ddclient(tmp_path, {**options, "login": DOMAIN, "password": password}, [f"{host}.{DOMAIN}"])


def test_ddclient_sets_the_address(namecheap, tmp_path):
    result = ddclient(namecheap, tmp_path, "192.0.2.4")
    assert f"SUCCESS:  updating home.{DOMAIN}: good: IP address set to 192.0.2.4" in result.stdout + result.stderr
    assert namecheap.address("home", DOMAIN) == "192.0.2.4"
    assert namecheap.address("@", DOMAIN) is None
    (request,) = namecheap.requests
    assert request["query"] == {"host": "home", "domain": DOMAIN, "password": "<redacted>", "ip": "192.0.2.4"}
    assert "<ErrCount>0</ErrCount>" in request["answer"] and "<IP>192.0.2.4</IP>" in request["answer"]


def test_ddclient_wrong_password_is_reported_with_the_xml_error(namecheap, tmp_path):
    result = ddclient(namecheap, tmp_path, "192.0.2.4", password="ffffffffffffffffffffffffffffffff")
    output = result.stdout + result.stderr
    assert f"FAILED:   updating home.{DOMAIN}: Invalid reply." in output
    assert "<Err1>Passwords do not match</Err1>" in output
    assert namecheap.requests[-1]["status"] == 200  # Namecheap answers errors with 200
    assert namecheap.address("home", DOMAIN) is None
    assert PASSWORD not in output


def test_ddclient_host_without_a_record_is_refused(namecheap, tmp_path):
    result = ddclient(namecheap, tmp_path, "192.0.2.4", host="nothere")
    output = result.stdout + result.stderr
    assert "Invalid reply." in output
    assert "<Err1>No Records updated. A record not Found;</Err1>" in output
