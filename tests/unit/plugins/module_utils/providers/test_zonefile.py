"""The zonefile provider: reading hand-written files, round trips of every change kind, pins,
serials, atomic writes and located parse errors."""

from __future__ import annotations

import datetime
import fcntl
import os
import stat
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ChangedSinceReadError, ProviderError
from ansible_collections.fleetdns.ddns.plugins.module_utils.names import normalize_name
from ansible_collections.fleetdns.ddns.plugins.module_utils.ownership import marker_name, marker_value
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import Change, ZoneDesired, make_zone_plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import zonefile
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.zonefile import (
    ZoneFileProvider,
    email_to_rname,
    is_date_serial,
    next_serial,
    render,
)
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
from hypothesis import given, settings
from hypothesis import strategies as st

# One sample value per managed type (zone-file syntax, relative names resolve against the zone).
SAMPLES = {
    "A": ["192.0.2.1", "192.0.2.2"],
    "AAAA": ["2001:DB8:0:0::1"],
    "CAA": ['0 issue "letsencrypt.org"', '128 iodef "mailto:sec@example.test"'],
    "CNAME": ["target.example.net."],
    "DNAME": ["elsewhere.example.net."],
    "DS": [f"12345 13 2 {HEX64.upper()}"],
    "HTTPS": ['1 . alpn="h2,h3" port=8443'],
    "LOC": ["52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m"],
    "MX": ["10 mail", "20 mx2.example.net."],
    "NAPTR": ['100 10 "u" "E2U+sip" "!^.*$!sip:info@example.test!" .'],
    "NS": ["ns1.example.net.", "ns2.example.net."],
    "PTR": ["host.example.test."],
    "SRV": ["10 5 5060 sip"],
    "SSHFP": [f"4 2 {HEX64}"],
    "SVCB": ["1 svc.example.net. port=8443"],
    "TLSA": [f"3 1 1 {HEX64}"],
    "TXT": ["plain text", 'say "hi" \\ back', "grüße", "x" * 300],
}


def zone_path(tmp_path: Path) -> Path:
    return tmp_path / "zones" / "example.test.zone"


