"""Zone files written by the zonefile provider load in BIND: `named-checkzone` accepts them, and the
records BIND loads (its -D dump) are exactly the record sets and owners fleetdns reads back."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ChangedSinceReadError, ProviderError
from ansible_collections.fleetdns.ddns.plugins.module_utils.names import normalize_name
from ansible_collections.fleetdns.ddns.plugins.module_utils.ownership import ZoneState, split_markers
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import Change, ZoneDesired, ZonePlan, make_zone_plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.zonefile import find_checkzone
from ansible_collections.fleetdns.ddns.plugins.module_utils.rdata import MANAGED_TYPES
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.providers.zonefile_helpers import (
    HEX64,
    ME,
    ZONE,
    converge,
    dnspython_view,
    provider,
    rs,
)

INSTALL_HINT = "install BIND with `make test` (or `make system-packages`: apt packages bind9, bind9-dnsutils)"


@pytest.fixture
def checkzone():
    """Run named-checkzone strictly (check-names, MX/SRV to CNAME, in-zone integrity) and return
    BIND's loaded view of the zone: the serial and the record sets (SOA left out)."""
    binary = find_checkzone()
    if binary is None:
        pytest.fail(f"named-checkzone not found: {INSTALL_HINT}", pytrace=False)

    def run(path: Path, parse=None) -> tuple[int, dict[tuple[str, str], RecordSet]]:
        dump = path.parent / "bind-dump.txt"
        result = subprocess.run(
            [binary, "-i", "local", "-k", "fail", "-M", "fail", "-S", "fail", "-D", "-o", str(dump), ZONE, str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"named-checkzone rejected {path}:\n{output}"
        noise = [line for line in output.splitlines() if "warning" in line.lower() or "ignoring" in line.lower()]
        assert not noise, output
        serial = int(re.search(r"loaded serial (\d+)", output).group(1))
        try:
            return serial, parse(dump) if parse else dnspython_view(dump.read_text())
        finally:
            dump.unlink()

    return run


def assert_same(bind_view: dict, ours: ZoneState) -> None:
    """BIND loaded exactly what fleetdns reads back: same record sets, same owners."""
    theirs = split_markers(ZONE, bind_view)
    assert theirs.records == ours.records
    assert theirs.owners == ours.owners


def every_type_zone() -> list[RecordSet]:
    return [
        rs("@", "NS", ["ns1", "ns2.example.net."], ttl=3600),
        rs("@", "MX", ["10 mail", "20 mx.example.net."]),
        rs("@", "TXT", ["v=spf1 mx -all"]),
        rs("@", "CAA", ['0 issue "letsencrypt.org"', '0 iodef "mailto:security@example.test"']),
        rs("@", "HTTPS", ['1 . alpn="h2,h3"']),
        rs("ns1", "A", ["192.0.2.53"]),
        rs("ns1", "AAAA", ["2001:db8::53"]),
        rs("mail", "A", ["192.0.2.25"]),
        rs("sip", "A", ["192.0.2.60"]),
        rs("host", "A", ["192.0.2.10", "192.0.2.11"]),
        rs("host", "AAAA", ["2001:DB8:0:0:0:0:0:10"]),
        rs("host", "SSHFP", [f"4 2 {HEX64}", f"1 2 {HEX64}"]),
        rs("host", "LOC", ["52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m"]),
        rs("www", "CNAME", ["host"]),
        rs("old", "DNAME", ["new.example.net."]),
        rs("_sip._tcp", "SRV", ["10 5 5060 sip", "20 5 5060 sip.example.net."]),
        rs("_sip._udp", "NAPTR", ['100 10 "S" "SIP+D2U" "" _sip._tcp']),
        rs("_443._tcp.host", "TLSA", [f"3 1 1 {HEX64}"]),
        rs("_8443._https.host", "SVCB", ["1 host port=8443"]),
        rs("10.2.0", "PTR", ["host"]),
        # TXT: quotes, backslashes, UTF-8, an empty string and values longer than 255 bytes
        rs("txt", "TXT", ['say "hi"', "back\\slash", "grüße 😀", "", "x" * 600, "é" * 200]),
        # wildcards, and their markers a.wildcard-.dev._fleetdns / txt.wildcard-._fleetdns
        rs("*.dev", "A", ["192.0.2.80"]),
        rs("*", "TXT", ["catch-all"]),
        # a delegation with glue and a DS at the cut
        rs("sub", "NS", ["ns1.sub", "ns2.sub"], ttl=86400),
        rs("sub", "DS", [f"12345 13 2 {HEX64}"], ttl=86400),
        rs("ns1.sub", "A", ["192.0.2.153"]),
        rs("ns2.sub", "AAAA", ["2001:db8::153"]),
        rs("elsewhere", "NS", ["ns1.example.net."]),
    ]


def test_every_type_passes_named_checkzone_and_bind_loads_what_we_read(tmp_path: Path, checkzone) -> None:
    records = every_type_zone()
    assert {r.type for r in records} == set(MANAGED_TYPES)
    prov = provider(tmp_path)
    devices = {(normalize_name("sensor-01", ZONE), "A"), (normalize_name("sensor-01", ZONE), "AAAA")}
    assert len(converge(prov, records, devices).changes) == len(records) + 2
    path = Path(prov.path_for(ZONE))
    serial, view = checkzone(path)
    state = prov.read(ZONE, set())
    assert_same(view, state)
    assert {k: state.records[k] for k in (r.key for r in records)} == {r.key: r for r in records}
    assert len(state.owners) == len(records) + 2
    text = path.read_text()
    assert "a.wildcard-.dev._fleetdns\t" in text and "txt.wildcard-._fleetdns\t" in text

    # change some, delete some: still valid, serial one up, nothing else disturbed
    changed = [r for r in records if r.name != normalize_name("old", ZONE)]
    changed = [rs("host", "A", ["192.0.2.12"]) if r.key == (f"host.{ZONE}", "A") else r for r in changed]
    assert len(converge(prov, changed, devices).changes) == 2
    serial2, view2 = checkzone(path)
    assert serial2 == serial + 1
    assert_same(view2, prov.read(ZONE, set()))


def test_hand_written_zone_stays_valid_after_an_apply(tmp_path: Path, checkzone) -> None:
    path = tmp_path / "zones" / "example.test.zone"
    path.parent.mkdir()
    path.write_text(
        "; kept by hand\n$TTL 1h\n@ IN SOA ns1 hostmaster ( 2024010101 ; serial\n 1h 15m 2w 5m )\n"
        '  NS ns1\nns1 A 192.0.2.53\nlegacy 600 IN TXT "keep; me" "as (I) am"\n'
        "$ORIGIN lab.example.test.\nprinter A 192.0.2.70\n"
    )
    before_serial, before = checkzone(path)
    prov = provider(tmp_path)
    converge(prov, [rs("gw", "A", ["198.51.100.7"])])
    serial, view = checkzone(path)
    assert serial > before_serial
    mine = {(f"gw.{ZONE}", "A"), (f"a.gw._fleetdns.{ZONE}", "TXT")}
    assert {k: v for k, v in view.items() if k not in mine} == before


# ---- ownership: zone — the zone file holds exactly the inventory, without markers --------------------------


def plan_whole(prov, records: list[RecordSet], registered: set | None = None) -> ZonePlan:
    desired = ZoneDesired(ZONE, {r.key: r for r in records}, set(registered or ()))
    return make_zone_plan(desired, prov.read(ZONE, set()), ME, "files", ownership="zone")


def converge_whole(prov, records: list[RecordSet], registered: set | None = None) -> ZonePlan:
    """`fleetdns apply` on a zone with `ownership: zone`: the engine passes no owner id."""
    plan = plan_whole(prov, records, registered)
    prov.apply(ZONE, plan.changes, None)
    return plan


def test_zone_owned_whole_writes_no_markers_and_loads_in_bind(tmp_path: Path, checkzone) -> None:
    records = every_type_zone()
    prov = provider(tmp_path)
    assert len(converge_whole(prov, records).changes) == len(records)
    path = Path(prov.path_for(ZONE))
    serial, view = checkzone(path)
    assert "_fleetdns" not in path.read_text()
    assert view == {r.key: r for r in records}  # the declared apex NS replaces the provider's default
    assert converge_whole(prov, records).changes == []

    fewer = [r for r in records if r.name != normalize_name("old", ZONE) and r.type != "TLSA"]
    plan = converge_whole(prov, fewer)
    assert sorted((c.action, c.type) for c in plan.changes) == [("delete", "DNAME"), ("delete", "TLSA")]
    serial2, view2 = checkzone(path)
    assert serial2 == serial + 1 and view2 == {r.key: r for r in fewer}
    assert "_fleetdns" not in path.read_text()


def test_zone_owned_whole_deletes_what_a_hand_written_file_adds(tmp_path: Path, checkzone) -> None:
    path = tmp_path / "zones" / "example.test.zone"
    path.parent.mkdir()
    path.write_text(
        "$TTL 1h\n@ IN SOA ns1 hostmaster ( 2024010101 1h 15m 2w 5m )\n"
        '  NS ns1\nns1 A 192.0.2.53\nlegacy 600 IN TXT "remove me"\nsensor-01 300 A 198.51.100.9\n'
        "$ORIGIN lab.example.test.\nprinter A 192.0.2.70\n"
    )
    before_serial, before = checkzone(path)
    prov = provider(tmp_path)
    devices = {(normalize_name("sensor-01", ZONE), "A"), (normalize_name("sensor-01", ZONE), "AAAA")}
    listed = [rs("ns1", "A", ["192.0.2.53"], ttl=3600), rs("gw", "A", ["198.51.100.7"])]
    plan = converge_whole(prov, listed, devices)
    assert sorted((c.action, c.name, c.type) for c in plan.changes) == [
        ("create", f"gw.{ZONE}", "A"),
        ("delete", f"legacy.{ZONE}", "TXT"),
        ("delete", f"printer.lab.{ZONE}", "A"),
    ]
    serial, view = checkzone(path)
    assert serial > before_serial
    kept = {k: before[k] for k in [(ZONE, "NS"), (f"sensor-01.{ZONE}", "A")]}  # undeclared apex NS, device
    assert view == {**kept, **{r.key: r for r in listed}}
    assert "_fleetdns" not in path.read_text()
    assert converge_whole(prov, listed, devices).changes == []


def test_zone_owned_whole_apply_refuses_a_file_changed_since_the_plan(tmp_path: Path, checkzone) -> None:
    prov = provider(tmp_path)
    converge_whole(prov, [rs("web", "A", ["192.0.2.1"]), rs("old", "TXT", ["bye"])])
    plan = plan_whole(prov, [rs("web", "A", ["192.0.2.2"])])  # an update and a delete, pinned on values
    path = Path(prov.path_for(ZONE))
    with path.open("a") as handle:  # another writer, between plan and apply
        handle.write('old 300 IN TXT "still here"\n')
    changed = path.read_bytes()
    with pytest.raises(ChangedSinceReadError) as info:
        prov.apply(ZONE, plan.changes, None)
    assert "old TXT" in str(info.value)
    assert path.read_bytes() == changed
    checkzone(path)


def test_ten_thousand_records(tmp_path: Path, checkzone) -> None:
    prov = provider(tmp_path)
    records = [rs(f"host{i}", "A", [f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"]) for i in range(10_000)]
    started = time.perf_counter()
    assert len(converge(prov, records).changes) == 10_000
    create = time.perf_counter() - started
    path = Path(prov.path_for(ZONE))

    def ours_parse(dump: Path) -> ZoneState:  # our reader (dnspython's would need ~2 s for BIND's dump)
        return split_markers(ZONE, prov.load_file(ZONE, str(dump)).records)

    serial, view = checkzone(path, parse=ours_parse)
    started = time.perf_counter()
    state = prov.read(ZONE, set())
    read = time.perf_counter() - started
    assert view.records == state.records and view.owners == state.owners
    assert len(state.records) == 10_001 and len(state.owners) == 10_000  # + the default apex NS

    records[:100] = [rs(f"host{i}", "A", [f"172.16.0.{i}"]) for i in range(100)]
    started = time.perf_counter()
    assert len(converge(prov, records).changes) == 100
    update = time.perf_counter() - started
    serial2, view2 = checkzone(path, parse=ours_parse)
    assert serial2 == serial + 1 and view2.records == prov.read(ZONE, set()).records
    print(f"\nzonefile 10k A + 10k markers: read {read:.3f}s, create {create:.3f}s, change 100 {update:.3f}s")


def test_an_apply_bind_would_not_load_is_refused_and_the_old_file_kept(tmp_path: Path, checkzone) -> None:
    """Deleting the address of an in-zone name server leaves a zone named refuses to load: the
    provider runs named-checkzone on the new text and keeps the old file. (The planner refuses this
    plan too; the provider is its own last line, so the change is handed to it directly.)"""
    path = tmp_path / "zones" / "example.test.zone"
    path.parent.mkdir()
    path.write_text("$TTL 1h\n@ IN SOA ns1 hostmaster 2024010101 1h 15m 2w 5m\n  NS ns1\nns1 A 192.0.2.53\n")
    checkzone(path)
    before = path.read_bytes()
    prov = provider(tmp_path)
    address = prov.read(ZONE, set()).records[(f"ns1.{ZONE}", "A")]
    with pytest.raises(ProviderError) as caught:
        prov.apply(ZONE, [Change("delete", *address.key, address, None, False, False)], None)
    message = str(caught.value)
    assert "named-checkzone rejects the new text of zones/example.test.zone" in message
    assert "ns1.example.test" in message and "the old file was kept" in message
    assert ".tmp" not in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [".example.test.zone.lock", "example.test.zone"]
