"""limits: DNS's size limits and a provider's own, each exactly at its edge."""

from __future__ import annotations

import dns.name
import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.limits import (
    MAX_MESSAGE,
    MESSAGE_RESERVE,
    NO_LIMITS,
    ProviderLimits,
    marker_problem,
    name_problem,
    name_wire_length,
    record_set_problems,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.ownership import marker_name
from ansible_collections.fleetdns.ddns.plugins.module_utils.rdata import normalize_value
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet

ZONE = "example.test."


def txt(name: str, *texts: str) -> RecordSet:
    return RecordSet(f"{name}.{ZONE}", "TXT", 300, frozenset(normalize_value("TXT", t, ZONE) for t in texts))


def long_name(octets: int) -> str:
    """An absolute name in ZONE of exactly `octets` octets on the wire."""
    room = octets - name_wire_length(ZONE)  # octets left for the labels in front of the zone
    labels = []
    while room > 0:
        size = min(63, room - 1)
        if room - (size + 1) == 1:  # would leave room for an empty label only
            size -= 1
        labels.append("a" * size)
        room -= size + 1
    name = ".".join(labels) + "." + ZONE
    assert name_wire_length(name) == octets, (room, name)
    return name


@pytest.mark.parametrize("name", ["example.test.", ".", "a.b.", long_name(255), "\\097b.example.test."])
def test_wire_length_is_dnspythons(name: str) -> None:
    assert name_wire_length(name) == len(dns.name.from_text(name).to_wire())


def test_a_name_of_255_octets_passes_and_256_does_not() -> None:
    assert name_problem(long_name(255)) is None
    problem = name_problem(long_name(255)[: -len(ZONE)] + "b" + ZONE)  # one octet more
    assert problem is not None and "256 octets on the wire, more than the 255" in problem
    assert "shorten it by 1 characters" in problem
    assert "label of 64 characters" in name_problem("a" * 64 + "." + ZONE)


def test_the_marker_name_of_a_long_name_is_checked() -> None:
    # "aaaa." and "_fleetdns." make the marker 15 octets longer than the name
    assert name_wire_length(marker_name((long_name(240), "AAAA"), ZONE)) == 255
    assert marker_problem(long_name(240), "AAAA", ZONE) is None
    name = long_name(241)
    assert name_problem(name) is None
    problem = marker_problem(name, "AAAA", ZONE)
    assert problem is not None and "would be 256 octets" in problem and "shorten the name by 1 characters" in problem


def test_rdata_over_65535_bytes_is_refused() -> None:
    fits = txt("big", "x" * 60_000)
    assert record_set_problems(fits, ZONE, NO_LIMITS) == []
    # 65,536 bytes: 256 strings of 255 bytes, each with its length byte
    [problem] = record_set_problems(txt("big", "x" * 256 * 255), ZONE, NO_LIMITS)
    assert "65,536 bytes on the wire, more than the 65,535 one record can hold" in problem
    too_big = txt("big", "x" * 200_000)
    [problem] = record_set_problems(too_big, ZONE, NO_LIMITS)
    assert "200,785 bytes on the wire, more than the 65,535 one record can hold" in problem
    assert len(problem) < 300


def test_a_record_set_must_fit_one_message() -> None:
    values = ["x" * 22_000, "y" * 22_000, "z" * 22_000]
    [problem] = record_set_problems(txt("big", *values), ZONE, NO_LIMITS)
    assert f"fit one DNS message of {MAX_MESSAGE:,} bytes" in problem and f"{MESSAGE_RESERVE:,} bytes kept" in problem
    assert record_set_problems(txt("big", *values[:2]), ZONE, NO_LIMITS) == []


def test_a_provider_declares_tighter_limits() -> None:
    limits = ProviderLimits(record_wire=4096, rrset_content=8192)
    one = txt("t", "x" * 4000)
    assert record_set_problems(one, ZONE, limits, "the cloudflare provider 'cf'") == []
    [problem] = record_set_problems(txt("t", "x" * 4100), ZONE, limits, "the cloudflare provider 'cf'")
    assert "makes a record of" in problem and "the cloudflare provider 'cf' takes at most 4,096" in problem
    [problem] = record_set_problems(txt("t", "x" * 3000, "y" * 3000, "z" * 3000), ZONE, limits, "cf")
    assert "characters together; cf takes at most 8,192 per record set" in problem
    assert record_set_problems(txt("t", "x" * 3000, "y" * 3000, "z" * 3000), ZONE, NO_LIMITS) == []
