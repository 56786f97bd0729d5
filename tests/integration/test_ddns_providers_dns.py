"""The update-only providers end to end with a real DNS side: each emulator publishes what it holds to
a real BIND (as a DDNS service's own name servers serve its updates), and fleetdns asks that BIND
before and after every update.

- The engine call the agent makes (provider.set_addresses with the provider's DNS lookup): create,
  unchanged (no request sent), changed, for all four services.
- The dns_record module through the real ansible-playbook, for all four services: create, a second
  run that sends no update and reports no change, check mode, a definitive refusal as one clear
  message (nothing changed); passwords, tokens and FreeDNS's account hash hidden even with -vvvv.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import provider_class
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.ddns_lookup import provider_lookup
from emulators.duckdns import DuckDnsEmulator
from emulators.dyndns2 import Dyndns2Emulator
from emulators.freedns import FreeDnsEmulator
from emulators.namecheap import NamecheapEmulator

from .playbook_runner import run_playbook

USER, PASSWORD = "owner@example.test", "NoIp-Key-Secret-0101"
TOKEN = "duck-token-secret-0202-abcdef"
NC_PASSWORD = "namecheap-ddns-secret-0303"
FREEDNS_LOGIN, FREEDNS_PASSWORD = "fleetowner", "afraid-secret-0404"
SECRETS = (PASSWORD, TOKEN, NC_PASSWORD, FREEDNS_PASSWORD)
WRONG_PASSWORD = "wrong-secret-0505-xyz"
FREEDNS_SHA = hashlib.sha1(f"{FREEDNS_LOGIN}|{FREEDNS_PASSWORD}".encode()).hexdigest()  # what FreeDNS is sent

State = Callable[[], tuple[str | None, str | None]]


def publish(bind: Any, emulator: Any, names: dict[str, State], zone: str = "example.test.") -> None:
    """After every request the emulator answers, BIND serves what it holds for `names` (TTL 60)."""
    original = emulator.answer
    published: dict[str, tuple[str | None, str | None]] = {}

    def answer(request: Any) -> Any:
        result = original(request)
        for name, read in names.items():
            state = read()
            if published.get(name, (None, None)) != state:
                script = [f"update delete {name}. A", f"update delete {name}. AAAA"]
                script += [f"update add {name}. 60 {t} {v}" for t, v in zip(("A", "AAAA"), state, strict=True) if v]
                bind.nsupdate("\n".join(script), zone=zone)
                published[name] = state
        return result

    emulator.answer = answer


def options(type_name: str, emulator: Any, bind: Any, **extra: Any) -> dict[str, Any]:
    cls = provider_class(type_name)
    assert cls is not None
    full = {k: spec.default for k, spec in cls.OPTIONS.items()}
    full.update(server=emulator.https_url, ca_bundle=emulator.ca_file, resolver=f"127.0.0.1:{bind.port}", **extra)
    return full


@pytest.fixture
def noip(tmp_path: Path, bind: Any) -> Iterator[Dyndns2Emulator]:
    with Dyndns2Emulator(tls_dir=tmp_path / "tls-noip", flavour="noip", nochg_limit=1) as emulator:
        emulator.add_account(USER, PASSWORD, hosts=["home.example.test"])
        publish(bind, emulator, {"home.example.test": lambda: emulator.address("home.example.test")})
        yield emulator


@pytest.fixture
def duck(tmp_path: Path, bind: Any) -> Iterator[DuckDnsEmulator]:
    bind.add_zone("duckdns.org.")
    with DuckDnsEmulator(tls_dir=tmp_path / "tls-duck") as emulator:
        emulator.add_account(TOKEN, ["myhome"])
        state = emulator.state("myhome")
        publish(bind, emulator, {"myhome.duckdns.org": lambda: (state.ipv4, state.ipv6)}, zone="duckdns.org.")
        yield emulator


@pytest.fixture
def afraid(tmp_path: Path, bind: Any) -> Iterator[FreeDnsEmulator]:
    with FreeDnsEmulator(tls_dir=tmp_path / "tls-afraid") as emulator:
        emulator.add_host(FREEDNS_LOGIN, FREEDNS_PASSWORD, "cam.example.test")
        publish(bind, emulator, {"cam.example.test": lambda: (emulator.address("cam.example.test"), None)})
        yield emulator


@pytest.fixture
def nc(tmp_path: Path, bind: Any) -> Iterator[NamecheapEmulator]:
    with NamecheapEmulator(tls_dir=tmp_path / "tls-nc") as emulator:
        emulator.add_domain("example.test", NC_PASSWORD, hosts=["shed"])
        publish(bind, emulator, {"shed.example.test": lambda: (emulator.address("shed", "example.test"), None)})
        yield emulator


def round_trip(type_name: str, opts: dict[str, Any], name: str, emulator: Any, counter: str = "update") -> None:
    """Create, unchanged (nothing sent), changed: the agent's engine call."""
    cls = provider_class(type_name)
    lookup = provider_lookup(opts)
    with cls(type_name, opts) as provider:
        first = provider.set_addresses(name, {"A": frozenset({"192.0.2.50"})}, lookup)
        assert first.sent and first.changed and first.verified and first.before == {"A": frozenset()}
        sent = emulator.counts[counter]
        for _run in range(3):
            again = provider.set_addresses(name, {"A": frozenset({"192.0.2.50"})}, lookup)
            assert not again.sent and not again.changed
        assert emulator.counts[counter] == sent
        moved = provider.set_addresses(name, {"A": frozenset({"192.0.2.51"})}, lookup)
        assert moved.sent and moved.verified and moved.before == {"A": frozenset({"192.0.2.50"})}
    assert lookup(name, "A") == frozenset({"192.0.2.51"})


