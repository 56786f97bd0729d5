"""rfc2136 provider without a server: options, and the UPDATE messages it builds (read back by dnspython)."""

from __future__ import annotations

import base64
import socket

import dns.message
import dns.rdataclass
import dns.rdatatype
import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils import dnswire, rdata
from ansible_collections.fleetdns.ddns.plugins.module_utils.config import validate
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError, ProviderError
from ansible_collections.fleetdns.ddns.plugins.module_utils.ownership import marker_value
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import Change
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import zone_provider_class
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.rfc2136 import (
    _PLAIN_NAME,
    SIG0_REFUSED,
    Rfc2136Provider,
    _encode_group,
    _size_bound,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet
from hypothesis import given
from hypothesis import strategies as st

ZONE = "example.test."
OWNER = "fleet-main"
SECRET = base64.b64encode(b"s" * 32).decode()
LIMIT = dnswire.MAX_MESSAGE


def _provider(**options: object) -> Rfc2136Provider:
    base = {"server": "192.0.2.53", "port": 53, "tsig_key_name": "fleet-admin", "tsig_algorithm": "hmac-sha256",
            "tsig_secret": SECRET, "timeout": 10}  # fmt: skip
    base.update(options)
    return Rfc2136Provider("lab", base)


def _rs(name: str, rtype: str, *values: str, ttl: int = 300) -> RecordSet:
    return RecordSet(f"{name}.{ZONE}" if name != "@" else ZONE, rtype, ttl, frozenset(values))


def _sections(message: dnswire.UpdateMessage) -> tuple[list[str], list[str]]:
    parsed = dns.message.from_wire(message.to_wire())
    prereq = [line for rrset in parsed.prerequisite for line in rrset.to_text().splitlines()]
    update = [line for rrset in parsed.update for line in rrset.to_text().splitlines()]
    return prereq, update


def _pack(changes: list[Change], limit: int = LIMIT) -> list[tuple[dnswire.UpdateMessage, list[Change]]]:
    return list(_provider()._pack(ZONE, changes, OWNER, limit))


# --------------------------------------------------------------------------- options


def test_registered_under_its_type_name() -> None:
    assert zone_provider_class("rfc2136") is Rfc2136Provider


def test_option_names_are_the_inventory_contract() -> None:
    options = Rfc2136Provider.OPTIONS
    assert {"server", "port", "tsig_key_name", "tsig_algorithm", "tsig_secret", "timeout"} <= set(options)
    assert options["server"].required
    assert options["port"].default == 53 and options["timeout"].default == 10
    assert options["tsig_algorithm"].default == "hmac-sha256"
    assert set(options["tsig_algorithm"].choices) == {
        "hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512",
    }  # fmt: skip
    assert options["tsig_secret"].secret


def test_good_options_have_no_problems() -> None:
    assert _provider().check_options() == []
    assert _provider(tsig_key_name=None, tsig_secret=None).check_options() == []  # unsigned updates


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"tsig_secret": None}, "go together"),
        ({"tsig_key_name": None}, "go together"),
        ({"tsig_secret": "not base64!"}, "not valid base64"),
        ({"tsig_key_name": "bad..name"}, "not a valid key name"),
        ({"port": 0}, "outside 1..65535"),
        ({"port": 70000}, "outside 1..65535"),
        ({"timeout": 0}, "positive"),
        ({"server": "https://ns1.example.test"}, "host name or IP address"),
    ],
)
def test_option_problems(options: dict, expected: str) -> None:
    problems = _provider(**options).check_options()
    assert len(problems) == 1 and expected in problems[0]
    assert all("not base64!" not in p for p in problems)


def test_constructor_and_checks_do_no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    provider = _provider(server="ns1.unresolvable.invalid")
    assert provider.check_options() == []


def test_inventory_validation_reports_bad_secret_without_showing_it() -> None:
    secret = "this-is-the-secret-text!"
    all_vars = {
        "fleetdns_providers": {
            "lab": {
                "type": "rfc2136",
                "server": "127.0.0.1",
                "tsig_key_name": "k",
                "tsig_secret": secret,
                "tsig_algorithm": "hmac-sha256",
            }
        },
        "fleetdns_zones": {"example.test": {"provider": "lab"}},
    }
    with pytest.raises(ConfigError) as caught:
        validate(all_vars, {})
    assert "not valid base64" in str(caught.value)
    assert secret not in str(caught.value)
    all_vars["fleetdns_providers"]["lab"]["tsig_secret"] = SECRET
    all_vars["fleetdns_providers"]["lab"]["tsig_algorithm"] = "hmac-sha3"
    with pytest.raises(ConfigError, match="hmac-sha3"):
        validate(all_vars, {})


