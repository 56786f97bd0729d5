"""Conformance of the dyndns2 emulator with two clients nobody here wrote.

- Debian's ddclient 3.10: `protocol=noip` (hard-codes https and `/nic/update`, sends `system=noip`)
  over TLS with the test CA, and `protocol=dyndns2` over plain HTTP with `server=`/`script=` (Dyn's port
  80 form, and its `/v3/update` path) — several hosts in one request, one answer line each.
- NewFuture's `ddns` 4.2.0 (`--dns noip --endpoint <base>`): sends no credentials until challenged
  (urllib's Basic handler), so the emulator's 401 + `WWW-Authenticate` is what makes it work, then
  one request per address family.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emulators.dyndns2 import Dyndns2Emulator

from integration.ddclient_runner import run_ddclient, tls_options
from integration.ddns_runner import run_ddns

USER = "owner@example.test"  # No-IP's usernames are e-mail addresses
PASSWORD = "s3cret-ddns-key"
HOME = "home.example.test"
SHED = "shed.example.test"


@pytest.fixture
def noip(tmp_path: Path) -> Iterator[Dyndns2Emulator]:
    with Dyndns2Emulator(tls_dir=tmp_path / "tls", flavour="noip") as emulator:
        emulator.add_account(USER, PASSWORD, hosts=[HOME, SHED])
        yield emulator


@pytest.fixture
def dyn(tmp_path: Path) -> Iterator[Dyndns2Emulator]:
    with Dyndns2Emulator(flavour="dyn") as emulator:
        emulator.add_account("dynuser", PASSWORD, hosts=[HOME, SHED])
        yield emulator


def noip_ddclient(noip: Dyndns2Emulator, tmp_path: Path, ip: str, password: str = PASSWORD, hosts=(HOME,)):
    options = {**tls_options(noip.ca_file), "use": "ip", "ip": ip, "protocol": "noip", "server": noip.https_server}
    return run_ddclient(tmp_path, {**options, "login": USER, "password": password}, list(hosts))


def dyn_ddclient(dyn: Dyndns2Emulator, tmp_path: Path, ip: str, hosts=(HOME,), script: str = "/nic/update"):
    options = {"ssl": "no", "use": "ip", "ip": ip, "protocol": "dyndns2", "server": dyn.http_server, "script": script}
    return run_ddclient(tmp_path, {**options, "login": "dynuser", "password": PASSWORD}, list(hosts))


# ---- ddclient, protocol=noip, HTTPS -----------------------------------------------------------------------
def test_ddclient_noip_sets_the_address(noip, tmp_path):
    result = noip_ddclient(noip, tmp_path, "192.0.2.4")
    assert f"SUCCESS:  updating {HOME}: good: IP address set to 192.0.2.4" in result.stdout + result.stderr
    assert noip.address(HOME) == ("192.0.2.4", None)
    assert noip.address(SHED) == (None, None)
    (request,) = noip.requests
    assert (request["scheme"], request["path"], request["status"], request["answer"]) == (
        "https", "/nic/update", 200, "good 192.0.2.4"
    )  # fmt: skip
    assert request["query"] == {"system": "noip", "hostname": HOME, "myip": "192.0.2.4"}
    assert (request["user_agent"], request["user"]) == ("ddclient/3.10.0", USER)


def test_ddclient_noip_unchanged_address_is_nochg_which_ddclient_warns_about(noip, tmp_path):
    noip.set_address(HOME, "192.0.2.4")
    result = noip_ddclient(noip, tmp_path, "192.0.2.4")
    output = result.stdout + result.stderr
    assert f"WARNING:  updating {HOME}: nochg: No update required" in output
    assert noip.requests[-1]["answer"] == "nochg 192.0.2.4"


def test_ddclient_noip_ipv6_address(noip, tmp_path):
    result = noip_ddclient(noip, tmp_path, "2001:db8::4")
    assert "SUCCESS" in result.stdout + result.stderr, result.stdout + result.stderr
    assert noip.address(HOME) == (None, "2001:db8::4")
    assert noip.requests[-1]["answer"] == "good 2001:db8::4"


def test_ddclient_noip_wrong_password_gets_badauth_and_nothing_changes(noip, tmp_path):
    result = noip_ddclient(noip, tmp_path, "192.0.2.4", password="wrong")
    assert f"FAILED:   updating {HOME}: badauth: Invalid username or password" in result.stdout + result.stderr
    assert noip.address(HOME) == (None, None)
    assert [r["answer"] for r in noip.requests] == ["badauth"]


def test_ddclient_noip_host_of_nobody_gets_nohost(noip, tmp_path):
    result = noip_ddclient(noip, tmp_path, "192.0.2.4", hosts=("elsewhere.example.test",))
    assert "nohost: The hostname specified does not exist" in result.stdout + result.stderr


def test_ddclient_noip_reports_an_injected_abuse_block_and_911(noip, tmp_path):
    noip.inject(kind="body", body="abuse")
    result = noip_ddclient(noip, tmp_path, "192.0.2.4")
    assert (
        f"FAILED:   updating {HOME}: abuse: The hostname specified is blocked for abuse"
        in result.stdout + result.stderr
    )
    noip.inject(kind="body", body="911")
    result = noip_ddclient(noip, tmp_path, "192.0.2.4")
    assert f"updating {HOME}: unexpected status (911)" in result.stdout + result.stderr
    assert noip.address(HOME) == (None, None)


def test_ddclient_noip_5xx_is_a_failed_update(noip, tmp_path):
    noip.inject(kind="status", status=502)
    result = noip_ddclient(noip, tmp_path, "192.0.2.4")
    # ddclient 3.10 names only a 401 (header_ok); a 5xx just yields no SUCCESS line
    assert "SUCCESS" not in result.stdout + result.stderr
    assert [r["status"] for r in noip.requests] == [502]
    assert noip.address(HOME) == (None, None)


# ---- ddclient, protocol=dyndns2, plain HTTP -------------------------------------------------------------
def test_ddclient_dyndns2_updates_two_hosts_in_one_request_over_http(dyn, tmp_path):
    result = dyn_ddclient(dyn, tmp_path, "192.0.2.7", hosts=(HOME, SHED))
    output = result.stdout + result.stderr
    assert f"SUCCESS:  updating {HOME}: good: IP address set to 192.0.2.7" in output
    assert f"SUCCESS:  updating {SHED}: good: IP address set to 192.0.2.7" in output
    (request,) = dyn.requests
    assert request["scheme"] == "http"
    assert request["query"]["hostname"] == f"{HOME},{SHED}"
    assert request["query"]["system"] == "dyndns"
    assert request["answer"] == "good 192.0.2.7\ngood 192.0.2.7"
    assert dyn.address(HOME) == dyn.address(SHED) == ("192.0.2.7", None)


def test_ddclient_dyndns2_on_the_v3_path(dyn, tmp_path):
    result = dyn_ddclient(dyn, tmp_path, "192.0.2.8", script="/v3/update")
    assert "SUCCESS" in result.stdout + result.stderr
    assert dyn.requests[-1]["path"] == "/v3/update"
    assert dyn.address(HOME) == ("192.0.2.8", None)


def test_ddclient_dyndns2_wrong_path_fails(dyn, tmp_path):
    result = dyn_ddclient(dyn, tmp_path, "192.0.2.8", script="/update")
    assert "SUCCESS" not in result.stdout + result.stderr
    assert dyn.requests[-1]["status"] == 404
    assert dyn.address(HOME) == (None, None)


def test_ddclient_dyndns2_a_host_of_another_account_is_not_yours(dyn, tmp_path):
    dyn.add_account("other", "pw", hosts=["theirs.example.test"])
    result = dyn_ddclient(dyn, tmp_path, "192.0.2.8", hosts=(HOME, "theirs.example.test"))
    output = result.stdout + result.stderr
    assert f"SUCCESS:  updating {HOME}: good" in output
    assert "updating theirs.example.test: !yours: The hostname specified exists, but not under the username" in output
    assert dyn.requests[-1]["answer"] == "good 192.0.2.8\n!yours"


# ---- ddns (NewFuture), --dns noip, HTTPS ----------------------------------------------------------------
def test_ddns_client_sets_ipv4_and_ipv6_through_the_challenge(noip, tmp_path):
    result = run_ddns(tmp_path, "noip", noip.https_url, noip.ca_file, USER, PASSWORD,
                      ipv4=(HOME, "192.0.2.9"), ipv6=(HOME, "2001:db8::9"))  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "No-IP API response: good 192.0.2.9" in output
    assert "No-IP API response: good 2001:db8::9" in output
    assert noip.address(HOME) == ("192.0.2.9", "2001:db8::9")
    # each update: first without credentials (401 + WWW-Authenticate), then with them
    assert [(r["status"], r["query"]["myip"]) for r in noip.requests] == [
        (401, "192.0.2.9"), (200, "192.0.2.9"), (401, "2001:db8::9"), (200, "2001:db8::9"),
    ]  # fmt: skip
    assert {r["user_agent"] for r in noip.requests} == {"DDNS/4.2.0 (ddns@newfuture.cc)"}
    assert PASSWORD not in output


def test_ddns_client_reports_badauth(noip, tmp_path):
    result = run_ddns(tmp_path, "noip", noip.https_url, noip.ca_file, USER, "wrong", ipv4=(HOME, "192.0.2.9"))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Invalid No-IP username/password combination" in output
    assert noip.address(HOME) == (None, None)


def test_ddns_client_reports_nohost(noip, tmp_path):
    result = run_ddns(tmp_path, "noip", noip.https_url, noip.ca_file, USER, PASSWORD,
                      ipv4=("unknown.example.test", "192.0.2.9"))  # fmt: skip
    assert result.returncode != 0
    assert "Hostname unknown.example.test does not exist under No-IP account" in result.stdout + result.stderr


def test_ddns_client_does_not_trust_the_emulator_without_the_test_ca(noip, tmp_path):
    """The TLS in these tests is real: the client refuses a certificate it cannot verify."""
    result = run_ddns(tmp_path, "noip", noip.https_url, "/etc/ssl/certs/ca-certificates.crt", USER, PASSWORD,
                      ipv4=(HOME, "192.0.2.9"))  # fmt: skip
    assert result.returncode != 0
    assert noip.address(HOME) == (None, None)


def test_ddns_client_repeating_an_unchanged_address_gets_the_host_blocked(tmp_path):
    """The rule No-IP and Dyn state: excessive nochg gets a client blocked (`abuse`), which ddns reports."""
    with Dyndns2Emulator(tls_dir=tmp_path / "tls", flavour="noip", nochg_limit=1) as noip:
        noip.add_account(USER, PASSWORD, hosts=[HOME])
        outputs = []
        for _unused in range(3):
            result = run_ddns(tmp_path, "noip", noip.https_url, noip.ca_file, USER, PASSWORD, ipv4=(HOME, "192.0.2.9"))
            outputs.append((result.returncode, result.stdout + result.stderr))
        answers = [r["answer"] for r in noip.requests if r["status"] == 200]
    assert answers == ["good 192.0.2.9", "nochg 192.0.2.9", "abuse"]
    assert [code for code, _output in outputs] == [0, 0, 1]
    assert "No-IP account blocked due to abuse" in outputs[2][1]
