"""The ddclient.conf reader follows ddclient 3.10's parser; the ddns client's JSON and INI forms."""

from __future__ import annotations

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import FleetDNSError

from fleetdns.migrate_sources import read_ddclient, read_ddns


def entries(text: str) -> list[tuple[str, str, dict]]:
    return [(e.name, e.service, e.settings) for e in read_ddclient(text, "c.conf").entries]


def test_globals_accumulate_and_apply_to_later_hosts_only() -> None:
    found = entries("protocol=dyndns2\nlogin=a\npassword=p1\none.example.test\nlogin=b\ntwo.example.test\n")
    assert [(n, s["login"], s["password"]) for n, _p, s in found] == [
        ("one.example.test", "a", "p1"), ("two.example.test", "b", "p1"),
    ]  # fmt: skip


def test_comma_joined_continued_and_the_old_host_login_password_form() -> None:
    text = (
        "protocol=namecheap, \\\n  server=x.test,\\\nlogin=ignored  h1.example.test,h2.example.test dom.test secret\n"
    )
    found = entries(text)
    assert [n for n, _p, _s in found] == ["h1.example.test", "h2.example.test"]
    assert found[0][2]["login"] == "dom.test" and found[0][2]["password"] == "secret"
    assert found[0][2]["server"] == "x.test"


def test_quotes_escapes_and_the_password_rule() -> None:
    found = entries("protocol=dyndns2, login=a\\ b, server='s p', password='x y # z' h.example.test\n")
    settings = found[0][2]
    assert settings["login"] == "a b" and settings["server"] == "s p" and settings["password"] == "x y # z"


def test_host_as_an_option_and_protocol_case() -> None:
    found = entries("protocol=DuckDNS, password=t, host=mine\n")
    assert found[0][0] == "mine" and found[0][1] == "DuckDNS"


def test_a_comment_after_the_backslash_ends_the_continuation_as_in_ddclient() -> None:
    # "login=x, \ # note": the comment goes, whitespace stays after the \, so no continuation: the
    # \ is read as a host of its own, and the next line is a new entry without login=x
    found = entries("protocol=dyndns2, login=x,  \\ # note\npassword=p h.example.test\n")
    assert [n for n, _p, _s in found] == ["\\", "h.example.test"]
    assert "login" not in found[1][2] and found[1][2]["password"] == "p"


def test_a_file_ending_inside_a_continuation_is_reported() -> None:
    setup = read_ddclient("protocol=dyndns2 h.example.test\nlogin=x \\", "c.conf")
    assert "ends inside a continuation line" in setup.untranslated[0]


def test_running_options_are_listed_with_their_line() -> None:
    setup = read_ddclient("daemon=10m\n\nmail=root\nuse=ip, ip=8.8.8.8\nprotocol=dyndns2 h.example.test\n", "c.conf")
    assert setup.interval == 600 and setup.detect == {"ipv4": {"static": "8.8.8.8"}, "ipv6": False}
    assert setup.untranslated == [
        "c.conf:3: mail=root: not translated (use the agent's `webhook` to be told of updates and failures)"
    ]


def test_no_host_is_an_error() -> None:
    with pytest.raises(FleetDNSError, match="no host to update"):
        read_ddclient("# nothing\ndaemon=300\n", "c.conf")


def test_ddns_json_single_and_comments() -> None:
    setup = read_ddns(
        '// mine\n{"dns": "noip", "id": "u", "token": "t", "ipv4": "a.test,b.test", '
        '"index4": "url:https://ip.test/", "interval": 10}',
        "d.json",
    )
    assert [(e.name, e.service, e.settings["family"]) for e in setup.entries] == [
        ("a.test", "noip", "ipv4"),
        ("b.test", "noip", "ipv4"),
    ]
    assert setup.detect == {
        "ipv4": {"sources": [{"name": "ddns-url", "type": "http", "url": "https://ip.test/", "format": "plain"}]},
        "ipv6": False,
    }
    assert setup.interval == 600


def test_ddns_ini() -> None:
    setup = read_ddns(
        "[Settings]\ncheck_interval=120\n[a]\nprovider=noip\nusername=u\npassword=p\ndomain=x.test y.test\n", "d.ini"
    )
    assert [e.name for e in setup.entries] == ["x.test", "y.test"] and setup.interval == 120
    with pytest.raises(FleetDNSError, match="not a valid INI file"):
        read_ddns("no section here = 1\n", "d.ini")