@pytest.mark.parametrize("key", ["sig0_key", "sig0_private_key"])
@pytest.mark.parametrize("value", ["Kexample.test.+015+12345.private", {"name": "k", "file": "K.private"}])
def test_a_sig0_setting_is_refused_with_the_reason_and_tsig_as_the_way(key: str, value: object) -> None:
    """BIND 9.18.28+ and 9.20 no longer verify SIG(0) (CVE-2024-1975): asking for it is an error at the
    option, naming the reason and TSIG, never showing the value, and no other problem beside it."""
    all_vars = {
        "fleetdns_providers": {"lab": {"type": "rfc2136", "server": "127.0.0.1", key: value}},
        "fleetdns_zones": {"example.test": {"provider": "lab"}},
    }
    with pytest.raises(ConfigError) as caught:
        validate(all_vars, {})
    (problem,) = caught.value.problems
    assert problem.path == f"fleetdns_providers.lab.{key}"
    assert "SIG(0) cannot be used" in problem.message and "CVE-2024-1975" in problem.message
    assert "tsig_key_name and tsig_secret" in problem.message and "K.private" not in str(problem)
    assert Rfc2136Provider.declared_problems({key: value}) == [f"option '{key}': {SIG0_REFUSED}"]
    assert Rfc2136Provider.declared_problems({}) == []  # not set: nothing to say


# --------------------------------------------------------------------------- the messages


def test_create_pins_absence_of_data_and_marker() -> None:
    ((message, batch),) = _pack([Change("create", f"www.{ZONE}", "A", None, _rs("www", "A", "192.0.2.1"), False, True)])
    prereq, update = _sections(message)
    assert prereq == ["www.example.test. NONE A", "a.www._fleetdns.example.test. NONE TXT"]
    assert update == [
        "www.example.test. 300 IN A 192.0.2.1",
        'a.www._fleetdns.example.test. 300 IN TXT "fleetdns-owner=fleet-main"',
    ]
    assert len(batch) == 1


def test_update_pins_exact_values_and_changes_only_the_difference() -> None:
    before = _rs("www", "A", "192.0.2.1", "192.0.2.2")
    after = _rs("www", "A", "192.0.2.2", "192.0.2.3")
    ((message, _batch),) = _pack([Change("update", f"www.{ZONE}", "A", before, after, True, True)])
    prereq, update = _sections(message)
    assert prereq == [
        "www.example.test. 0 IN A 192.0.2.1",
        "www.example.test. 0 IN A 192.0.2.2",
        'a.www._fleetdns.example.test. 0 IN TXT "fleetdns-owner=fleet-main"',
    ]
    assert update == ["www.example.test. 300 IN A 192.0.2.3", "www.example.test. 0 NONE A 192.0.2.1"]


def test_ttl_change_re_adds_every_value() -> None:
    before = _rs("www", "A", "192.0.2.1", ttl=300)
    after = _rs("www", "A", "192.0.2.1", ttl=60)
    ((message, _batch),) = _pack([Change("update", f"www.{ZONE}", "A", before, after, True, True)])
    _prereq, update = _sections(message)
    assert update == ["www.example.test. 60 IN A 192.0.2.1"]


def test_type_change_at_one_name_deletes_before_it_adds_in_one_message() -> None:
    changes = [
        Change("create", f"www.{ZONE}", "CNAME", None, _rs("www", "CNAME", f"gw.{ZONE}"), False, True),
        Change("delete", f"www.{ZONE}", "A", _rs("www", "A", "192.0.2.1"), None, True, False),
    ]
    ((message, batch),) = _pack(changes)
    prereq, update = _sections(message)
    assert "www.example.test. 0 IN A 192.0.2.1" in prereq
    assert "www.example.test. NONE CNAME" in prereq
    assert update[0] == "www.example.test. ANY A"
    assert update[1] == "www.example.test. 300 IN CNAME gw.example.test."
    assert update[2:] == [
        'cname.www._fleetdns.example.test. 300 IN TXT "fleetdns-owner=fleet-main"',
        "a.www._fleetdns.example.test. ANY TXT",
    ]
    assert len(batch) == 2


