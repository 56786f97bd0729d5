"""Conformance with an independent client: NewFuture's `ddns` (its `tencentcloud` provider speaks DNSPod
API 3.0 and signs with TC3 itself; its `dnspod` provider is the older dnsapi.cn API, which the emulator
does not serve) updates and creates records on the emulator, every signature checked, and fleetdns then
reads what it wrote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import ZoneDesired, make_zone_plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.dnspod import DnspodProvider
from ansible_collections.fleetdns.ddns.plugins.module_utils.rdata import normalize_values
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet
from emulators.dnspod import DnspodEmulator

from integration.ddns_runner import run_ddns

ZONE = "example.test."


@pytest.fixture
def api(tmp_path: Path) -> Iterator[DnspodEmulator]:
    with DnspodEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.domain = emulator.add_domain("example.test")
        yield emulator


def provider(api: DnspodEmulator) -> DnspodProvider:
    opts = {k: spec.default for k, spec in DnspodProvider.OPTIONS.items()}
    opts.update(secret_id=api.secret_id, secret_key=api.secret_key, endpoint=api.https_url, ca_bundle=api.ca_file)
    return DnspodProvider("dp", opts)


# ddns looks the domain up label by label and the record up before creating it: those two misses are
# the API's normal answers, every other error is a failure.
EXPECTED = {"error:InvalidParameterValue.DomainNotExists", "error:ResourceNotFound.NoDataOfRecord"}


def errors(api: DnspodEmulator) -> list[str]:
    return [k for k in api.counts if k.startswith("error:") and k not in EXPECTED]


def test_ddns_updates_what_fleetdns_wrote_and_fleetdns_reads_what_ddns_wrote(api, tmp_path):
    www = RecordSet(f"www.{ZONE}", "A", 600, normalize_values("A", "192.0.2.1", ZONE))
    with provider(api) as p:
        plan = make_zone_plan(ZoneDesired(ZONE, {www.key: www}, set()), p.read(ZONE, set()), "fleet-main", "dp")
        p.apply(ZONE, plan.changes, "fleet-main")
    (before,) = [r for r in api.records("example.test") if r["Name"] == "www"]
    api.reset_counts()

    result = run_ddns(tmp_path, "tencentcloud", api.https_url, api.ca_file, api.secret_id, api.secret_key,
                      ipv4=("www.example.test", "192.0.2.99"), ipv6=("v6.example.test", "2001:db8::99"))  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert errors(api) == [], (api.requests, result.stderr)
    assert api.counts["ModifyRecord"] == 1 and api.counts["CreateRecord"] == 1, api.counts
    assert api.secret_key not in result.stdout + result.stderr

    (after,) = [r for r in api.records("example.test") if r["Name"] == "www"]
    assert after["RecordId"] == before["RecordId"] and after["Value"] == "192.0.2.99"
    with provider(api) as p:
        state = p.read(ZONE, set())
    assert state.records[(f"www.{ZONE}", "A")].values == {"192.0.2.99"}
    assert state.records[(f"v6.{ZONE}", "AAAA")].values == {"2001:db8::99"}
    # ddns writes its own remark over the record's: fleetdns's ownership word goes with it.
    assert after["Remark"] == "Managed by [DDNS](https://ddns.newfuture.cc)"
    assert (f"www.{ZONE}", "A") not in state.owners and (f"v6.{ZONE}", "AAAA") not in state.owners


def test_the_emulator_refuses_ddns_with_a_wrong_key(api, tmp_path):
    result = run_ddns(tmp_path, "tencentcloud", api.https_url, api.ca_file, api.secret_id, "Wrong" + api.secret_key[5:],
                      ipv4=("www.example.test", "192.0.2.99"))  # fmt: skip
    assert "AuthFailure.SignatureFailure" in result.stdout + result.stderr
    assert api.records("example.test") == []