def test_engine_round_trip_dyndns2(noip, bind) -> None:
    opts = options("dyndns2", noip, bind, username=USER, password=PASSWORD)
    round_trip("dyndns2", opts, "home.example.test.", noip)
    assert not noip.host("home.example.test").blocked  # never a repeated nochg


def test_engine_round_trip_duckdns_with_ipv6(duck, bind) -> None:
    opts = options("duckdns", duck, bind, token=TOKEN)
    round_trip("duckdns", opts, "myhome.duckdns.org.", duck)
    with provider_class("duckdns")("duck", opts) as provider:
        both = {"A": frozenset({"192.0.2.51"}), "AAAA": frozenset({"2001:db8::51"})}
        result = provider.set_addresses("myhome.duckdns.org.", both, provider_lookup(opts))
    assert result.sent and result.verified and result.before["AAAA"] == frozenset()


def test_engine_round_trip_freedns_account(afraid, bind) -> None:
    opts = options("freedns", afraid, bind, username=FREEDNS_LOGIN, password=FREEDNS_PASSWORD,
                   api_server=afraid.https_url)  # fmt: skip
    round_trip("freedns", opts, "cam.example.test.", afraid, counter="update.v1")


def test_engine_round_trip_namecheap(nc, bind) -> None:
    opts = options("namecheap", nc, bind, domain="example.test", password=NC_PASSWORD)
    round_trip("namecheap", opts, "shed.example.test.", nc)


TASK = """\
    - name: {title}
      fleetdns.ddns.dns_record:
        provider:
          type: {type}
{options}
        zone: {zone}
        name: {name}
        type: A
        value: {value}
      register: r
      ignore_errors: true
    - ansible.builtin.copy: {{content: "{{{{ {{'r': r}} | to_json }}}}", dest: "{{{{ results_file }}}}"}}
      check_mode: false
"""


def task(type_name: str, opts: dict[str, Any], zone: str, name: str, value: str) -> str:
    lines = "\n".join(f"          {k}: {v!r}" if isinstance(v, str) else f"          {k}: {v}" for k, v in opts.items())
    return TASK.format(title=f"{name} via {type_name}", type=type_name, options=lines, zone=zone, name=name,
                       value=value)  # fmt: skip


def module_options(type_name: str, emulator: Any, bind: Any, **extra: Any) -> dict[str, Any]:
    return {"server": emulator.https_url, "ca_bundle": emulator.ca_file, "resolver": f"127.0.0.1:{bind.port}", **extra}