def test_register_without_data_only_adds_a_marker_with_the_default_ttl() -> None:
    ((message, _batch),) = _pack([Change("register", f"gw.{ZONE}", "AAAA", None, None, False, True)])
    prereq, update = _sections(message)
    assert prereq == ["aaaa.gw._fleetdns.example.test. NONE TXT"]
    assert update == ['aaaa.gw._fleetdns.example.test. 300 IN TXT "fleetdns-owner=fleet-main"']


def test_adopt_keeps_data_and_pins_nothing_but_the_marker() -> None:
    have = _rs("mail", "A", "192.0.2.25", ttl=3600)
    ((message, _batch),) = _pack([Change("adopt", f"mail.{ZONE}", "A", have, have, False, True)])
    prereq, update = _sections(message)
    assert prereq == ["a.mail._fleetdns.example.test. NONE TXT"]
    assert update == ['a.mail._fleetdns.example.test. 3600 IN TXT "fleetdns-owner=fleet-main"']


def test_delete_pins_values_and_marker_then_removes_both() -> None:
    before = _rs("old", "MX", f"10 mx.{ZONE}")
    ((message, _batch),) = _pack([Change("delete", f"old.{ZONE}", "MX", before, None, True, False)])
    prereq, update = _sections(message)
    assert prereq == [
        "old.example.test. 0 IN MX 10 mx.example.test.",
        'mx.old._fleetdns.example.test. 0 IN TXT "fleetdns-owner=fleet-main"',
    ]
    assert update == ["old.example.test. ANY MX", "mx.old._fleetdns.example.test. ANY TXT"]


def _creates(count: int) -> list[Change]:
    return [
        Change(
            "create",
            f"host-{i:05d}.{ZONE}",
            "A",
            None,
            _rs(f"host-{i:05d}", "A", f"10.0.{i // 256}.{i % 256}"),
            False,
            True,
        )
        for i in range(count)
    ]


def test_many_changes_fill_few_messages_below_64k_with_tsig() -> None:
    provider = _provider()
    signer = provider._signer()
    assert signer is not None
    changes = _creates(3000)
    batches = list(provider._pack(ZONE, changes, OWNER, LIMIT - signer.overhead))
    sizes = [len(signer.sign(m.to_wire())[0]) for m, _batch in batches]
    assert 3 <= len(batches) <= 8
    assert all(size <= LIMIT for size in sizes)
    assert all(size > LIMIT - 300 for size in sizes[:-1])  # full before the next one starts
    assert [c for _message, batch in batches for c in batch] == changes
    added = set()
    for message, _batch in batches:
        added.update(r.name.to_text() for r in dns.message.from_wire(message.to_wire()).update if r.rdtype == 1)
    assert added == {c.name for c in changes}


def test_changes_at_one_name_never_straddle_two_messages() -> None:
    changes = []
    for i in range(400):
        name = f"n{i:03d}.{ZONE}"
        changes.append(
            Change("create", name, "A", None, RecordSet(name, "A", 60, frozenset({"192.0.2.1"})), False, True)
        )
        changes.append(Change("create", name, "TXT", None, RecordSet(name, "TXT", 60, frozenset({'"x"'})), False, True))
    batches = _pack(changes, limit=4000)
    assert len(batches) > 5
    for message, batch in batches:
        assert message.size <= 4000
        parsed = dns.message.from_wire(message.to_wire())
        data_owners = {r.name.to_text() for r in parsed.update if "_fleetdns" not in r.name.to_text()}
        assert data_owners == {c.name for c in batch}
        assert {c.name for c in batch if c.type == "A"} == {c.name for c in batch if c.type == "TXT"}


def test_a_record_set_too_large_for_one_message_is_refused_before_sending() -> None:
    values = frozenset(f'"{i:04d}' + "x" * 250 + '"' for i in range(300))
    change = Change("create", f"big.{ZONE}", "TXT", None, RecordSet(f"big.{ZONE}", "TXT", 60, values), False, True)
    with pytest.raises(ProviderError, match="more than one UPDATE message can carry"):
        _pack([change])


def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used")

    monkeypatch.setattr(socket, "create_connection", no_network)


