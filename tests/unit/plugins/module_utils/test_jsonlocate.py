from __future__ import annotations

import json

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.jsonlocate import JsonSyntaxError, parse

TEXT = """{
  "names": [
    {"name": "gw.example.com",
     "ttl": 60}
  ],
  "n": -1.5e2, "t": true, "f": false, "z": null, "s": "a\\u00e9\\n"
}
"""


def test_values_equal_json_loads() -> None:
    assert parse(TEXT).data == json.loads(TEXT)


def test_values_and_keys_are_located() -> None:
    located = parse(TEXT, "agent.json")
    entry = located.data["names"][0]
    assert str(located(entry, "ttl")) == "agent.json:4:13"
    assert str(located.key(entry, "ttl")) == "agent.json:4:6"
    assert str(located(located.data["names"], 0)) == "agent.json:3:5"
    assert str(located(entry, None)) == "agent.json:3:5"
    assert str(located(entry, "missing")) == "agent.json:3:5"  # the object that lacks it


def test_an_alias_is_located_like_its_original() -> None:
    located = parse(TEXT)
    entry = located.data["names"][0]
    copy = {"ttl": entry["ttl"]}
    located.alias(copy, entry)
    assert located(copy, "ttl") == located(entry, "ttl")


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        ('{"a": 1,}', "trailing comma", "1:9"),
        ('{"a": 1, "a": 2}', "appears twice", "1:10"),
        ("{\n  'a': 1}", "double quotes", "2:3"),
        ('{"a": 1} x', "extra text", "1:10"),
        ('{"a" 1}', "expected ':'", "1:6"),
        ("[1 2]", "expected ','", "1:4"),
        ('{"a": nope}', "expected a value", "1:7"),
        ('{"a": "open', "unterminated string", "1:7"),
        ("[" * 100 + "]" * 100, "nested more than", "1:66"),
    ],
)
def test_syntax_errors_are_located(text: str, message: str, where: str) -> None:
    with pytest.raises(JsonSyntaxError) as caught:
        parse(text, "f.json")
    assert message in caught.value.message
    assert str(caught.value.location) == f"f.json:{where}"
