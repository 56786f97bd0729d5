"""Conformance of the Alibaba Cloud DNS emulator with a client nobody here wrote: NewFuture's `ddns`
(PyPI), whose `alidns` provider signs with ACS3-HMAC-SHA256 and sends form bodies, updates records
through the emulator over HTTPS; fleetdns's alidns provider then reads what it wrote, and the other
way round. A signature the real client makes that the emulator refused would fail these tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import ZoneDesired, make_zone_plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.alidns import AliDnsProvider
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet
from emulators.alidns import AliDnsEmulator

from integration.ddns_runner import run_ddns

ZONE = "example.test."


@pytest.fixture
def ali(tmp_path: Path) -> Iterator[AliDnsEmulator]:
    with AliDnsEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.add_domain("example.test")
        yield emulator


def provider(ali: AliDnsEmulator) -> AliDnsProvider:
    options = {k: spec.default for k, spec in AliDnsProvider.OPTIONS.items()}
    options.update(access_key_id=ali.key_id, access_key_secret=ali.key_secret, endpoint=ali.https_url,
                   ca_bundle=ali.ca_file)  # fmt: skip
    return AliDnsProvider("ali", options)


def test_ddns_creates_a_record_that_fleetdns_reads(ali, tmp_path):
    result = run_ddns(tmp_path, "alidns", ali.https_url, ali.ca_file, ali.key_id, ali.key_secret,
                      ipv4=("gw.example.test", "192.0.2.7"), ipv6=("gw.example.test", "2001:db8::7"))  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert ali.key_secret not in output
    refused = [r for r in ali.requests if r["status"] != 200]
    assert refused == [] and ali.counts["AddDomainRecord"] == 2  # every signature it made was accepted
    assert {r["method"] for r in ali.requests} == {"POST"}
    with provider(ali) as p:
        state = p.read(ZONE, set())
    assert state.records[(f"gw.{ZONE}", "A")].values == {"192.0.2.7"}
    assert state.records[(f"gw.{ZONE}", "AAAA")].values == {"2001:db8::7"}
    assert state.owners == {}  # written by another client: not fleetdns's


def test_ddns_updates_a_record_fleetdns_made_in_place_and_fleetdns_sees_it(ali, tmp_path):
    key = (f"home.{ZONE}", "A")
    want = ZoneDesired(ZONE, {key: RecordSet(key[0], "A", 600, frozenset({"192.0.2.1"}))})
    with provider(ali) as p:
        p.apply(ZONE, make_zone_plan(want, p.read(ZONE, set()), "fleet-main", "ali").changes, "fleet-main")
    (made,) = ali.records("example.test")
    result = run_ddns(tmp_path, "alidns", ali.https_url, ali.ca_file, ali.key_id, ali.key_secret,
                      ipv4=("home.example.test", "192.0.2.8"))  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    (updated,) = ali.records("example.test")
    assert (updated["RecordId"], updated["Value"], updated["Remark"]) == (made["RecordId"], "192.0.2.8", made["Remark"])
    assert ali.counts["UpdateDomainRecord"] == 1
    with provider(ali) as p:
        state = p.read(ZONE, set())
        assert state.records[key].values == {"192.0.2.8"} and state.owners[key] == "fleet-main"
        plan = make_zone_plan(want, state, "fleet-main", "ali")
        assert [c.action for c in plan.changes] == ["update"]  # fleetdns would put its value back
    # The same address again: the client sees it is there and changes nothing.
    again = run_ddns(tmp_path, "alidns", ali.https_url, ali.ca_file, ali.key_id, ali.key_secret,
                     ipv4=("home.example.test", "192.0.2.8"))  # fmt: skip
    assert again.returncode == 0 and ali.counts["UpdateDomainRecord"] == 1


def test_ddns_with_a_wrong_secret_is_refused(ali, tmp_path):
    result = run_ddns(tmp_path, "alidns", ali.https_url, ali.ca_file, ali.key_id, "wrong-secret-0123456789",
                      ipv4=("gw.example.test", "192.0.2.7"))  # fmt: skip
    assert "SignatureDoesNotMatch" in result.stdout + result.stderr
    assert ali.records("example.test") == []


def test_our_acs3_signer_agrees_with_the_ddns_clients_for_a_form_body():
    """Two signers written apart (fleetdns's and the `ddns` client's) give the same Authorization."""
    from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.signing import Credentials, acs3_sign
    from ddns.provider._signature import hmac_sha256_authorization, sha256_hash

    body = "DomainName=example.test&RR=www&Type=A&Value=192.0.2.1"
    headers = {
        "host": "alidns.aliyuncs.com",
        "content-type": "application/x-www-form-urlencoded",
        "x-acs-action": "AddDomainRecord",
        "x-acs-content-sha256": sha256_hash(body),
        "x-acs-date": "2026-01-02T03:04:05Z",
        "x-acs-signature-nonce": "0123456789abcdef",
        "x-acs-version": "2015-01-09",
    }
    theirs = hmac_sha256_authorization(
        secret_key="s3cret", method="POST", path="/", query="", headers=headers,
        body_hash=headers["x-acs-content-sha256"],
        signing_string_format="ACS3-HMAC-SHA256\n{HashedCanonicalRequest}",
        authorization_format="ACS3-HMAC-SHA256 Credential=LTAIkey,SignedHeaders={SignedHeaders},Signature={Signature}",
    )  # fmt: skip
    ours = acs3_sign(Credentials("LTAIkey", "s3cret"), method="POST", host="alidns.aliyuncs.com",
                     action="AddDomainRecord", version="2015-01-09", body=body.encode(),
                     content_type="application/x-www-form-urlencoded", date="2026-01-02T03:04:05Z",
                     nonce="0123456789abcdef")  # fmt: skip
    assert ours.headers["Authorization"] == theirs