@pytest.mark.parametrize(
    ("after", "words"),
    [
        (
            _rs("big", "TXT", rdata.normalize_value("TXT", "x" * 70_000, ZONE)),
            "more than the 65,535 one record can hold",
        ),
        (_rs("bad", "A", "300.1.2.3"), "A value 300.1.2.3 cannot be encoded"),
        (_rs("bad", "MX", "ten mail.example.test."), "MX value ten mail.example.test. cannot be encoded"),
        (_rs("bad", "TXT", '"v"', ttl=2**32), f"TTL {2**32} is outside 0..{2**32 - 1}"),
        (_rs("x" * 64, "A", "192.0.2.1"), "bad label"),
        (_rs("grüße", "A", "192.0.2.1"), "is not ASCII"),
    ],
    ids=["oversized-txt", "bad-address", "bad-mx", "ttl", "long-label", "non-ascii-name"],
)
def test_a_value_that_cannot_be_encoded_is_a_clear_error_before_anything_is_sent(
    monkeypatch: pytest.MonkeyPatch, after: RecordSet, words: str
) -> None:
    _no_network(monkeypatch)
    change = Change("create", after.name, after.type, None, after, False, True)
    with pytest.raises(ProviderError) as caught:
        _provider().apply(ZONE, [change], OWNER)
    message = str(caught.value)
    label = after.name[: -len(ZONE) - 1]
    assert message.startswith(f"zone {ZONE}: {label[:20]}") and words in message and "nothing was sent" in message
    assert len(message) < 400  # a 70,000-byte value is quoted shortened


def test_apply_without_changes_opens_no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_network(monkeypatch)
    _provider().apply(ZONE, [], OWNER)


def test_class_constants_match_dnspython() -> None:
    assert dnswire.CLASS_NONE == dns.rdataclass.NONE and dnswire.CLASS_ANY == dns.rdataclass.ANY


_labels = st.sampled_from(["www", "*.dev", "@", "a.b.c", "x" * 60, "_sip._tcp"])
_values = {
    "A": st.sampled_from(["192.0.2.1", "192.0.2.2", "198.51.100.7"]),
    "AAAA": st.sampled_from(["2001:db8::1", "::1", "2001:db8:1:2:3:4:5:6"]),
    # literal text (a value starting with a double quote is zone-file syntax, which random text is not)
    "TXT": st.text(max_size=300)
    .filter(lambda text: not text.startswith('"'))
    .map(lambda text: rdata.normalize_value("TXT", text, ZONE)),
    "MX": st.sampled_from(["10 mail.example.test.", "0 ."]),
}


@st.composite
def _groups(draw: st.DrawFn) -> list[Change]:
    name = draw(_labels)
    group = []
    for rtype in draw(st.sets(st.sampled_from(sorted(_values)), min_size=1)):
        values = st.frozensets(_values[rtype], min_size=1, max_size=4)
        before = draw(st.none() | values.map(lambda v, t=rtype: _rs(name, t, *v)))
        after = draw(st.none() | values.map(lambda v, t=rtype: _rs(name, t, *v, ttl=60)))
        owned = draw(st.tuples(st.booleans(), st.booleans()))
        group.append(Change("update", after.name if after else _rs(name, rtype).name, rtype, before, after, *owned))
    return group


@given(_groups())
def test_the_cheap_size_bound_is_never_below_the_encoded_size(group: list[Change]) -> None:
    """_pack trusts the bound to decide which groups need the exact check before anything is sent."""
    marker_rdata = dnswire.encode_rdata("TXT", marker_value(OWNER))
    message = dnswire.UpdateMessage(ZONE)
    _encode_group(message, ZONE, group, marker_rdata)
    assert _size_bound(ZONE, group, marker_rdata) >= message.size


@given(st.text(alphabet="ab-_*.\\ü\x00 ", max_size=80) | st.from_regex(r"(?:[a-z0-9_*-]{1,70}\.){1,4}", fullmatch=True))
def test_a_name_the_fast_check_passes_always_encodes(text: str) -> None:
    """_size_bound skips the label-by-label check for names _PLAIN_NAME matches: they must encode."""
    if _PLAIN_NAME(text):
        assert dnswire.name_to_wire(text)[-1:] == b"\x00"
    for name in ("www.example.test.", "*.dev.example.test.", "_sip._tcp.example.test."):
        assert _PLAIN_NAME(name)
    assert not _PLAIN_NAME(("x" * 64) + ".example.test.") and not _PLAIN_NAME("grüße.example.test.")


def test_preparing_a_change_that_cannot_be_encoded_raises_nothing_and_apply_then_reports_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _no_network(monkeypatch)
    bad = _rs("bad", "A", "300.1.2.3")
    change = Change("create", bad.name, bad.type, None, bad, False, True)
    lab = _provider()
    lab.prepare(ZONE, [change], OWNER)
    with pytest.raises(ProviderError, match="nothing was sent"):
        lab.apply(ZONE, [change], OWNER)