def today_serial() -> int:
    return int(datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")) * 100


def test_missing_file_is_an_empty_zone(tmp_path: Path) -> None:
    state = provider(tmp_path).read(ZONE, set())
    assert state.records == {} and state.owners == {} and state.complete


def test_constructor_does_no_io(tmp_path: Path) -> None:
    provider(tmp_path, directory="does/not/exist")
    assert not (tmp_path / "does").exists()


@pytest.mark.parametrize("rtype", MANAGED_TYPES)
def test_every_type_round_trips_and_a_second_run_changes_nothing(tmp_path: Path, rtype: str) -> None:
    prov = provider(tmp_path)
    record = rs(f"{rtype.lower()}-rec", rtype, SAMPLES[rtype])
    plan = converge(prov, [record])
    assert [c.action for c in plan.changes] == ["create"]
    state = prov.read(ZONE, set())
    assert state.records[record.key] == record
    assert state.owners == {record.key: ME}
    assert converge(prov, [record]).changes == []


def test_update_values_and_ttl_then_delete(tmp_path: Path) -> None:
    prov = provider(tmp_path)
    converge(prov, [rs("web", "A", ["192.0.2.1"])])
    newer = rs("web", "A", ["192.0.2.9", "192.0.2.8"], ttl=60)
    assert [c.action for c in converge(prov, [newer]).changes] == ["update"]
    assert prov.read(ZONE, set()).records[newer.key] == newer
    assert [c.action for c in converge(prov, []).changes] == ["delete"]
    state = prov.read(ZONE, set())
    assert newer.key not in state.records and state.owners == {}
    assert "_fleetdns" not in zone_path(tmp_path).read_text()


def test_adopt_takes_over_an_unowned_record(tmp_path: Path) -> None:
    prov = provider(tmp_path)
    converge(prov, [rs("seed", "A", ["192.0.2.1"])])  # creates the file
    path = zone_path(tmp_path)
    path.write_text(path.read_text() + "legacy 600 IN A 192.0.2.50\n")
    wanted = rs("legacy", "A", ["192.0.2.51"])
    plan = converge(prov, [rs("seed", "A", ["192.0.2.1"]), wanted], adopt=True)
    assert [c.action for c in plan.changes] == ["adopt"]
    state = prov.read(ZONE, set())
    assert state.records[wanted.key] == wanted and state.owners[wanted.key] == ME


def test_register_writes_only_the_marker(tmp_path: Path) -> None:
    prov = provider(tmp_path)
    name = normalize_name("sensor-01", ZONE)
    plan = converge(prov, [], registered={(name, "A"), (name, "AAAA")})
    assert [c.action for c in plan.changes] == ["register", "register"]
    state = prov.read(ZONE, set())
    assert state.owners == {(name, "A"): ME, (name, "AAAA"): ME}
    assert (name, "A") not in state.records
    text = zone_path(tmp_path).read_text()
    assert f'a.sensor-01._fleetdns\t{zonefile.MARKER_TTL}\tIN\tTXT\t"fleetdns-owner=fleet-main"' in text


def test_wildcard_records_and_their_markers(tmp_path: Path) -> None:
    prov = provider(tmp_path)
    record = rs("*.dev", "A", ["192.0.2.7"])
    converge(prov, [record])
    text = zone_path(tmp_path).read_text()
    assert "*.dev\t300\tIN\tA\t192.0.2.7" in text
    assert "a.wildcard-.dev._fleetdns\t" in text
    assert prov.read(ZONE, set()).owners == {record.key: ME}


HAND_WRITTEN = """\
; hand-written, with the usual conveniences
$TTL 1h
$ORIGIN example.test.
@   IN SOA ns1.example.test. hostmaster (   ; SOA over several lines
        2024010101 ; serial
        3600 900 1209600 300 )
    IN NS ns1
ns1 IN A 192.0.2.53
www 300 IN A 192.0.2.10
        IN A 192.0.2.11    ; a blank owner repeats www
mail IN 600 MX 10 mail.example.net.
txt  TXT "semi;colon" "with \\"quotes\\"" ( "and (parens)" )
utf  TXT "grüße"
_sip._tcp 1d SRV 0 5 5060 sip
$ORIGIN sub.example.test.
host A 192.0.2.99      ; relative to sub
Caps.Example.Test. 1m AAAA 2001:DB8:0:0::1
other.example.net. 300 A 192.0.2.1   ; outside the zone
"""


def write_zone(tmp_path: Path, text: str) -> Path:
    path = zone_path(tmp_path)
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_hand_written_file_reads_as_dnspython_reads_it(tmp_path: Path) -> None:
    write_zone(tmp_path, HAND_WRITTEN)
    state = provider(tmp_path).read(ZONE, set())
    assert state.records == dnspython_view(HAND_WRITTEN)
    assert state.records[(f"www.{ZONE}", "A")].values == {"192.0.2.10", "192.0.2.11"}
    assert (f"caps.{ZONE}", "AAAA") in state.records
    assert any("outside zone" in w for w in state.warnings)


def test_unowned_records_survive_an_apply_with_their_values(tmp_path: Path) -> None:
    path = write_zone(tmp_path, HAND_WRITTEN)
    prov = provider(tmp_path)
    before = prov.read(ZONE, set()).records
    converge(prov, [rs("new", "A", ["192.0.2.77"])])
    after = prov.read(ZONE, set())
    assert {k: v for k, v in after.records.items() if k != (f"new.{ZONE}", "A")} == before
    assert after.owners == {(f"new.{ZONE}", "A"): ME}
    text = path.read_text()
    assert "$ORIGIN example.test.\n" in text and "hand-written" not in text  # comments are not kept
    soa = next(line for line in text.splitlines() if "\tSOA\t" in line)
    assert soa == f"@\t3600\tIN\tSOA\tns1.example.test. hostmaster.example.test. {today_serial()} 3600 900 1209600 300"


def test_include_is_relative_to_the_including_file(tmp_path: Path) -> None:
    write_zone(tmp_path, "$TTL 300\n@ SOA ns1 hm 1 2 3 4 5\n$INCLUDE parts/hosts.inc dev\nafter A 192.0.2.3\n")
    (tmp_path / "zones" / "parts").mkdir()
    (tmp_path / "zones" / "parts" / "hosts.inc").write_text("box A 192.0.2.2\n")
    state = provider(tmp_path).read(ZONE, set())
    assert state.records[(f"box.dev.{ZONE}", "A")].values == {"192.0.2.2"}
    assert (f"after.{ZONE}", "A") in state.records  # the origin comes back after the include
    assert any("$INCLUDE" in w for w in state.warnings)


def test_generate_is_expanded(tmp_path: Path) -> None:
    write_zone(tmp_path, "$TTL 300\n$GENERATE 1-3 host$ A 192.0.2.$\n")
    state = provider(tmp_path).read(ZONE, set())
    assert state.records[(f"host2.{ZONE}", "A")].values == {"192.0.2.2"}
    assert len(state.records) == 3


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("$TTL 300\nok A 192.0.2.1\nbad A 192.0.2.300\n", 3, "IPv4"),
        ("$TTL 300\nx FOO 1\n", 2, "unknown record type"),
        ("$TTL 300\n@ SOA ns hm ( 1 2 3\n 4 5\n", 2, "never closed"),
        ('$TTL 300\nx TXT "open\n', 2, "quoted string"),
        ("x A 192.0.2.1\n", 1, "no TTL"),
        ("$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ SOA ns hm 1 2 3 4 5\n", 3, "second SOA"),
        ("$TTL 300\nx CH A 192.0.2.1\n", 2, "class CH"),
        ("$TTL 300\n\n\nx 300 IN MX ten mail\n", 4, "MX"),
        ("$TTL 300\n  A 192.0.2.1\n", 2, "owner"),
        ("$TTL 5x\n", 1, "TTL"),
        ("$BOGUS 1\n", 1, "unknown directive"),
        ("$TTL 300\nx A 192.0.2.1 )\n", 2, "')'"),
        ("$TTL 300\nsub.example.test.. A 192.0.2.1\n", 2, "label is empty"),
    ],
)
def test_malformed_file_gives_a_located_error(tmp_path: Path, text: str, line: int, words: str) -> None:
    write_zone(tmp_path, text)
    with pytest.raises(ProviderError) as info:
        provider(tmp_path).read(ZONE, set())
    message = str(info.value)
    assert message.startswith(f"zones/example.test.zone:{line}: "), message
    assert words.lower() in message.lower(), message
    assert "Traceback" not in message


