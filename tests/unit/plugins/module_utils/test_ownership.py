from __future__ import annotations

from ansible_collections.fleetdns.ddns.plugins.module_utils.ownership import (
    ZoneState,
    claim_zone,
    marker_name,
    marker_value,
    parse_marker,
    parse_owner,
    split_markers,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet
from hypothesis import given
from hypothesis import strategies as st

ZONE = "example.test."


def test_marker_names() -> None:
    assert marker_name((f"www.{ZONE}", "A"), ZONE) == "a.www._fleetdns.example.test."
    assert marker_name((ZONE, "MX"), ZONE) == "mx._fleetdns.example.test."
    assert marker_name((f"*.dev.{ZONE}", "AAAA"), ZONE) == "aaaa.wildcard-.dev._fleetdns.example.test."


labels = st.from_regex(r"[a-z0-9_*]([a-z0-9_-]{0,10}[a-z0-9])?", fullmatch=True)


@given(st.lists(labels, max_size=4), st.sampled_from(["A", "AAAA", "TXT", "MX", "SRV", "CNAME"]))
def test_marker_name_round_trips(parts: list[str], rtype: str) -> None:
    name = ".".join([*parts, ZONE.rstrip(".")]) + "."
    assert parse_marker(marker_name((name, rtype), ZONE), ZONE) == (name, rtype)


def test_split_markers_separates_owners_from_records() -> None:
    def txt(name: str, *values: str) -> RecordSet:
        return RecordSet(name, "TXT", 300, frozenset(values))

    www = RecordSet(f"www.{ZONE}", "A", 300, frozenset({"192.0.2.1"}))
    raw = {
        www.key: www,
        ("a.www._fleetdns.example.test.", "TXT"): txt("a.www._fleetdns.example.test.", marker_value("fleet-main")),
        ("aaaa.gw._fleetdns.example.test.", "TXT"): txt("aaaa.gw._fleetdns.example.test.", marker_value("other")),
        ("junk._fleetdns.example.test.", "TXT"): txt("junk._fleetdns.example.test.", '"hello"'),
    }
    state = split_markers(ZONE, raw)
    assert state.records == {www.key: www}
    assert state.owners == {(f"www.{ZONE}", "A"): "fleet-main", (f"gw.{ZONE}", "AAAA"): "other"}
    assert len(state.warnings) == 1 and "junk._fleetdns" in state.warnings[0]


def test_parse_owner_ignores_foreign_text() -> None:
    assert parse_owner(frozenset({'"fleetdns-owner=fleet-main"'})) == "fleet-main"
    assert parse_owner(frozenset({'"something else"'})) is None


# ---- zone ownership: claim_zone ----------------------------------------------------------------------------


def _a(name: str, rtype: str = "A", value: str = "192.0.2.1") -> RecordSet:
    return RecordSet(f"{name}.{ZONE}" if name != "@" else ZONE, rtype, 300, frozenset({value}))


def test_claim_zone_owns_every_declarable_type_but_an_undeclared_apex_ns() -> None:
    dnssec = ["RRSIG", "NSEC", "NSEC3", "NSEC3PARAM", "DNSKEY", "CDS", "CDNSKEY", "TYPE65534", "ZONEMD"]
    undeclarable = ["HINFO", "KEY", "TYPE65280"]  # no inventory could keep them, so they are never owned
    kept_out = [_a("@", rtype, "x") for rtype in ["SOA", *dnssec]] + [_a("host", t, "x") for t in undeclarable]
    apex_ns = _a("@", "NS", "ns1.example.test.")
    delegation = _a("sub", "NS", "ns1.sub.example.test.")
    ordinary = [_a("www"), _a("@", "MX", "10 mail.example.test."), delegation, _a("*.dev")]
    records = {r.key: r for r in [*kept_out, apex_ns, *ordinary]}
    state = ZoneState(ZONE, records, {}, complete=True, warnings=["a note"])

    claimed, conflicts = claim_zone(state, set(), "fleet-main")
    assert conflicts == []
    assert claimed.owners == {r.key: "fleet-main" for r in ordinary}
    assert claimed.records == records  # claiming changes who owns, never what is there
    assert claimed.warnings == ["a note"] and claimed.warnings is not state.warnings
    assert state.owners == {}  # the read state is left as it was

    declared, conflicts = claim_zone(state, {apex_ns.key}, "fleet-main")
    assert conflicts == []
    assert declared.owners == {r.key: "fleet-main" for r in [*ordinary, apex_ns]}


def test_claim_zone_notes_our_left_over_markers_and_ignores_markers_without_record_sets() -> None:
    www = _a("www")
    gw_aaaa = (f"gw.{ZONE}", "AAAA")  # a marker left for a device that never reported an IPv6 address
    state = ZoneState(ZONE, {www.key: www}, {www.key: "fleet-main", gw_aaaa: "fleet-main"}, complete=False)
    claimed, conflicts = claim_zone(state, set(), "fleet-main")
    assert conflicts == []
    assert claimed.owners == {www.key: "fleet-main"}
    assert claimed.complete is False
    (note,) = claimed.warnings
    assert "2 ownership marker(s) of 'fleet-main' remain under _fleetdns.example.test." in note
    assert state.warnings == []


def test_claim_zone_names_each_record_set_marked_by_another_owner() -> None:
    www, mail = _a("www"), _a("mail")
    owners = {www.key: "fleet-other", (f"gw.{ZONE}", "AAAA"): "fleet-third", mail.key: "fleet-main"}
    _claimed, conflicts = claim_zone(ZoneState(ZONE, {www.key: www, mail.key: mail}, owners), set(), "fleet-main")
    assert conflicts == [
        "gw AAAA is marked as owned by 'fleet-third', but this inventory owns the whole zone (ownership: zone)",
        "www A is marked as owned by 'fleet-other', but this inventory owns the whole zone (ownership: zone)",
    ]
