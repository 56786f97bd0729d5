"""The agent against the DDNS emulators, each with its own real BIND as the service's authoritative
servers, and against echo sources on loopback that the test makes lie, disagree or answer a private
address.

DuckDNS (both families in one request, `KO` stopping it) has a test of its own. One name
(`home.example.test`) is kept through two services at once (redundancy): a No-IP-like
dyndns2 service publishing to one BIND and a Dyn-like one publishing to another. The agent asks
each service's BIND before and after an update; the emulators count the update requests.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent import (
    BACKING_OFF,
    FAILED,
    SKIPPED,
    STOPPED,
    UNCHANGED,
    UPDATED,
    Agent,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import load_agent_config
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.ddns_http import DdnsClient
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.agent_fakes import write_config
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.public_ip_fakes import (
    DnsBehaviour,
    DnsResponder,
    EchoServer,
)
from emulators.duckdns import DuckDnsEmulator
from emulators.dyndns2 import Dyndns2Emulator

from .test_ddns_providers_dns import publish

try:
    from lab.bind import BindLab
except ImportError:  # under `ansible-test units` tests/ is part of the collection
    from ansible_collections.fleetdns.ddns.tests.lab.bind import BindLab

NAME = "home.example.test"
USER = "owner@example.test"
PASSWORDS = {"noip": "NoIp-Agent-Secret-7171", "dyn": "Dyn-Agent-Secret-7272"}
PUBLIC, MOVED = "8.8.4.4", "9.9.9.9"


class Service:
    """One dyndns2 emulator publishing what it holds to its own BIND."""

    def __init__(self, tmp_path: Path, flavour: str) -> None:
        self.flavour = flavour
        self.bind = BindLab()
        self.emulator = Dyndns2Emulator(tls_dir=tmp_path / f"tls-{flavour}", flavour=flavour)
        self.emulator.start()
        self.emulator.add_account(USER, PASSWORDS[flavour], hosts=[NAME])
        publish(self.bind, self.emulator, {NAME: lambda: self.emulator.address(NAME)})

    def provider(self, **extra: Any) -> dict[str, Any]:
        options = {
            "type": "dyndns2",
            "server": self.emulator.https_url,
            "ca_bundle": self.emulator.ca_file,
            "username": USER,
            "password": PASSWORDS[self.flavour],
            "timeout": 2,
            "deadline": 3,
            "verify_servers": [f"127.0.0.1:{self.bind.port}"],
        }
        options.update(extra)
        return options

    @property
    def updates(self) -> int:
        return self.emulator.counts["update"]

    def close(self) -> None:
        self.emulator.stop()
        self.bind.stop()


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Service]]:
    monkeypatch.setattr(DdnsClient, "BACKOFF", 0.05)  # the provider's own retries, not the agent's backoff
    started: dict[str, Service] = {}
    try:
        for flavour in ("noip", "dyn"):
            started[flavour] = Service(tmp_path, flavour)
        yield started
    finally:
        for service in started.values():
            service.close()


class Run:
    """Passes of an agent over a config file, with a settable clock (backoff without waiting)."""

    def __init__(self, tmp_path: Path, data: dict[str, Any]) -> None:
        self.tmp_path = tmp_path
        self.now = time.time()
        self.lines: list[str] = []
        self.write(data)

    def write(self, data: dict[str, Any]) -> None:
        data = {"verify_deadline": 5, "verify_interval": 0.1, **data}
        self.agent = Agent(load_agent_config(write_config(self.tmp_path, data)), self.lines.append, clock=self.clock)

    def clock(self) -> float:
        return self.now

    def once(self) -> dict[str, tuple[str, str]]:
        self.lines.clear()
        return {o.provider: (o.status, o.message) for o in self.agent.run_once().outcomes}

    def statuses(self) -> dict[str, str]:
        return {provider: status for provider, (status, _m) in self.once().items()}


def config(services: dict[str, Service], detect: dict[str, Any], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "names": [{"name": NAME, "providers": list(services)}],
        "providers": {flavour: service.provider() for flavour, service in services.items()},
        "detect": {"ipv4": detect, "ipv6": False},
    }
    data.update(extra)
    return data


def echo_sources(servers: list, *bodies: str) -> list[dict[str, Any]]:
    sources = []
    for index, body in enumerate(bodies):
        echo = EchoServer(body + "\n")
        servers.append(echo)
        sources.append({"name": f"echo{index}", "type": "http", "url": echo.url, "families": ["ipv4"]})
    return sources


def test_the_majority_of_echo_and_dns_sources_is_published_through_both_services(
    tmp_path: Path, services: dict[str, Service], servers: list
) -> None:
    """Two HTTP echoes and a DNS source agree, one echo lies: the majority is published, verified."""
    dns_source = DnsResponder(DnsBehaviour([PUBLIC]))
    servers.append(dns_source)
    dns_entry = {"name": "dns", "type": "dns", "server": "127.0.0.1", "port": dns_source.port, "qname": "myip.test"}
    sources = [*echo_sources(servers, PUBLIC, "203.0.113.99", PUBLIC), dns_entry]
    run = Run(tmp_path, config(services, {"sources": sources}))
    assert run.statuses() == {"noip": UPDATED, "dyn": UPDATED}
    assert f"detected IPv4 {PUBLIC} (sources echo0,echo1,echo2,dns)" in run.lines
    for service in services.values():
        assert service.emulator.address(NAME) == (PUBLIC, None)
        assert service.bind.query(NAME, "A") == {PUBLIC}
    assert len(dns_source.queries) == 1
    assert run.statuses() == {"noip": UNCHANGED, "dyn": UNCHANGED}  # nothing sent: no `nochg` abuse
    assert services["noip"].updates == services["dyn"].updates == 1


@pytest.mark.parametrize(
    ("bodies", "why"),
    [
        ((PUBLIC, MOVED, "1.1.1.1"), "do not agree"),  # disagreeing sources
        (("10.1.2.3", "10.1.2.3", PUBLIC), "10.1.2.3 is a private address"),  # a NAT'd source majority
        (("100.64.7.7", "100.64.7.7", "100.64.7.7"), "carrier-grade NAT"),
        (("<html>oops</html>", "not an address", "999.1.1.1"), "no source answered"),  # garbage
    ],
)
def test_sources_that_lie_disagree_or_answer_a_private_address_publish_nothing(
    tmp_path: Path, services: dict[str, Service], servers: list, bodies: tuple[str, ...], why: str
) -> None:
    run = Run(tmp_path, config(services, {"sources": echo_sources(servers, *bodies)}))
    assert run.statuses() == {"noip": SKIPPED, "dyn": SKIPPED}
    assert any(line.startswith("failed: IPv4 not detected") and why in line for line in run.lines), run.lines
    assert services["noip"].updates == services["dyn"].updates == 0
    assert services["noip"].emulator.address(NAME) == (None, None)


def test_one_service_down_while_the_other_works_each_reported(tmp_path: Path, services: dict[str, Service]) -> None:
    run = Run(tmp_path, config(services, {"static": PUBLIC}))
    services["dyn"].emulator.inject(kind="status", status=503, times=100)
    outcomes = run.once()
    assert outcomes["noip"][0] == UPDATED and outcomes["dyn"][0] == FAILED
    assert "HTTP 503" in outcomes["dyn"][1]
    assert services["noip"].bind.query(NAME, "A") == {PUBLIC}
    assert any(line.startswith("verified: home.example.test via noip") for line in run.lines)
    assert any(line.startswith("backing off: home.example.test via dyn: next try in") for line in run.lines)
    tried = services["dyn"].updates
    assert run.statuses() == {"noip": UNCHANGED, "dyn": BACKING_OFF}  # nothing sent while backing off
    assert services["dyn"].updates == tried
    services["dyn"].emulator.faults.clear()  # the service is back
    run.now += 3600
    assert run.statuses() == {"noip": UNCHANGED, "dyn": UPDATED}
    assert services["dyn"].bind.query(NAME, "A") == {PUBLIC}


@pytest.mark.parametrize("answer", ["badauth", "abuse"])
def test_badauth_and_abuse_stop_retries_until_the_config_changes(
    tmp_path: Path, services: dict[str, Service], answer: str
) -> None:
    data = config(services, {"static": PUBLIC})
    if answer == "badauth":
        data["providers"]["dyn"]["password"] = "wrong-password-7373"
    else:
        services["dyn"].emulator.host(NAME).blocked = True
    run = Run(tmp_path, data)
    assert run.statuses() == {"noip": UPDATED, "dyn": STOPPED}
    assert services["dyn"].updates == 1
    for _pass in range(3):  # later passes, even hours later, send nothing to the refusing service
        run.now += 7200
        assert run.statuses() == {"noip": UNCHANGED, "dyn": STOPPED}
    assert services["dyn"].updates == 1
    assert any("change the config file to try again" in line for line in run.lines)
    assert all("wrong-password-7373" not in line and PASSWORDS["dyn"] not in line for line in run.lines)
    services["dyn"].emulator.host(NAME).blocked = False  # unblocked in the account: the agent cannot know
    run.write(config(services, {"static": PUBLIC}))
    if answer == "abuse":
        assert run.statuses() == {"noip": UNCHANGED, "dyn": STOPPED}
        changed = config(services, {"static": PUBLIC})
        changed["providers"]["dyn"]["timeout"] = 3  # any change of the provider's entry lifts the stop
        run.write(changed)
    else:  # the person fixed the password
        data["providers"]["dyn"]["password"] = PASSWORDS["dyn"]
        run.write(data)
    assert run.statuses() == {"noip": UNCHANGED, "dyn": UPDATED}
    assert services["dyn"].updates == 2


@pytest.mark.parametrize(
    ("fault", "asked"),
    [({"kind": "body", "body": "911"}, 1800), ({"kind": "status", "status": 429, "times": 10}, 300)],
)
def test_a_service_asking_to_wait_is_not_asked_again_sooner(
    tmp_path: Path, services: dict[str, Service], fault: dict[str, Any], asked: float
) -> None:
    """`911` asks for 30 minutes, HTTP 429 to slow down (5 minutes without a Retry-After): the agent's
    own backoff (at most 60 s after a first failure) must not cut that short."""
    run = Run(tmp_path, config(services, {"static": PUBLIC}))
    services["dyn"].emulator.inject(**fault)
    assert run.statuses() == {"noip": UPDATED, "dyn": FAILED}
    tried = services["dyn"].updates
    run.now += asked - 30  # past the agent's backoff, within the service's wait
    assert run.statuses() == {"noip": UNCHANGED, "dyn": BACKING_OFF}
    assert services["dyn"].updates == tried
    services["dyn"].emulator.faults.clear()
    run.now += 60
    assert run.statuses() == {"noip": UNCHANGED, "dyn": UPDATED}


def test_at_most_one_update_per_min_update_interval(tmp_path: Path, services: dict[str, Service]) -> None:
    one = {"noip": services["noip"]}
    run = Run(tmp_path, config(one, {"static": PUBLIC}, min_update_interval=600))
    assert run.statuses() == {"noip": UPDATED}
    run.write(config(one, {"static": MOVED}, min_update_interval=600))
    run.now += 30  # the address moved again at once: held back
    outcomes = run.once()
    assert outcomes["noip"][0] == BACKING_OFF and "at most one every 600 s" in outcomes["noip"][1]
    assert services["noip"].updates == 1
    run.now += 600
    assert run.statuses() == {"noip": UPDATED}
    assert services["noip"].emulator.address(NAME) == (MOVED, None)


@pytest.mark.parametrize(("timeout", "attempts"), [(20, 1), (2, 2)])
def test_a_stalled_service_is_abandoned_at_its_deadline_and_the_other_is_updated(
    tmp_path: Path, services: dict[str, Service], timeout: int, attempts: int
) -> None:
    """The stalled service holds every answer for 30 s; its read timeout (20 s) would wait, its
    deadline (3 s for a whole request, retries included) does not, and the other service is updated
    in the same pass. With a read timeout of 2 s, the retries stop at the deadline too: no attempt
    waits past it, none starts that could not end before it (2 attempts: 2 s, then the 1 s left)."""
    stall = services["noip"].emulator.inject(kind="slow", delay=30, times=100)
    data = config(services, {"static": PUBLIC})
    data["providers"]["noip"].update(timeout=timeout, deadline=3)
    run = Run(tmp_path, data)
    started = time.monotonic()
    outcomes = run.once()
    took = time.monotonic() - started
    assert outcomes["noip"][0] == FAILED and outcomes["dyn"][0] == UPDATED, outcomes
    assert "within the deadline of 3 s" in outcomes["noip"][1], outcomes["noip"][1]
    assert 100 - stall.times == attempts, f"{100 - stall.times} requests sent to the stalled service"
    assert took < 15, f"a pass took {took:.1f} s with a stalled service (deadline 3 s, read timeout {timeout} s)"
    assert services["dyn"].bind.query(NAME, "A") == {PUBLIC}
    assert any(line.startswith("backing off: home.example.test via noip") for line in run.lines)


DUCK_NAME, DUCK_TOKEN = "myhome.duckdns.org", "duck-agent-token-0a1b2c3d"


def test_duckdns_gets_both_families_and_a_wrong_token_stops_it(tmp_path: Path) -> None:
    """DuckDNS answers `KO` to a wrong token: a definitive refusal (retrying gets the same), so the
    agent stops until the token in the config is fixed; then A and AAAA go in one request."""
    bind = BindLab()
    bind.add_zone("duckdns.org.")
    try:
        with DuckDnsEmulator(tls_dir=tmp_path / "tls-duck") as duck:
            duck.add_account(DUCK_TOKEN, ["myhome"])
            state = duck.state("myhome")
            publish(bind, duck, {DUCK_NAME: lambda: (state.ipv4, state.ipv6)}, zone="duckdns.org.")
            provider = {"type": "duckdns", "server": duck.https_url, "ca_bundle": duck.ca_file,
                        "token": "wrong-token-ffff", "verify_servers": [f"127.0.0.1:{bind.port}"]}  # fmt: skip
            data = {
                "names": [{"name": DUCK_NAME, "providers": ["duck"]}],
                "providers": {"duck": provider},
                "detect": {"ipv4": {"static": PUBLIC}, "ipv6": {"static": "2001:4860:4860::8844"}},
            }
            run = Run(tmp_path, data)
            assert run.statuses() == {"duck": STOPPED}
            run.now += 86400
            assert run.statuses() == {"duck": STOPPED}
            assert duck.counts["update"] == 1 and "wrong-token-ffff" not in "\n".join(run.lines)
            provider["token"] = DUCK_TOKEN
            run.write(data)
            assert run.statuses() == {"duck": UPDATED}
            assert duck.counts["update"] == 2  # both families in one request
            assert bind.query(DUCK_NAME, "A") == {PUBLIC}
            assert bind.query(DUCK_NAME, "AAAA") == {"2001:4860:4860::8844"}
            assert run.statuses() == {"duck": UNCHANGED} and duck.counts["update"] == 2
    finally:
        bind.stop()
