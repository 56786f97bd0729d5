"""The rfc2136 provider against a real BIND (tests/lab/bind.py): every type, ownership, races, errors.

Results are checked with queries to the server (dnspython over TCP) and with the real nsupdate
playing the other writer.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.config import validate
from ansible_collections.fleetdns.ddns.plugins.module_utils.engine import Providers, apply_plan, make_plan, select_zones
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import (
    ChangedSinceReadError,
    FleetDNSError,
    PlanConflictError,
    ProviderError,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.ownership import marker_name
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import Change, Plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.rfc2136 import Rfc2136Provider
from ansible_collections.fleetdns.ddns.plugins.module_utils.rdata import normalize_values
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet

try:
    from lab.bind import BindLab, free_port
except ImportError:  # under `ansible-test units` tests/ is part of the collection, not on sys.path
    from ansible_collections.fleetdns.ddns.tests.lab.bind import BindLab, free_port

ZONE = "example.test."
OWNER = "fleet-main"
HEX = "3f" * 32
LONG_TXT = "v=spf1 " + "include:_spf.example.net " * 12 + "-all"  # > 255 bytes: split in two strings
ODD_TXT = 'say "hi" \\o/ grüße ✓'


# --------------------------------------------------------------------------- helpers


def inventory(bind: BindLab, records: list[dict], key: str = "admin", **options: Any) -> dict:
    return {
        "fleetdns_owner": OWNER,
        "fleetdns_providers": {"lab": bind.provider_options(key, **options)},
        "fleetdns_zones": {"example.test": {"provider": "lab", "default_ttl": 300, "records": records}},
    }


def make(all_vars: dict, hosts: dict | None = None, adopt: bool = False) -> Plan:
    config = validate(all_vars, hosts or {})
    with Providers(config, ".") as providers:
        return make_plan(config, providers, select_zones(config, None), adopt=adopt)


def apply(all_vars: dict, plan: Plan, hosts: dict | None = None) -> None:
    config = validate(all_vars, hosts or {})
    with Providers(config, ".") as providers:
        result = apply_plan(plan, providers, allow_deletes=True)
    if result.error is not None:
        raise result.error


def converge(all_vars: dict, hosts: dict | None = None, adopt: bool = False) -> Plan:
    """Plan, apply, and check that a second plan is empty (idempotence)."""
    plan = make(all_vars, hosts, adopt)
    apply(all_vars, plan, hosts)
    again = make(all_vars, hosts)
    assert not again.has_changes, [c.to_dict() for z in again.zones for c in z.changes]
    return plan


def counts(plan: Plan) -> dict[str, int]:
    return {action: n for action, n in plan.counts().items() if n}


def fqdn(name: str) -> str:
    return ZONE if name == "@" else f"{name}.{ZONE}"


def canonical(rtype: str, value: Any) -> set[str]:
    return set(normalize_values(rtype, value, ZONE))


def provider(bind: BindLab, key: str = "admin", **options: Any) -> Rfc2136Provider:
    return Rfc2136Provider("lab", bind.provider_options(key, **options))


def create(name: str, rtype: str, *values: str, ttl: int = 300) -> Change:
    return Change("create", fqdn(name), rtype, None, RecordSet(fqdn(name), rtype, ttl, frozenset(values)), False, True)


def assert_one_clean_line(error: FleetDNSError, *secrets: str) -> None:
    text = str(error)
    assert "\n" not in text and "Traceback" not in text
    for secret in secrets:
        assert secret not in text and secret not in repr(error)


# --------------------------------------------------------------------------- every type


TYPE_CASES = [
    ("A", "rec", "192.0.2.1", ["192.0.2.2", "192.0.2.3"]),
    ("AAAA", "rec", "2001:db8::1", ["2001:DB8:0:0::2", "2001:db8::3"]),
    ("CNAME", "rec", "target", "other.example.net."),
    ("MX", "@", "10 mail.example.net.", ["10 mx1.example.net.", "20 mx2.example.net."]),
    ("TXT", "rec", "hello", [LONG_TXT, ODD_TXT, '"already" "quoted"']),
    ("SRV", "_sip._tcp", "10 5 5060 sip", ["20 0 5061 sip2.example.net.", "30 0 5062 sip3"]),
    ("CAA", "@", '0 issue "letsencrypt.org"', ['0 issue "pki.goog"', '128 iodef "mailto:ops@example.test"']),
    ("NS", "sub", "ns1.example.net.", ["ns2.example.net.", "ns3.example.net."]),
    ("PTR", "1.2", "host.example.net.", "other.example.net."),
    ("DNAME", "legacy", "example.net.", "example.org."),
    ("HTTPS", "svc", '1 . alpn="h2"', "1 svc.example.net. port=8443"),
    ("SVCB", "_dns", '1 dns.example.net. alpn="dot"', '2 dns2.example.net. alpn="h2,h3"'),
    ("LOC", "here", "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m", "1 0 0 S 2 0 0 W 0m"),
    ("NAPTR", "sip", '100 10 "u" "E2U+sip" "!^.*$!sip:info@example.test!" .', '200 10 "s" "SIP+D2U" "" _sip._udp'),
    ("SSHFP", "host", f"4 2 {HEX}", [f"1 2 {HEX}", f"4 2 {'ab' * 32}"]),
    ("TLSA", "_443._tcp.www", f"3 1 1 {HEX}", f"2 0 1 {'cd' * 32}"),
]


@pytest.mark.parametrize(("rtype", "name", "first", "second"), TYPE_CASES, ids=[c[0] for c in TYPE_CASES])
def test_create_change_delete_round_trip(bind: BindLab, rtype: str, name: str, first: Any, second: Any) -> None:
    owner_name = fqdn(name)
    marker = marker_name((owner_name, rtype), ZONE)
    records = [{"name": name, "type": rtype, "value": first}]
    assert counts(converge(inventory(bind, records))) == {"create": 1}
    assert bind.query(owner_name, rtype) == canonical(rtype, first)
    assert bind.query(marker, "TXT") == {f'"fleetdns-owner={OWNER}"'}

    records[0]["value"] = second
    assert counts(converge(inventory(bind, records))) == {"update": 1}
    assert bind.query(owner_name, rtype) == canonical(rtype, second)

    assert counts(converge(inventory(bind, []))) == {"delete": 1}
    assert bind.query(owner_name, rtype) == set()
    assert bind.query(marker, "TXT") == set()


def test_ds_at_a_delegation(bind: BindLab) -> None:
    records = [
        {"name": "secure", "type": "NS", "value": "ns1.example.net."},
        {"name": "secure", "type": "DS", "value": f"12345 13 2 {HEX}"},
    ]
    assert counts(converge(inventory(bind, records))) == {"create": 2}
    assert bind.query(fqdn("secure"), "DS") == canonical("DS", f"12345 13 2 {HEX}")
    records[1]["value"] = [f"12345 13 2 {HEX}", f"54321 8 2 {'ab' * 32}"]
    assert counts(converge(inventory(bind, records))) == {"update": 1}
    assert len(bind.query(fqdn("secure"), "DS")) == 2


def test_mx_to_a_name_in_the_zone_needs_its_address(bind: BindLab) -> None:
    mx = {"name": "@", "type": "MX", "value": "10 mail"}
    with pytest.raises(PlanConflictError, match="@ MX points at mail, which would have no address record"):
        make(inventory(bind, [mx]))  # the plan refuses it: nothing is sent
    assert "has no address records" not in bind.log_text()
    # sent anyway (bypassing the plan), BIND refuses it with its integrity check, not the key's policy
    with pytest.raises(ProviderError, match="REFUSED") as caught, provider(bind) as lab:
        lab.apply(ZONE, [create("@", "MX", "10 mail.example.test.")], OWNER)
    # the cause BIND logged, found by asking the server, not a list of guesses
    assert "because @ MX points at mail, which has no address record" in str(caught.value)
    assert "update-policy" not in str(caught.value) and "add an address" in caught.value.hint
    assert "has no address records" in bind.log_text()
    records = [mx, {"name": "mail", "type": "A", "value": "192.0.2.25"}]
    assert counts(converge(inventory(bind, records))) == {"create": 2}
    assert bind.query(ZONE, "MX") == {"10 mail.example.test."}


def test_ttl_only_change_is_applied(bind: BindLab) -> None:
    records = [{"name": "www", "type": "A", "value": ["192.0.2.1", "192.0.2.2"], "ttl": 300}]
    converge(inventory(bind, records))
    records[0]["ttl"] = 60
    assert counts(converge(inventory(bind, records))) == {"update": 1}
    state = provider(bind).read(ZONE, set())
    assert state.records[(fqdn("www"), "A")].ttl == 60
    assert state.records[(fqdn("www"), "A")].values == {"192.0.2.1", "192.0.2.2"}


def test_a_to_cname_at_one_name_in_one_apply(bind: BindLab) -> None:
    converge(inventory(bind, [{"name": "www", "type": "A", "value": "192.0.2.1"}]))
    plan = converge(inventory(bind, [{"name": "www", "type": "CNAME", "value": "gw"}]))
    assert counts(plan) == {"create": 1, "delete": 1}
    assert bind.query(fqdn("www"), "CNAME") == {fqdn("gw")}
    assert "www.example.test. 300 IN A" not in bind.axfr_text()
    converge(inventory(bind, [{"name": "www", "type": "A", "value": "192.0.2.9"}]))
    assert bind.query(fqdn("www"), "A") == {"192.0.2.9"}
    assert bind.query(fqdn("www"), "CNAME") == set()


def test_apex_ns_taken_over_and_replaced(bind: BindLab) -> None:
    records = [{"name": "@", "type": "NS", "value": ["ns1.example.test.", "ns2.example.net."]}]
    assert counts(converge(inventory(bind, records), adopt=True)) == {"adopt": 1}
    assert bind.query(ZONE, "NS") == {"ns1.example.test.", "ns2.example.net."}
    records[0]["value"] = ["ns3.example.net."]  # every old NS goes: adds must come before removals
    assert counts(converge(inventory(bind, records))) == {"update": 1}
    assert bind.query(ZONE, "NS") == {"ns3.example.net."}


def test_wildcard_names_and_their_markers(bind: BindLab) -> None:
    records = [{"name": "*.dev", "type": "A", "value": "192.0.2.7"}]
    converge(inventory(bind, records))
    assert bind.query("anything.dev.example.test.", "A") == {"192.0.2.7"}
    marker = marker_name((fqdn("*.dev"), "A"), ZONE)
    assert bind.query(marker, "TXT") == {f'"fleetdns-owner={OWNER}"'}
    assert "non-terminal wildcard" not in bind.log_text()
    assert counts(converge(inventory(bind, []))) == {"delete": 1}
    assert bind.query(fqdn("*.dev"), "A") == set()


def test_device_names_are_registered_and_released(bind: BindLab) -> None:
    hosts = {"host1": {"fleetdns_names": ["host1.example.test"]}}
    assert counts(converge(inventory(bind, []), hosts)) == {"register": 2}
    assert bind.query(marker_name((fqdn("host1"), "AAAA"), ZONE), "TXT") == {f'"fleetdns-owner={OWNER}"'}
    bind.nsupdate("update add host1.example.test. 60 A 192.0.2.44", key="host1key")  # the device's agent
    assert not make(inventory(bind, []), hosts).has_changes
    assert counts(converge(inventory(bind, []), {})) == {"delete": 2}
    assert bind.query(fqdn("host1"), "A") == set()
    assert bind.query(marker_name((fqdn("host1"), "A"), ZONE), "TXT") == set()


# --------------------------------------------------------------------------- ownership


def test_records_made_by_others_survive_every_apply_and_stay_out_of_plans(bind: BindLab) -> None:
    bind.nsupdate(
        "update add keep.example.test. 300 A 192.0.2.99\n"
        'update add www.example.test. 300 TXT "made by hand"\n'
        "update add www.example.test. 300 AAAA 2001:db8::99\n"
        "update add mail.example.test. 300 MX 10 mx.example.net."
    )
    before = {q: bind.query(*q) for q in (("keep.example.test.", "A"), ("www.example.test.", "TXT"),
                                          ("www.example.test.", "AAAA"), ("mail.example.test.", "MX"))}  # fmt: skip
    steps = [
        [{"name": "www", "type": "A", "value": "192.0.2.1"}, {"name": "mail", "type": "A", "value": "192.0.2.25"}],
        [{"name": "www", "type": "A", "value": ["192.0.2.1", "192.0.2.2"]}],
        [],
    ]
    for records in steps:
        plan = converge(inventory(bind, records))
        touched = {(c.name, c.type) for z in plan.zones for c in z.changes}
        assert touched <= {(fqdn("www"), "A"), (fqdn("mail"), "A")}
        assert {q: bind.query(*q) for q in before} == before


def test_a_record_set_someone_else_owns_is_not_touched(bind: BindLab) -> None:
    bind.nsupdate(
        "update add www.example.test. 300 A 192.0.2.5\n"
        'update add a.www._fleetdns.example.test. 300 TXT "fleetdns-owner=other-team"'
    )
    with pytest.raises(FleetDNSError, match="other-team"):
        make(inventory(bind, [{"name": "www", "type": "A", "value": "192.0.2.1"}]))
    assert bind.query(fqdn("www"), "A") == {"192.0.2.5"}


# --------------------------------------------------------------------------- races


def test_concurrent_change_stops_the_apply_and_keeps_the_other_writers_value(bind: BindLab) -> None:
    converge(inventory(bind, [{"name": "www", "type": "A", "value": "192.0.2.1"}]))
    wanted = inventory(bind, [{"name": "www", "type": "A", "value": "192.0.2.2"},
                              {"name": "new", "type": "A", "value": "192.0.2.3"}])  # fmt: skip
    plan = make(wanted)
    bind.nsupdate("update delete www.example.test. A\nupdate add www.example.test. 300 A 192.0.2.77")
    with pytest.raises(ChangedSinceReadError) as caught:
        apply(wanted, plan)
    assert "www A" in str(caught.value) and "re-run plan" in caught.value.hint
    assert "new A" not in str(caught.value)  # the diagnosis names what moved, not the whole batch
    assert_one_clean_line(caught.value, bind.keys["admin"].secret)
    assert bind.query(fqdn("www"), "A") == {"192.0.2.77"}
    assert bind.query(fqdn("new"), "A") == set()  # same message: nothing of it was applied


def test_concurrent_create_and_marker_removal_are_caught(bind: BindLab) -> None:
    wanted = inventory(bind, [{"name": "new", "type": "A", "value": "192.0.2.3"}])
    plan = make(wanted)
    bind.nsupdate("update add new.example.test. 300 A 192.0.2.88")
    with pytest.raises(ChangedSinceReadError, match="new A"):
        apply(wanted, plan)
    assert bind.query(fqdn("new"), "A") == {"192.0.2.88"}

    converge(inventory(bind, [{"name": "www", "type": "A", "value": "192.0.2.1"}]))
    wanted = inventory(bind, [{"name": "www", "type": "A", "value": "192.0.2.2"}])
    plan = make(wanted)
    bind.nsupdate("update delete a.www._fleetdns.example.test. TXT")  # someone disowns us meanwhile
    with pytest.raises(ChangedSinceReadError, match="www A"):
        apply(wanted, plan)
    assert bind.query(fqdn("www"), "A") == {"192.0.2.1"}


# --------------------------------------------------------------------------- batching


def _many(count: int) -> list[Change]:
    return [create(f"r{i:04d}", "A", f"10.1.{i // 256}.{i % 256}") for i in range(count)]


def test_3000_records_go_out_in_several_messages_under_64k(bind: BindLab) -> None:
    lab = provider(bind)
    done: list[tuple[int, int]] = []
    lab.apply(ZONE, _many(3000), OWNER, lambda n, total: done.append((n, total)))
    sizes = lab.sent_message_sizes
    assert 3 <= len(sizes) <= 8, sizes
    assert max(sizes) <= 65535 and min(sizes[:-1]) > 60000
    assert [total for _count, total in done] == [3000] * len(sizes) and done[-1][0] == 3000
    assert bind.log_text().count("adding an RR at 'r") == 3000
    state = lab.read(ZONE, set())
    assert sum(1 for name, rtype in state.records if name.startswith("r") and rtype == "A") == 3000
    assert sum(1 for owner in state.owners.values() if owner == OWNER) == 3000


def test_a_race_in_a_later_message_says_how_much_was_applied(bind: BindLab) -> None:
    changes = _many(3000)
    bind.nsupdate("update add r2999.example.test. 300 A 192.0.2.200")  # lands in the last message
    lab = provider(bind)
    with pytest.raises(ChangedSinceReadError) as caught:
        lab.apply(ZONE, changes, OWNER)
    sent = len(lab.sent_message_sizes)
    assert sent >= 3
    assert f"{sent - 1} update message(s) before it (" in str(caught.value)
    assert " of 3000 change(s)) had been applied; this one and the rest were not" in str(caught.value)
    assert "r2999 A" in str(caught.value)
    assert bind.query(fqdn("r0000"), "A") == {"10.1.0.0"}  # earlier messages went through
    assert bind.query(fqdn("r2998"), "A") == set()  # the failing message changed nothing
    assert bind.query(fqdn("r2999"), "A") == {"192.0.2.200"}


# --------------------------------------------------------------------------- refused transfers


def test_refused_transfer_falls_back_to_queries(bind: BindLab) -> None:
    records = [
        {"name": "www", "type": "A", "value": "192.0.2.1"},
        {"name": "@", "type": "MX", "value": "10 mx.example.net."},
    ]
    plan = converge(inventory(bind, records, key="noxfr"))
    assert counts(plan) == {"create": 2}
    assert any("AXFR refused" in note for note in plan.zones[0].notes)
    assert bind.query(fqdn("www"), "A") == {"192.0.2.1"}
    records[0]["value"] = "192.0.2.2"
    assert counts(converge(inventory(bind, records, key="noxfr"))) == {"update": 1}
    state = provider(bind, "noxfr").read(ZONE, {(fqdn("www"), "A"), (fqdn("nothing"), "A")})
    assert not state.complete
    assert state.records == {(fqdn("www"), "A"): RecordSet(fqdn("www"), "A", 300, frozenset({"192.0.2.2"}))}
    assert state.owners == {(fqdn("www"), "A"): OWNER}
    # what left the inventory cannot be found without a transfer: no delete is planned
    assert not make(inventory(bind, records[:1], key="noxfr")).has_changes


def test_fallback_read_sees_a_cname_in_the_way_and_a_delegation(bind: BindLab) -> None:
    bind.nsupdate("update add www.example.test. 300 CNAME gw.example.test.\n"
                  "update add sub.example.test. 300 NS ns1.example.net.")  # fmt: skip
    state = provider(bind, "noxfr").read(ZONE, {(fqdn("www"), "A"), (fqdn("sub"), "NS")})
    assert state.records[(fqdn("www"), "CNAME")].values == {fqdn("gw")}
    assert state.records[(fqdn("sub"), "NS")].values == {"ns1.example.net."}


# --------------------------------------------------------------------------- errors


def test_wrong_secret_is_one_clear_line(bind: BindLab) -> None:
    wrong = "c2VjcmV0LXRoYXQtaXMtd3JvbmctYW5kLWxvbmctZW5vdWdoAA=="
    for action in ("read", "apply"):
        lab = provider(bind, tsig_secret=wrong)
        with pytest.raises(ProviderError) as caught:
            lab.read(ZONE, set()) if action == "read" else lab.apply(ZONE, [create("www", "A", "192.0.2.1")], OWNER)
        assert "BADSIG" in str(caught.value) and "check tsig_secret" in caught.value.hint
        assert_one_clean_line(caught.value, wrong, bind.keys["admin"].secret)
    assert bind.query(fqdn("www"), "A") == set()


def test_unknown_key_is_one_clear_line(bind: BindLab) -> None:
    with pytest.raises(ProviderError) as caught:
        make(inventory(bind, [], tsig_key_name="nobody"))
    assert "BADKEY" in str(caught.value) and "'nobody'" in str(caught.value)
    assert_one_clean_line(caught.value, bind.keys["admin"].secret)


def test_refused_update_names_the_key_and_the_policy(bind: BindLab) -> None:
    lab = provider(bind, "host1key")
    lab.apply(ZONE, [], OWNER)
    with pytest.raises(ProviderError) as caught:
        lab.apply(ZONE, [create("host2", "A", "192.0.2.2")], OWNER)
    text = str(caught.value)
    assert "REFUSED" in text and "'host1key'" in text and "host2 A" in text and "update-policy" in caught.value.hint
    assert "does not grant TSIG key 'host1key' these changes" in text and "MX" not in text  # no guessing
    assert "rejected by secure update" in bind.log_text()  # what BIND logged, as the message says
    assert_one_clean_line(caught.value, bind.keys["host1key"].secret)
    assert bind.query(fqdn("host2"), "A") == set()


def test_unknown_zone_is_one_clear_line(bind: BindLab) -> None:
    with pytest.raises(ProviderError, match=r"does not serve zone nothere\.test\.") as caught:
        provider(bind).read("nothere.test.", set())
    assert_one_clean_line(caught.value, bind.keys["admin"].secret)
    elsewhere = RecordSet("a.nothere.test.", "A", 60, frozenset({"192.0.2.1"}))
    with pytest.raises(ProviderError, match="NOTAUTH"):
        provider(bind).apply(
            "nothere.test.", [Change("create", elsewhere.name, "A", None, elsewhere, False, True)], OWNER
        )


def test_unreachable_port_is_one_clear_line(bind: BindLab) -> None:
    with pytest.raises(ProviderError, match="connection refused") as caught:
        make(inventory(bind, [], port=free_port()))
    assert_one_clean_line(caught.value, bind.keys["admin"].secret)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        stop = threading.Event()
        accepted: list[socket.socket] = []

        def accept() -> None:
            listener.settimeout(0.1)
            while not stop.is_set():
                try:
                    accepted.append(listener.accept()[0])
                except OSError:
                    continue

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        yield listener.getsockname()[1]
        stop.set()
        thread.join(2)
        for conn in accepted:
            conn.close()


def test_timeout_is_one_clear_line(bind: BindLab, silent_server: int) -> None:
    lab = provider(bind, port=silent_server, timeout=0.5)
    for action in (lambda: lab.read(ZONE, set()), lambda: lab.apply(ZONE, [create("www", "A", "192.0.2.1")], OWNER)):
        with pytest.raises(ProviderError, match=r"no answer within 0.5 s") as caught:
            action()
        assert_one_clean_line(caught.value, bind.keys["admin"].secret)


def test_md5_keys_work_with_a_warning() -> None:
    with BindLab(algorithm="hmac-md5") as lab:
        all_vars = inventory(lab, [{"name": "www", "type": "A", "value": "192.0.2.1"}])
        plan = converge(all_vars)
        assert any("hmac-md5" in note and "deprecated" in note for note in plan.zones[0].notes)
        assert lab.query(fqdn("www"), "A") == {"192.0.2.1"}


def test_lab_serves_added_zones_with_the_same_keys(bind: BindLab) -> None:
    """The lab API other tests rely on: add_zone, nsupdate per key, axfr_text."""
    bind.add_zone("other.test")
    lab = provider(bind)
    lab.apply("other.test.", [Change("create", "www.other.test.", "A", None,
              RecordSet("www.other.test.", "A", 60, frozenset({"192.0.2.8"})), False, True)], OWNER)  # fmt: skip
    assert bind.query("www.other.test.", "A") == {"192.0.2.8"}
    assert "www.other.test. 60 IN A 192.0.2.8" in bind.axfr_text("other.test.")
    assert (
        bind.nsupdate("update add host1.other.test. 60 A 192.0.2.9", key="host1key", zone="other.test.").returncode == 0
    )
    assert bind.nsupdate("update add host2.example.test. 60 A 192.0.2.9", key="host1key", check=False).returncode != 0


class _CuttingProxy:
    """Forwards TCP to BIND but hangs up after passing `answers` DNS messages back to the client."""

    def __init__(self, bind: BindLab, answers: int) -> None:
        self._target = (bind.host, bind.port)
        self._answers = answers
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        client, _address = self._listener.accept()
        with client, socket.create_connection(self._target) as server:
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            buffer = b""
            passed = 0
            while passed < self._answers:
                chunk = server.recv(65536)
                if not chunk:
                    return
                buffer += chunk
                while (
                    len(buffer) >= 2 and len(buffer) >= 2 + int.from_bytes(buffer[:2], "big") and passed < self._answers
                ):
                    size = 2 + int.from_bytes(buffer[:2], "big")
                    client.sendall(buffer[:size])
                    buffer = buffer[size:]
                    passed += 1
            client.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass

    def close(self) -> None:
        self._listener.close()
        self._thread.join(5)


def test_connection_lost_mid_apply_says_what_was_applied(bind: BindLab) -> None:
    proxy = _CuttingProxy(bind, answers=1)
    try:
        lab = provider(bind, port=proxy.port)
        with pytest.raises(ProviderError) as caught:
            lab.apply(ZONE, _many(3000), OWNER)
    finally:
        proxy.close()
    text = str(caught.value)
    assert "closed the connection while sending update message 2 (the 1 before it" in text
    assert "the 1 before it" in text and "re-run plan" in text
    assert_one_clean_line(caught.value, bind.keys["admin"].secret)
    assert bind.query(fqdn("r0000"), "A") == {"10.1.0.0"}


# --------------------------------------------------------------------------- the next zone prepared


def _zone_creates(zone: str, count: int, third: int) -> list[Change]:
    sets = [RecordSet(f"h{i}.{zone}", "A", 60, frozenset({f"10.9.{third}.{i}"})) for i in range(count)]
    return [Change("create", rs.name, "A", None, rs, False, True) for rs in sets]


def test_the_next_zone_is_prepared_while_the_server_applies_and_is_sent_as_prepared(
    bind: BindLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    for zone in ("first.test", "second.test"):
        bind.add_zone(zone)
    lab = provider(bind)
    first, second = _zone_creates("first.test.", 5, 1), _zone_creates("second.test.", 5, 2)
    packed: list[str] = []
    pack = Rfc2136Provider._pack
    monkeypatch.setattr(
        Rfc2136Provider, "_pack", lambda self, zone, *rest: packed.append(zone) or pack(self, zone, *rest)
    )
    sent_before_meanwhile: list[int] = []

    def meanwhile() -> None:
        sent_before_meanwhile.append(len(lab.sent_message_sizes))  # the first zone's update is out
        lab.prepare("second.test.", second, OWNER)

    lab.apply("first.test.", first, OWNER, meanwhile=meanwhile)
    lab.apply("second.test.", second, OWNER)
    assert sent_before_meanwhile == [1]
    assert packed == ["first.test.", "second.test."]  # the second zone was encoded once, ahead of its apply
    assert bind.query("h4.first.test.", "A") == {"10.9.1.4"} and bind.query("h4.second.test.", "A") == {"10.9.2.4"}


def test_a_preparation_for_other_changes_is_not_used(bind: BindLab) -> None:
    bind.add_zone("second.test")
    lab = provider(bind)
    lab.prepare("second.test.", _zone_creates("second.test.", 3, 7), OWNER)
    lab.apply("second.test.", _zone_creates("second.test.", 2, 8), OWNER)
    assert bind.query("h0.second.test.", "A") == {"10.9.8.0"} and bind.query("h2.second.test.", "A") == set()


def test_apply_plan_prepares_each_next_zone_during_the_previous_apply(
    bind: BindLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    zones = ["one.test", "two.test", "three.test"]
    for zone in zones:
        bind.add_zone(zone)
    all_vars = inventory(bind, [])
    all_vars["fleetdns_zones"] = {
        zone: {"provider": "lab", "default_ttl": 300, "records": [{"name": "www", "type": "A", "value": "192.0.2.1"}]}
        for zone in zones
    }
    events: list[str] = []
    for name in ("apply", "prepare"):
        original = getattr(Rfc2136Provider, name)
        monkeypatch.setattr(
            Rfc2136Provider,
            name,
            lambda self, zone, *rest, _name=name, _original=original, **kw: (
                events.append(f"{_name} {zone}") or _original(self, zone, *rest, **kw)
            ),
        )
    plan = make(all_vars)
    apply(all_vars, plan)
    assert events == [
        "apply one.test.", "prepare two.test.", "apply two.test.", "prepare three.test.", "apply three.test.",
    ]  # fmt: skip
    assert all(bind.query(f"www.{zone}.", "A") == {"192.0.2.1"} for zone in zones)


def test_the_next_zone_of_another_server_is_sent_while_the_first_server_answers(
    bind: BindLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = BindLab("four.test.")
    try:
        bind.add_zone("three.test")
        other.add_zone("two.test")
        all_vars = inventory(bind, [])
        all_vars["fleetdns_providers"]["other"] = other.provider_options()
        zones = {"one.test": "lab", "two.test": "other", "three.test": "lab", "four.test": "other"}
        bind.add_zone("one.test")
        www = [{"name": "www", "type": "A", "value": "192.0.2.1"}]
        all_vars["fleetdns_zones"] = {z: {"provider": p, "default_ttl": 300, "records": www} for z, p in zones.items()}
        events: list[str] = []
        original = Rfc2136Provider.apply

        def logged(self: Rfc2136Provider, zone: str, *rest: Any, **kw: Any) -> None:
            events.append(f"start {zone}")
            original(self, zone, *rest, **kw)
            events.append(f"end {zone}")

        monkeypatch.setattr(Rfc2136Provider, "apply", logged)
        config = validate(all_vars, {})
        with Providers(config, ".") as providers:
            plan = make_plan(config, providers, select_zones(config, None))
            result = apply_plan(plan, providers)
        assert [z.zone for z in result.applied] == ["one.test.", "two.test.", "three.test.", "four.test."]
        assert events == [
            "start one.test.", "start two.test.", "end two.test.", "end one.test.",
            "start three.test.", "start four.test.", "end four.test.", "end three.test.",
        ]  # fmt: skip
        for zone, provider_name in zones.items():
            assert (bind if provider_name == "lab" else other).query(f"www.{zone}.", "A") == {"192.0.2.1"}
    finally:
        other.stop()


def test_time_spent_on_the_next_zone_does_not_count_against_the_deadline(bind: BindLab) -> None:
    lab = provider(bind, deadline=1)
    lab.apply(ZONE, [create("slow", "A", "192.0.2.9")], OWNER, meanwhile=lambda: threading.Event().wait(1.5))
    assert bind.query(fqdn("slow"), "A") == {"192.0.2.9"}


def test_a_crash_in_the_zone_sent_alongside_is_not_taken_for_the_first_zones_network_error(
    bind: BindLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = BindLab("two.test.")
    try:
        bind.add_zone("one.test")
        all_vars = inventory(bind, [])
        all_vars["fleetdns_providers"]["other"] = other.provider_options()
        www = [{"name": "www", "type": "A", "value": "192.0.2.1"}]
        all_vars["fleetdns_zones"] = {
            "one.test": {"provider": "lab", "records": www},
            "two.test": {"provider": "other", "records": www},
        }
        original = Rfc2136Provider.apply

        def crashing(self: Rfc2136Provider, zone: str, *rest: Any, **kw: Any) -> None:
            if zone == "two.test.":
                raise OSError("a bug in the second zone's code")
            original(self, zone, *rest, **kw)

        monkeypatch.setattr(Rfc2136Provider, "apply", crashing)
        config = validate(all_vars, {})
        with Providers(config, ".") as providers:
            plan = make_plan(config, providers, select_zones(config, None))
            with pytest.raises(OSError, match="a bug in the second zone's code"):
                apply_plan(plan, providers)
        assert bind.query("www.one.test.", "A") == {"192.0.2.1"}  # the first zone's answer was still read
    finally:
        other.stop()


def test_a_rejected_update_is_still_called_a_change_since_the_plan_when_the_server_has_hung_up(
    bind: BindLab,
) -> None:
    """The queries that explain a rejection run on the apply's connection; the server may have closed
    it meanwhile (it sat idle while another zone was applied): the rejection is still named."""
    bind.nsupdate("update add www.example.test. 300 A 192.0.2.77")  # written after the plan was made
    proxy = _CuttingProxy(bind, answers=1)  # hangs up right after the UPDATE's answer
    try:
        with pytest.raises(ChangedSinceReadError, match="changed since plan"):
            provider(bind, port=proxy.port).apply(ZONE, [create("www", "A", "192.0.2.1")], OWNER)
    finally:
        proxy.close()
    assert bind.query(fqdn("www"), "A") == {"192.0.2.77"}


def test_a_failing_preparation_of_the_next_zone_does_not_fail_the_zone_that_waits(
    bind: BindLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    bind.add_zone("next.test")
    all_vars = inventory(bind, [{"name": "www", "type": "A", "value": "192.0.2.1"}])
    www = {"name": "www", "type": "A", "value": "192.0.2.2"}
    all_vars["fleetdns_zones"]["next.test"] = {"provider": "lab", "records": [www]}

    def broken(*_args: Any) -> None:
        raise OSError("a bug in prepare")

    monkeypatch.setattr(Rfc2136Provider, "prepare", broken)
    plan = make(all_vars)
    apply(all_vars, plan)  # raises the first zone failure, if any
    assert bind.query(fqdn("www"), "A") == {"192.0.2.1"} and bind.query("www.next.test.", "A") == {"192.0.2.2"}
