from __future__ import annotations

import ipaddress

import dns.rdata
import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.rdata import (
    MANAGED_TYPES,
    InvalidValueError,
    check_ttl,
    check_type,
    normalize_value,
    normalize_values,
    rdata_from_canonical,
)
from hypothesis import assume, given
from hypothesis import strategies as st

ZONE = "example.test."


@pytest.mark.parametrize(
    ("rtype", "raw", "canonical"),
    [
        ("A", "192.0.2.1", "192.0.2.1"),
        ("AAAA", "2001:DB8:0:0::1", "2001:db8::1"),
        ("AAAA", "[2001:db8::1]", "2001:db8::1"),
        ("AAAA", "::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ("CNAME", "gw", "gw.example.test."),
        ("CNAME", "GW.Example.Test.", "gw.example.test."),
        ("MX", "10 Mail", "10 mail.example.test."),
        ("NS", "ns1.other.test.", "ns1.other.test."),
        ("PTR", "host.example.test.", "host.example.test."),
        ("SRV", "10 5 5060 sip", "10 5 5060 sip.example.test."),
        ("CAA", '0 issue "letsencrypt.org"', '0 issue "letsencrypt.org"'),
        ("TXT", "v=spf1 -all", '"v=spf1 -all"'),
        ("TXT", 'say "hi" \\ bye', '"say \\"hi\\" \\\\ bye"'),
        ("TXT", '"already" "split"', '"already" "split"'),
        ("TXT", "", '""'),
    ],
)
def test_canonical_forms(rtype: str, raw: str, canonical: str) -> None:
    assert normalize_value(rtype, raw, ZONE) == canonical


def test_long_txt_is_split_at_255_bytes_without_cutting_utf8() -> None:
    text = "é" * 200  # 400 bytes
    canonical = normalize_value("TXT", text, ZONE)
    parsed = rdata_from_canonical("TXT", canonical)
    assert [len(s) for s in parsed.strings] == [254, 146]
    assert b"".join(parsed.strings).decode("utf-8") == text


@pytest.mark.parametrize(
    ("rtype", "raw", "fragment"),
    [
        ("A", "300.1.1.1", "not an IPv4 address"),
        ("A", "192.0.2", "not an IPv4 address"),
        ("A", "2001:db8::1", "not an IPv4 address"),
        ("AAAA", "192.0.2.1", "not an IPv6 address"),
        ("AAAA", "2001:db8:::1", "not an IPv6 address"),
        ("MX", "mail.example.test.", "not a valid MX value"),
        ("SRV", "10 sip", "not a valid SRV value"),
        ("A", 5, "is a number"),
        ("TXT", 12, "quote it"),
        ("A", None, "not a string"),
        ("TXT", '"' + "x" * 256 + '"', "a quoted string holds at most 255 bytes"),
        ("CNAME", ".".join(["a" * 60] * 4), "> 255 octets"),
        ("CNAME", "a" * 64, "> 63 octets"),
        ("DS", "1 13 2 abcd", "digest length"),
        ("SSHFP", "4 2 abcd", "fingerprint length"),
        ("TLSA", "3 1 1 abcd", "length inconsistent"),
        ("NAPTR", '100 10 "u" "E2U+sip" "garbage" .', "is not a delimiter, a pattern"),
        ("NAPTR", '100 10 "u" "E2U+sip" "!^.*$" .', "is not a delimiter, a pattern"),
        ("NAPTR", '100 10 "u" "E2U+sip" "!^.*$!sip:x@example.test!g" .', "optionally followed by 'i'"),
        ("NAPTR", '100 10 "u" "E2U+sip" "!!x!" .', "is not a delimiter, a pattern"),  # no pattern
        ("NAPTR", '100 10 "u" "E2U+sip" "1^.*1x1" .', "must start with its delimiter"),
        ("NAPTR", '100 10 "u" "E2U+sip" "!^.*$!sip:x@example.test!" sip', "a regexp or a replacement, not both"),
        ("NAPTR", '100 10 "u;x" "E2U+sip" "" sip', "must be letters or digits"),
    ],
)
def test_bad_values_explain_themselves(rtype: str, raw: object, fragment: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        normalize_value(rtype, raw, ZONE)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("rtype", "raw"),
    [
        ("NAPTR", '100 10 "u" "E2U+sip" "!^.*$!sip:info@example.test!" .'),
        ("NAPTR", '100 10 "u" "E2U+sip" "!^(.*)$!\\\\1@example.test!i" .'),
        ("NAPTR", '100 10 "u" "E2U+sip" "/a\\\\/b/c/" .'),  # an escaped delimiter inside the pattern
        ("NAPTR", '100 10 "S" "SIP+D2U" "" _sip._udp'),
        ("TXT", '"a;b" "c\\;d"'),  # ';' inside quotes, or escaped, is text
        ("CAA", '0 issue "ca.example; account=1"'),
    ],
)
def test_values_the_checks_must_let_through(rtype: str, raw: str) -> None:
    assert normalize_value(rtype, raw, ZONE)


@pytest.mark.parametrize(
    ("rtype", "raw"),
    [
        ("MX", "10 mail ; 20 backup"),
        ("TXT", '"v=spf1" ; "-all"'),
        ("SRV", "10 5 5060 sip;comment"),
    ],
)
def test_a_comment_in_zone_syntax_is_refused_not_cut(rtype: str, raw: str) -> None:
    with pytest.raises(InvalidValueError, match="text after ';' is a zone-file comment"):
        normalize_value(rtype, raw, ZONE)


@pytest.mark.parametrize("raw", ["10 mail\n20 backup", "10 mail\n$INCLUDE /etc/passwd", "10 mail\r20 x"])
def test_a_line_break_in_zone_syntax_is_refused(raw: str) -> None:
    with pytest.raises(InvalidValueError, match="holds a line break"):
        normalize_value("MX", raw, ZONE)
    assert normalize_value("MX", "10 mail\n", ZONE) == "10 mail.example.test."  # (a YAML block's final newline)


def test_plain_txt_keeps_semicolons_and_line_breaks_as_text() -> None:
    assert normalize_value("TXT", "a; b\nc", ZONE) == '"a; b\\010c"'


def test_value_messages_are_short() -> None:
    with pytest.raises(InvalidValueError) as info:
        normalize_value("MX", "x" * 100_000, ZONE)
    assert len(str(info.value)) < 300 and "(100000 characters)" in str(info.value)


def test_value_lists_collapse_and_cname_takes_one_value() -> None:
    assert normalize_values("A", ["192.0.2.1", "192.0.2.1", "192.0.2.2"], ZONE) == {"192.0.2.1", "192.0.2.2"}
    assert normalize_values("A", "192.0.2.1", ZONE) == {"192.0.2.1"}
    with pytest.raises(InvalidValueError, match="exactly one value"):
        normalize_values("CNAME", ["a", "b"], ZONE)
    with pytest.raises(InvalidValueError, match="no values"):
        normalize_values("A", [], ZONE)


def test_types_and_ttls() -> None:
    assert check_type("aaaa") == "AAAA"
    with pytest.raises(InvalidValueError, match="managed by the server"):
        check_type("SOA")
    with pytest.raises(InvalidValueError, match="not supported"):
        check_type("RRSIG")
    assert check_ttl(300) == 300
    assert check_ttl("300") == 300
    for bad in (-1, 2**31, "abc", True, 1.5):
        with pytest.raises(InvalidValueError):
            check_ttl(bad)
    assert "SOA" not in MANAGED_TYPES


@given(st.ip_addresses(v=4))
def test_ipv4_canonical_is_fixed_point(address: ipaddress.IPv4Address) -> None:
    canonical = normalize_value("A", str(address), ZONE)
    assert canonical == str(address)
    assert normalize_value("A", canonical, ZONE) == canonical


@given(st.ip_addresses(v=6))
def test_ipv6_canonical_is_fixed_point_and_same_address(address: ipaddress.IPv6Address) -> None:
    canonical = normalize_value("AAAA", address.exploded.upper(), ZONE)
    assert ipaddress.IPv6Address(canonical) == address
    assert normalize_value("AAAA", canonical, ZONE) == canonical
    # dnspython prints the same text for the same address, so values read from DNS compare equal
    assert dns.rdata.from_text("IN", "AAAA", str(address)).to_text() == canonical


@given(st.text(max_size=700))
def test_txt_round_trips_content_and_is_fixed_point(content: str) -> None:
    assume(not content.startswith('"'))  # a leading quote means zone-file syntax (tested below)
    canonical = normalize_value("TXT", content, ZONE)
    parsed = rdata_from_canonical("TXT", canonical)
    assert b"".join(parsed.strings) == content.encode("utf-8")
    assert all(len(s) <= 255 for s in parsed.strings)
    assert normalize_value("TXT", canonical, ZONE) == canonical
    assert parsed.to_text() == canonical


def test_txt_with_leading_quote_is_zone_file_syntax() -> None:
    assert normalize_value("TXT", '"a b" "c"', ZONE) == '"a b" "c"'
    with pytest.raises(InvalidValueError, match="not a valid TXT value"):
        normalize_value("TXT", '"unterminated', ZONE)


def test_canonical_text_parses_back_to_absolute_names() -> None:
    parsed = rdata_from_canonical("MX", "10 mail.example.test.")
    assert parsed.to_text() == "10 mail.example.test."
    assert parsed.to_wire()  # absolute names need no origin
    assert rdata_from_canonical("MX", "0 .").to_text() == "0 ."