def test_error_in_included_file_names_that_file(tmp_path: Path) -> None:
    write_zone(tmp_path, "$TTL 300\n$INCLUDE bad.inc\n")
    (tmp_path / "zones" / "bad.inc").write_text("ok A 192.0.2.1\nno A nope\n")
    with pytest.raises(ProviderError, match=r"^zones/bad\.inc:2: "):
        provider(tmp_path).read(ZONE, set())


def test_invalid_utf8_is_located(tmp_path: Path) -> None:
    path = write_zone(tmp_path, "")
    path.write_bytes(b'$TTL 300\nx TXT "\xff"\n')
    with pytest.raises(ProviderError, match=r"^zones/example\.test\.zone:2: not valid UTF-8"):
        provider(tmp_path).read(ZONE, set())


# ---- pins: a concurrent edit between read and apply --------------------------------------------


def plan_then(tmp_path: Path, records: list[RecordSet], edit) -> tuple[ZoneFileProvider, list[Change]]:
    """Read and plan, let `edit` change the file behind our back, return what would be applied."""
    prov = provider(tmp_path)
    desired = ZoneDesired(ZONE, {r.key: r for r in records})
    plan = make_zone_plan(desired, prov.read(ZONE, set()), ME, "files")
    edit(zone_path(tmp_path))
    return prov, plan.changes


