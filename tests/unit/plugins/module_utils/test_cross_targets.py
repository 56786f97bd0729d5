"""Targets inside another zone of the inventory, judged on that zone's state after its plan."""

from __future__ import annotations

from ansible_collections.fleetdns.ddns.plugins.module_utils.cross_targets import check_cross_zone, zone_view
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet

ZONES = ["example.test.", "mail.test."]


def rrset(name: str, rtype: str, *values: str) -> RecordSet:
    return RecordSet(name, rtype, 300, frozenset(values))


def views(mail_records: list[RecordSet], complete: bool = True, written: bool = True) -> dict:
    mx = rrset("example.test.", "MX", "10 mx.mail.test.")
    example = zone_view("example.test.", {} if written else {mx.key: mx}, {mx.key: mx} if written else {}, True)
    mail = zone_view("mail.test.", {r.key: r for r in mail_records}, {}, complete)
    return {"example.test.": example, "mail.test.": mail}


def check(found: dict, strict: bool = False, server: bool = False, devices: tuple = ()) -> tuple[list, list]:
    result = check_cross_zone(found, ZONES, devices, {"example.test.": strict}, {"example.test.": server})
    findings = result.get("example.test.")
    return (findings.conflicts, findings.warnings) if findings else ([], [])


def test_a_target_with_an_address_in_the_other_zone_passes() -> None:
    assert check(views([rrset("mx.mail.test.", "AAAA", "2001:db8::25")]), server=True) == ([], [])


def test_a_target_without_an_address_is_a_warning_unless_the_server_checks_or_the_zone_is_strict() -> None:
    found = views([rrset("mx.mail.test.", "TXT", '"no address"')])
    conflicts, warnings = check(found)
    assert not conflicts and warnings == [
        "@ MX points at mx.mail.test. (zone mail.test.), which would have no address record (A/AAAA) there"
    ]
    for flags in ({"server": True}, {"strict": True}):
        conflicts, warnings = check(found, **flags)
        assert len(conflicts) == 1 and "add an address for mx in mail.test." in conflicts[0] and not warnings


def test_what_the_zone_already_held_is_only_a_warning_even_when_strict() -> None:
    conflicts, warnings = check(views([], written=False), strict=True, server=True)
    assert not conflicts and len(warnings) == 1


def test_a_device_name_counts_as_an_address() -> None:
    assert check(views([]), server=True, devices=("mx.mail.test.",)) == ([], [])


def test_a_zone_read_in_part_or_not_read_is_not_judged() -> None:
    assert check(views([], complete=False), server=True) == ([], [])
    only = {"example.test.": views([])["example.test."]}
    assert check(only, server=True) == ([], [])


def test_a_cname_into_the_other_zone_needs_data_there() -> None:
    alias = rrset("www.example.test.", "CNAME", "web.mail.test.")
    example = zone_view("example.test.", {}, {alias.key: alias}, True)
    empty = zone_view("mail.test.", {}, {}, True)
    conflicts, warnings = check({"example.test.": example, "mail.test.": empty}, server=True)
    assert not conflicts and "www CNAME points at web.mail.test. (zone mail.test.)" in warnings[0]
    held = zone_view("mail.test.", {("web.mail.test.", "TXT"): rrset("web.mail.test.", "TXT", '"x"')}, {}, True)
    assert check({"example.test.": example, "mail.test.": held}) == ([], [])