@dataclass(frozen=True)
class ModuleCase:
    """One service through the dns_record module: its emulator fixture, the name, the options, the
    request counter that only updates move, and how it is made to refuse (a wrong secret in `refuse`
    options, or an answer injected with `inject`) with the words the user must read."""

    fixture: str
    zone: str
    name: str
    options: dict[str, str]
    counter: str
    expected: str
    inject: str | None = None
    refuse: dict[str, str] = field(default_factory=dict)


MODULE_CASES = {
    "dyndns2": ModuleCase(
        "noip", "example.test", "home", {"username": USER, "password": PASSWORD}, "update",
        "'badauth': the username or password is wrong", inject="badauth",
    ),
    "duckdns": ModuleCase("duck", "duckdns.org", "myhome", {"token": TOKEN}, "update", "DuckDNS answered KO",
                          inject="KO"),
    "freedns": ModuleCase(
        "afraid", "example.test", "cam", {"username": FREEDNS_LOGIN, "password": FREEDNS_PASSWORD}, "update.v1",
        "FreeDNS refused the account login: ERROR: Could not authenticate.",
        refuse={"password": WRONG_PASSWORD},
    ),
    "namecheap": ModuleCase(
        "nc", "example.test", "shed", {"domain": "example.test", "password": NC_PASSWORD}, "update",
        "Namecheap answered: Passwords do not match", refuse={"password": WRONG_PASSWORD},
    ),
}  # fmt: skip


@pytest.mark.parametrize("service", sorted(MODULE_CASES))
def test_dns_record_module(service: str, request: pytest.FixtureRequest, bind, tmp_path: Path) -> None:
    case = MODULE_CASES[service]
    emulator = request.getfixturevalue(case.fixture)
    extra = {"api_server": emulator.https_url} if service == "freedns" else {}
    opts = module_options(service, emulator, bind, **case.options, **extra)
    zone, name = case.zone, case.name
    first = run_playbook(tmp_path, task(service, opts, zone, name, "192.0.2.60"), "-vvvv", "--diff", name="first")
    assert first.returncode == 0, first.output[-3000:]
    result = first.results()["r"]
    assert result["changed"] is True and not result.get("failed"), result
    assert result["changes"][0]["action"] == "create" and result["changes"][0]["after"]["values"] == ["192.0.2.60"]
    assert bind.query(f"{name}.{zone}.", "A") == {"192.0.2.60"}
    sent = emulator.counts[case.counter]
    assert sent >= 1

    second = run_playbook(tmp_path, task(service, opts, zone, name, "192.0.2.60"), "-vvvv", name="second")
    assert second.results()["r"]["changed"] is False
    assert emulator.counts[case.counter] == sent  # nothing sent: DNS already had the address

    check = run_playbook(tmp_path, task(service, opts, zone, name, "192.0.2.61"), "--check", name="check")
    assert check.results()["r"]["changed"] is True
    assert emulator.counts[case.counter] == sent and bind.query(f"{name}.{zone}.", "A") == {"192.0.2.60"}

    if case.inject is not None:
        emulator.inject(kind="body", body=case.inject)
    bad = {**opts, **case.refuse}
    refused = run_playbook(tmp_path, task(service, bad, zone, name, "192.0.2.62"), "-vvvv", name="refused")
    outcome = refused.results()["r"]
    assert outcome["failed"] is True and "Traceback" not in outcome["msg"]
    assert case.expected in outcome["msg"] and "hint:" in outcome["msg"], outcome["msg"]
    assert bind.query(f"{name}.{zone}.", "A") == {"192.0.2.60"}
    for run in (first, second, check, refused):
        for secret in (*SECRETS, WRONG_PASSWORD, FREEDNS_SHA):
            assert secret not in run.output


def test_dns_record_refuses_what_an_update_only_provider_cannot_do(noip, bind, tmp_path: Path) -> None:
    opts = module_options("dyndns2", noip, bind, username=USER, password=PASSWORD)
    tasks = task("dyndns2", opts, "example.test", "home", "192.0.2.70").replace("type: A", "type: TXT")
    played = run_playbook(tmp_path, tasks, name="txt")
    message = played.results()["r"]["msg"]
    assert "the dyndns2 provider only sets the A/AAAA addresses of one name: it cannot set TXT records" in message
    assert noip.counts["total"] == 0 and PASSWORD not in played.output