def append(line: str):
    return lambda path: path.write_text(path.read_text() + line + "\n")


def replace(old: str, new: str):
    def edit(path: Path) -> None:
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new))

    return edit


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (replace("192.0.2.1", "192.0.2.66"), "web A: expected 192.0.2.1, found 192.0.2.66"),
        (replace('"fleetdns-owner=fleet-main"', '"fleetdns-owner=other"'), "found owner 'other'"),
        (replace('a.web._fleetdns\t3600\tIN\tTXT\t"fleetdns-owner=fleet-main"', ""), "found no marker"),
        (append("fresh 300 IN A 192.0.2.99"), "fresh A: expected no record set, found 192.0.2.99"),
        (append('a.fresh._fleetdns 300 IN TXT "fleetdns-owner=other"'), "expected no ownership marker"),
    ],
)
def test_concurrent_edit_stops_the_apply_and_leaves_the_file_alone(tmp_path: Path, edit, words: str) -> None:
    converge(provider(tmp_path), [rs("web", "A", ["192.0.2.1"])])
    prov, changes = plan_then(tmp_path, [rs("web", "A", ["192.0.2.2"]), rs("fresh", "A", ["192.0.2.3"])], edit)
    snapshot = zone_path(tmp_path).read_bytes()
    with pytest.raises(ChangedSinceReadError) as info:
        prov.apply(ZONE, changes, ME)
    assert words in str(info.value)
    assert "nothing was written" in str(info.value)
    assert zone_path(tmp_path).read_bytes() == snapshot


def test_apply_waits_for_the_lock_and_then_gives_up_clearly(tmp_path: Path, monkeypatch) -> None:
    prov = provider(tmp_path)
    converge(prov, [rs("web", "A", ["192.0.2.1"])])
    monkeypatch.setattr(zonefile, "LOCK_TIMEOUT", 0.2)
    lock = os.open(zone_path(tmp_path).parent / ".example.test.zone.lock", os.O_RDWR)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(ProviderError, match="locked by another process"):
            converge(prov, [rs("web", "A", ["192.0.2.2"])])
    finally:
        os.close(lock)
    converge(prov, [rs("web", "A", ["192.0.2.2"])])
    assert prov.read(ZONE, set()).records[(f"web.{ZONE}", "A")].values == {"192.0.2.2"}


# ---- SOA serial ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("serial", "today", "expected"),
    [
        (2024010105, 2024010100, 2024010106),  # same day: count up
        (2023123199, 2024010100, 2024010100),  # an older day: today's first serial
        (2024010199, 2024010100, 2024010200),  # 99 changes in a day: borrow from tomorrow, still increasing
        (2099010100, 2024010100, 2099010101),  # a date in the future is never moved back
        (7, 2024010100, 8),  # plain counters stay counters
        (1700000000, 2024010100, 1700000001),  # unix time is not a date
        (2**32 - 1, 2024010100, 0),  # RFC 1982 wrap
    ],
)
def test_next_serial(serial: int, today: int, expected: int) -> None:
    assert next_serial(serial, today) == expected


def test_date_serial_detection() -> None:
    assert is_date_serial(2024013100)
    assert not is_date_serial(2024133100) and not is_date_serial(2024010000) and not is_date_serial(12345)


def soa_serial(path: Path) -> int:
    soa = next(line for line in path.read_text().splitlines() if "\tSOA\t" in line)
    return int(soa.split()[6])


