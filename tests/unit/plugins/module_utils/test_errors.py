"""shorten: every message that quotes user input stays one short line."""

from __future__ import annotations

from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import SHORT_VALUE_LIMIT, shorten


def test_short_values_are_kept_whole() -> None:
    assert shorten("192.0.2.1") == "192.0.2.1"


def test_long_value_shows_head_and_length() -> None:
    text = shorten("x" * 100_000)
    assert len(text) <= SHORT_VALUE_LIMIT
    assert text.startswith("xxxx") and "(100000 characters)" in text


def test_newlines_are_folded_so_a_value_cannot_add_lines() -> None:
    assert shorten("a\n$INCLUDE /etc/passwd") == "a $INCLUDE /etc/passwd"
