"""Targets of MX, SRV and NS records inside their zone need an address after the plan."""

from __future__ import annotations

from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet
from ansible_collections.fleetdns.ddns.plugins.module_utils.targets import check_targets

ZONE = "example.test."


def rs(name: str, rtype: str, *values: str) -> RecordSet:
    return RecordSet(f"{name}.{ZONE}" if name != "@" else ZONE, rtype, 300, frozenset(values))


def records(*sets: RecordSet) -> dict:
    return {r.key: r for r in sets}


MX_BACKUP = rs("@", "MX", f"10 mail.{ZONE}", f"20 backup-mx.{ZONE}")
MAIL = rs("mail", "A", "192.0.2.25")


def test_a_written_mx_whose_target_has_no_address_is_a_conflict_naming_the_fixes() -> None:
    found = check_targets(records(MAIL), records(MX_BACKUP), ZONE)
    assert found.conflicts == [
        "@ MX points at backup-mx, which would have no address record (A/AAAA) in the zone, and a server refuses "
        "that; add an address for backup-mx, or point the record elsewhere"
    ]
    assert found.warnings == []


def test_an_address_of_either_family_is_enough_and_a_device_name_needs_its_address_first() -> None:
    backup6 = rs("backup-mx", "AAAA", "2001:db8::26")
    assert check_targets(records(MAIL, backup6), records(MX_BACKUP), ZONE).conflicts == []
    (waiting,) = check_targets(records(MAIL), records(MX_BACKUP), ZONE, {f"backup-mx.{ZONE}"}).conflicts
    assert waiting.endswith("apply this once backup-mx's agent has set its address")
    agent_done = check_targets(records(MAIL, backup6), records(MX_BACKUP), ZONE, {f"backup-mx.{ZONE}"})
    assert agent_done.conflicts == []


def test_targets_outside_the_zone_below_a_delegation_or_null_are_not_checked() -> None:
    srv = rs("_sip._tcp", "SRV", "0 0 0 .", "10 5 5060 sip.example.org.", f"10 5 5060 pbx.branch.{ZONE}")
    null_mx = rs("nomail", "MX", "0 .")
    child_ns = rs("branch", "NS", "ns.example.org.")
    assert check_targets(records(child_ns), records(srv, null_mx), ZONE).conflicts == []


def test_what_the_zone_already_held_is_a_warning_only() -> None:
    found = check_targets(records(MX_BACKUP, MAIL), {}, ZONE)
    assert found.conflicts == []
    assert found.warnings == ["@ MX points at backup-mx, which has no address record in the zone"]


def test_deleting_the_last_address_of_a_target_is_a_conflict() -> None:
    ns = rs("@", "NS", f"ns1.{ZONE}")
    ns1 = rs("ns1", "A", "192.0.2.53")
    found = check_targets(records(ns, ns1), {ns1.key: None}, ZONE)
    assert found.conflicts == [
        "ns1 would lose its last address while @ NS points at it, which a server refuses; keep (list) the address, "
        "or change those records too"
    ]


def test_a_zone_read_name_by_name_judges_only_the_addresses_the_change_deletes() -> None:
    found = check_targets(records(), records(MX_BACKUP), ZONE, complete=False)
    assert found.conflicts == [] and found.warnings == []
    lost = check_targets(records(MX_BACKUP, MAIL), {MAIL.key: None}, ZONE, complete=False)
    assert [c.split(" ")[0] for c in lost.conflicts] == ["mail"]


def test_a_cname_into_an_empty_name_of_the_zone_is_a_warning() -> None:
    alias = rs("www", "CNAME", f"web.{ZONE}")
    found = check_targets(records(), records(alias), ZONE)
    assert found.conflicts == []
    assert found.warnings == [
        "www CNAME points at web, which holds no record in the zone: lookups of it will find nothing"
    ]
    assert check_targets(records(rs("web", "TXT", '"x"')), records(alias), ZONE).warnings == []
    assert check_targets(records(), records(rs("www", "CNAME", "web.example.org.")), ZONE).warnings == []
