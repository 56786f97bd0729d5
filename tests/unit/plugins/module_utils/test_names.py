from __future__ import annotations

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.names import (
    InvalidNameError,
    normalize_name,
    normalize_zone,
    relative_name,
    zone_for_name,
)
from hypothesis import given
from hypothesis import strategies as st

ZONE = "example.test."


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@", ZONE),
        ("www", "www.example.test."),
        ("WWW", "www.example.test."),
        ("www.example.test.", "www.example.test."),
        ("Www.Example.Test.", "www.example.test."),
        ("_sip._tcp", "_sip._tcp.example.test."),
        ("*.dev", "*.dev.example.test."),
        ("bücher", "xn--bcher-kva.example.test."),
        ("Café.Example.Test.", "xn--caf-dma.example.test."),
    ],
)
def test_normalize_name(raw: str, expected: str) -> None:
    assert normalize_name(raw, ZONE) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "is not a name"),
        ("www.other.test.", "outside the zone"),
        ("a..b", "empty label"),
        ("x" * 64, "longer than 63"),
        ("dev.*", "leftmost"),
        ("a*b", "leftmost"),
        ("www example", "contains ' '"),
        ("-www", "starts or ends with '-'"),
        (".".join(["abcdefgh"] * 30), "longer than 253"),
        ("a\n.www", "contains '\\n'"),  # `$` in a pattern would have let a label end in a newline
        ("www\n.example.test.", "contains '\\n'"),
    ],
)
def test_bad_names_are_rejected_with_reason(raw: str, fragment: str) -> None:
    with pytest.raises(InvalidNameError, match=None) as info:
        normalize_name(raw, ZONE)
    assert fragment in str(info.value)


def test_normalize_zone_accepts_case_and_final_dot() -> None:
    assert normalize_zone("Example.TEST") == ZONE
    assert normalize_zone("example.test.") == ZONE
    with pytest.raises(InvalidNameError):
        normalize_zone("*.example.test")


def test_relative_name_and_zone_lookup() -> None:
    assert relative_name(ZONE, ZONE) == "@"
    assert relative_name("a.b.example.test.", ZONE) == "a.b"
    zones = ["test.", ZONE, "sub.example.test."]
    assert zone_for_name("x.sub.example.test.", zones) == "sub.example.test."
    assert zone_for_name("x.example.test.", zones) == ZONE
    assert zone_for_name("x.other.", zones) is None


labels = st.from_regex(r"[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,20}[a-zA-Z0-9_])?", fullmatch=True)


@given(st.lists(labels, min_size=1, max_size=5))
def test_normalisation_is_idempotent_and_case_insensitive(parts: list[str]) -> None:
    raw = ".".join(parts)
    once = normalize_name(raw, ZONE)
    assert normalize_name(once, ZONE) == once
    assert normalize_name(raw.upper(), ZONE) == once
    assert once == once.lower() and once.endswith("." + ZONE)
    assert normalize_name(relative_name(once, ZONE), ZONE) == once