def test_serial_bumps_once_per_apply_and_never_for_a_noop(tmp_path: Path) -> None:
    prov = provider(tmp_path)
    converge(prov, [rs("a", "A", ["192.0.2.1"])])
    first = soa_serial(zone_path(tmp_path))
    assert first == today_serial()
    converge(prov, [rs("a", "A", ["192.0.2.2"])])
    assert soa_serial(zone_path(tmp_path)) == first + 1
    prov.apply(ZONE, [], ME)
    converge(prov, [rs("a", "A", ["192.0.2.2"])])
    assert soa_serial(zone_path(tmp_path)) == first + 1


def test_counter_serial_of_a_hand_written_file_counts_up(tmp_path: Path) -> None:
    write_zone(tmp_path, "$TTL 300\n@ SOA ns1 hm 41 2 3 4 5\n@ NS ns1.example.net.\n")
    converge(provider(tmp_path), [rs("a", "A", ["192.0.2.1"])])
    assert soa_serial(zone_path(tmp_path)) == 42


# ---- new files ----------------------------------------------------------------------------------


def test_new_file_gets_soa_and_ns_from_the_options(tmp_path: Path) -> None:
    prov = provider(tmp_path, nameservers=["NS1.example.net.", "ns2.example.net."], soa_email="dns.admin@example.net")
    converge(prov, [rs("a", "A", ["192.0.2.1"])])
    lines = zone_path(tmp_path).read_text().splitlines()
    assert lines[2:5] == [
        "$ORIGIN example.test.",
        "$TTL 3600",
        f"@\t3600\tIN\tSOA\tns1.example.net. dns\\.admin.example.net. {today_serial()} 3600 900 1209600 300",
    ]
    assert lines[5:7] == ["@\t3600\tIN\tNS\tns1.example.net.", "@\t3600\tIN\tNS\tns2.example.net."]
    assert stat.S_IMODE(zone_path(tmp_path).stat().st_mode) == 0o644


def test_declared_apex_ns_replaces_the_default(tmp_path: Path) -> None:
    prov = provider(tmp_path)
    ns = rs("@", "NS", ["ns1.example.net."])
    converge(prov, [ns])
    assert prov.read(ZONE, set()).records[(ZONE, "NS")] == ns
    assert "localhost" not in zone_path(tmp_path).read_text().split("\tSOA\t")[1]


def test_output_is_sorted_and_stable(tmp_path: Path) -> None:
    prov = provider(tmp_path)
    records = [
        rs("b", "A", ["192.0.2.2"]),
        rs("@", "MX", ["10 mail"]),
        rs("a.b", "TXT", ["x"]),
        rs("a", "A", ["192.0.2.1"]),
    ]
    converge(prov, records)
    body = [line.split("\t")[:4] for line in zone_path(tmp_path).read_text().splitlines() if "\tIN\t" in line]
    assert [(n, t) for n, _ttl, _cls, t in body] == [
        ("@", "SOA"), ("@", "MX"), ("@", "NS"), ("a", "A"), ("b", "A"), ("a.b", "TXT"),
        ("a.a._fleetdns", "TXT"), ("a.b._fleetdns", "TXT"), ("txt.a.b._fleetdns", "TXT"), ("mx._fleetdns", "TXT"),
    ]  # fmt: skip
    first = zone_path(tmp_path).read_text()
    converge(prov, list(reversed(records)))  # nothing to do: the file is not rewritten
    assert zone_path(tmp_path).read_text() == first


