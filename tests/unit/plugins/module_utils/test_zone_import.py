"""zone_import: which record sets of a read zone are imported as declared, which are left out and
why, and how each is written as an inventory entry."""

from __future__ import annotations

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import FleetDNSError
from ansible_collections.fleetdns.ddns.plugins.module_utils.ownership import ZoneState
from ansible_collections.fleetdns.ddns.plugins.module_utils.rdata import normalize_values
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet
from ansible_collections.fleetdns.ddns.plugins.module_utils.zone_import import (
    common_ttl,
    friendly_value,
    record_entry,
    select_records,
)

ZONE = "example.test."


def rrset(name: str, rtype: str, *values: str, ttl: int = 300) -> RecordSet:
    absolute = ZONE if name == "@" else f"{name}.{ZONE}"
    return RecordSet(
        absolute, rtype, ttl, normalize_values(rtype, list(values), ZONE) if rtype != "HINFO" else frozenset(values)
    )


def state(*sets: RecordSet, owners: dict | None = None, complete: bool = True) -> ZoneState:
    return ZoneState(ZONE, {s.key: s for s in sets}, owners or {}, complete)


def test_every_kind_of_record_set_is_sorted_into_its_place() -> None:
    www = rrset("www", "A", "192.0.2.1")
    mine = rrset("mine", "A", "192.0.2.2")
    theirs = rrset("theirs", "A", "192.0.2.3")
    device = rrset("gw", "AAAA", "2001:db8::1")
    same = rrset("mail", "A", "192.0.2.25")
    other = rrset("@", "MX", "10 mail")
    hinfo = rrset("box", "HINFO", '"x86" "linux"')
    current = state(
        www, mine, theirs, device, same, other, hinfo,
        owners={mine.key: "us", theirs.key: "them"},
    )  # fmt: skip
    declared = {same.key: same, other.key: rrset("@", "MX", "20 mail")}
    picked = select_records(current, "us", None, declared, {f"gw.{ZONE}": "gw-host"})
    assert picked.records == [mine, www]
    assert picked.owned == [mine.key]
    assert picked.unchanged == [same.key]
    assert picked.skipped == [
        "@ MX: declared already with ttl 300: 20 mail.example.test.; the zone holds ttl 300: 10 mail.example.test.; "
        "the inventory's entry is kept (plan shows the difference)",
        "box HINFO: the HINFO type is not declared in an inventory (left as it is)",
        "gw AAAA: a device name of host 'gw-host', whose agent keeps its address",
        "theirs A: owned by 'them', another inventory (left to it)",
    ]


def test_types_the_provider_cannot_manage_are_left_out() -> None:
    picked = select_records(
        state(rrset("a", "A", "192.0.2.1"), rrset("l", "LOC", "52 22 23 N 4 53 32 E 0m")), "us", ("A",)
    )
    assert [r.type for r in picked.records] == ["A"]
    assert picked.skipped == ["l LOC: the provider cannot manage LOC records (left as it is)"]


def test_a_zone_not_listed_whole_or_empty_is_refused() -> None:
    with pytest.raises(FleetDNSError, match="could not be listed whole"):
        select_records(state(rrset("a", "A", "192.0.2.1"), complete=False), "us")
    with pytest.raises(FleetDNSError, match="holds no records there"):
        select_records(state(), "us")


def test_entries_are_written_in_the_simplest_form_that_reads_back() -> None:
    assert record_entry(rrset("@", "TXT", "v=spf1 -all"), ZONE, 300) == {
        "name": "@",
        "type": "TXT",
        "value": "v=spf1 -all",
    }
    two = record_entry(rrset("www", "A", "192.0.2.2", "192.0.2.1", ttl=60), ZONE, 300)
    assert two == {"name": "www", "type": "A", "value": ["192.0.2.1", "192.0.2.2"], "ttl": 60}
    for canonical in ('"a" "b"', '"with \\"quote\\""', '" padded "', '""'):
        assert friendly_value("TXT", canonical, ZONE) == canonical  # only the bare form would change it
    assert friendly_value("CNAME", "www.example.test.", ZONE) == "www.example.test."


def test_the_common_ttl_is_the_most_frequent_one() -> None:
    sets = [
        rrset("a", "A", "192.0.2.1", ttl=60),
        rrset("b", "A", "192.0.2.1", ttl=300),
        rrset("c", "A", "192.0.2.1", ttl=60),
    ]
    assert common_ttl(sets, 3600) == 60
    assert common_ttl(sets[:2], 3600) == 60  # a tie: the shorter
    assert common_ttl([], 3600) == 3600