LABELS = st.one_of(st.just("*"), st.just("@"), st.from_regex(r"[a-z0-9_]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True))
TEXTS = st.text(max_size=300).filter(lambda t: not t.startswith('"'))


def test_render_then_read_is_identity_for_generated_zones(tmp_path: Path) -> None:
    @settings(max_examples=60)
    @given(
        st.dictionaries(
            st.tuples(LABELS, st.sampled_from(["A", "TXT", "MX"])),
            st.tuples(st.integers(0, 2**31 - 1), st.lists(TEXTS, min_size=1, max_size=3)),
            max_size=8,
        )
    )
    def check(spec: dict) -> None:
        records = {}
        for (label, rtype), (ttl, texts) in spec.items():
            if rtype == "A":
                values = [f"192.0.2.{len(t) % 256}" for t in texts]
            elif rtype == "MX":
                values = [f"{len(t)} mx{len(t)}" for t in texts]
            else:
                values = texts
            record = rs(label, rtype, values, ttl)
            records[record.key] = record
        write_zone(tmp_path, render(ZONE, f"ns1.{ZONE} hostmaster.{ZONE} 1 2 3 4 5", 300, records))
        assert provider(tmp_path).read(ZONE, set()).records == records

    check()


# ---- atomic writes ------------------------------------------------------------------------------


def test_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path, monkeypatch) -> None:
    prov = provider(tmp_path)
    converge(prov, [rs("web", "A", ["192.0.2.1"])])
    snapshot = zone_path(tmp_path).read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zonefile.os, "replace", broken_replace)
    with pytest.raises(ProviderError, match=r"cannot write zones/example\.test\.zone: No space left on device"):
        converge(prov, [rs("web", "A", ["192.0.2.2"])])
    assert zone_path(tmp_path).read_bytes() == snapshot
    assert sorted(p.name for p in zone_path(tmp_path).parent.iterdir()) == [
        ".example.test.zone.lock",
        "example.test.zone",
    ]


def test_mode_of_an_existing_file_is_kept(tmp_path: Path) -> None:
    prov = provider(tmp_path)
    converge(prov, [rs("web", "A", ["192.0.2.1"])])
    zone_path(tmp_path).chmod(0o640)
    converge(prov, [rs("web", "A", ["192.0.2.2"])])
    assert stat.S_IMODE(zone_path(tmp_path).stat().st_mode) == 0o640


def test_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        blocker = tmp_path / "zones"
        blocker.write_text("a file where the directory should be")
    else:
        (tmp_path / "zones").mkdir(mode=0o500)
    with pytest.raises(ProviderError, match="zones"):
        converge(provider(tmp_path), [rs("web", "A", ["192.0.2.1"])])


# ---- options ------------------------------------------------------------------------------------


def test_paths_resolve_against_the_inventory_directory(tmp_path: Path) -> None:
    prov = provider(tmp_path, directory="dns", filename="db.{zone}")
    assert prov.path_for(ZONE) == str(tmp_path / "dns" / "db.example.test")
    assert provider(tmp_path, directory="/srv/z").path_for(ZONE) == "/srv/z/example.test.zone"


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"filename": "zone.db"}, "{zone}"),
        ({"filename": "sub/{zone}"}, "plain file name"),
        ({"nameservers": []}, "at least one"),
        ({"nameservers": ["ns1.example.net"]}, "end it with a dot"),
        ({"soa_email": "no-at-sign"}, "e-mail"),
        ({"soa_retry": -1}, "soa_retry"),
    ],
)
def test_check_options(tmp_path: Path, options: dict, words: str) -> None:
    problems = provider(tmp_path, **options).check_options()
    assert len(problems) == 1 and words in problems[0]


def test_default_options_are_valid(tmp_path: Path) -> None:
    assert provider(tmp_path).check_options() == []


def test_email_to_rname() -> None:
    assert email_to_rname("hostmaster@Example.Test") == "hostmaster.example.test."
    assert email_to_rname("first.last@example.test.") == "first\\.last.example.test."


def test_marker_helpers_agree_with_what_is_written(tmp_path: Path) -> None:
    prov = provider(tmp_path)
    record = rs("@", "TXT", ["v=spf1 -all"])
    converge(prov, [record])
    name = marker_name(record.key, ZONE)
    assert (
        f"{name[: -len(ZONE) - 1]}\t{zonefile.MARKER_TTL}\tIN\tTXT\t{marker_value(ME)}"
        in zone_path(tmp_path).read_text()
    )
