from __future__ import annotations

import http.server
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent import (
    BACKING_OFF,
    FAILED,
    SKIPPED,
    STATUS_FAILING,
    STATUS_OK,
    STATUS_STALE,
    STOPPED,
    UNCHANGED,
    UPDATED,
    Agent,
    PassResult,
    forbids_retry,
    status,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import load_agent_config
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_state import load_state
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import FleetDNSError, ProviderError
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils import agent_fakes
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.agent_fakes import (
    SECRET,
    SERVICES,
    basic_config,
    fake_provider,
    write_config,
)
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.public_ip_fakes import closed_port

fake_services = agent_fakes.fake_services  # the fixture, used through pytestmark
pytestmark = pytest.mark.usefixtures("fake_services")
NAME = "gw.dyn.test."


class Harness:
    """An agent over a config file with a settable clock, no real sleeping, lookups at the fakes."""

    def __init__(self, tmp_path: Path, data: dict[str, Any]) -> None:
        self.path = write_config(tmp_path, data)
        self.now = 1_000_000.0
        self.lines: list[str] = []
        self.sleeps: list[float] = []
        self.agent = self.make()

    def make(self) -> Agent:
        config = load_agent_config(self.path)
        return Agent(
            config,
            self.lines.append,
            clock=lambda: self.now,
            sleep=self.sleeps.append,
            rand=lambda: 1.0,
            lookup_for=lambda provider, name: SERVICES[provider.config.options["service"]].lookup,
        )

    def run(self) -> dict[str, str]:
        self.lines.clear()
        return {o.provider: o.status for o in self.agent.run_once().outcomes}


def test_a_new_address_is_sent_to_every_provider_then_nothing_while_it_holds(tmp_path: Path) -> None:
    h = Harness(tmp_path, basic_config())
    assert h.run() == {"a": UPDATED, "b": UPDATED}
    assert SERVICES["a"].updates == SERVICES["b"].updates == [(NAME, {"A": frozenset({"8.8.8.8"})})]
    assert h.lines == [
        "detected IPv4 8.8.8.8 (static)",
        "updated: gw.dyn.test via a: A 8.8.8.8 (was A nothing)",
        "verified: gw.dyn.test via a: the authoritative servers answer A 8.8.8.8",
        "updated: gw.dyn.test via b: A 8.8.8.8 (was A nothing)",
        "verified: gw.dyn.test via b: the authoritative servers answer A 8.8.8.8",
    ]
    h.now += 5
    assert h.run() == {"a": UNCHANGED, "b": UNCHANGED}
    assert len(SERVICES["a"].updates) == len(SERVICES["b"].updates) == 1
    state = load_state(h.agent.config.state_file).entries[f"{NAME} a"]
    assert state.addresses == {"A": "8.8.8.8"} and state.updates == 1 and state.last_checked == h.now


def test_one_provider_down_does_not_stop_the_other_and_backs_off(tmp_path: Path) -> None:
    h = Harness(tmp_path, basic_config(backoff_initial=60, backoff_max=200))
    SERVICES["a"].answer = "down"
    assert h.run() == {"a": FAILED, "b": UPDATED}
    assert "backing off: gw.dyn.test via a: next try in 60 s (1 failure(s) in a row)" in h.lines
    h.now += 30
    assert h.run() == {"a": BACKING_OFF, "b": UNCHANGED}
    assert len(SERVICES["a"].updates) == 1
    delays = []
    for _attempt in range(4):  # doubling, bounded by backoff_max
        h.now += 1000
        assert h.run()["a"] == FAILED
        delays.append(next(line for line in h.lines if "next try in" in line).split("next try in ")[1].split(" s")[0])
    assert delays == ["120", "200", "200", "200"]
    SERVICES["a"].answer = "good"
    h.now += 1000
    assert h.run() == {"a": UPDATED, "b": UNCHANGED}
    assert load_state(h.agent.config.state_file).entries[f"{NAME} a"].failures == 0


@pytest.mark.parametrize("answer", ["badauth", "abuse"])
def test_an_answer_that_forbids_retrying_stops_until_the_config_changes(tmp_path: Path, answer: str) -> None:
    h = Harness(tmp_path, basic_config())
    SERVICES["a"].answer = answer
    assert h.run() == {"a": STOPPED, "b": UPDATED}
    assert all(SECRET not in line for line in h.lines)
    assert any("password=********" in line for line in h.lines)
    SERVICES["a"].answer = "good"
    h.now += 10 * 86400
    h.agent = h.make()  # a restart does not lift it either
    assert h.run()["a"] == STOPPED
    assert len(SERVICES["a"].updates) == 1
    data = basic_config()
    data["providers"]["a"] = fake_provider("a", password="the-new-password")
    write_config(tmp_path, data)
    h.agent = h.make()
    assert h.run()["a"] == UPDATED


def test_at_most_one_update_per_min_update_interval(tmp_path: Path) -> None:
    h = Harness(tmp_path, basic_config(min_update_interval=600))
    h.run()
    SERVICES["a"].dns.clear()  # the address vanished from DNS behind the agent's back
    h.now += 100
    assert h.run()["a"] == BACKING_OFF
    assert "backing off: gw.dyn.test via a: last update 100 s ago; at most one every 600 s" in h.lines
    h.now += 600
    assert h.run()["a"] == UPDATED
    assert len(SERVICES["a"].updates) == 2


def test_an_update_the_servers_never_answer_fails_verification(tmp_path: Path) -> None:
    h = Harness(tmp_path, basic_config(verify_deadline=0.3, verify_interval=0.1))
    h.agent.sleep = time.sleep
    SERVICES["a"].answer = "lie"
    assert h.run() == {"a": FAILED, "b": UPDATED}
    failed = next(line for line in h.lines if line.startswith("failed: gw.dyn.test via a"))
    assert "still answer A nothing instead of A 8.8.8.8 0.3 s after the update" in failed


def test_a_non_global_address_is_never_published(tmp_path: Path) -> None:
    h = Harness(tmp_path, basic_config(detect={"ipv4": {"static": "192.168.1.20"}, "ipv6": False}))
    assert h.run() == {"a": SKIPPED, "b": SKIPPED}
    assert h.lines[0].startswith("failed: IPv4 not detected (static): 192.168.1.20 is a private address; not published")
    assert SERVICES["a"].updates == []


def test_lan_only_dns_may_allow_non_global_addresses(tmp_path: Path) -> None:
    data = basic_config(allow_non_global=True, detect={"ipv4": {"static": "192.168.1.20"}, "ipv6": False})
    assert Harness(tmp_path, data).run() == {"a": UPDATED, "b": UPDATED}


def test_two_families_are_sent_together_to_an_update_only_service(tmp_path: Path) -> None:
    data = basic_config(detect={"ipv4": {"static": "8.8.8.8"}, "ipv6": {"static": "2606:4700::1"}})
    h = Harness(tmp_path, data)
    assert h.run() == {"a": UPDATED, "b": UPDATED}
    assert SERVICES["a"].updates == [(NAME, {"A": frozenset({"8.8.8.8"}), "AAAA": frozenset({"2606:4700::1"})})]


def test_forbids_retry() -> None:
    assert forbids_retry(ProviderError("the service answered 'badauth'"))
    assert forbids_retry(ProviderError("server refused the update (REFUSED)"))
    assert not forbids_retry(ProviderError("connection refused"))
    assert not forbids_retry(FleetDNSError("abuse"))  # only a provider's answer counts
    flagged = ProviderError("anything")
    flagged.retry = False  # type: ignore[attr-defined]
    assert forbids_retry(flagged)


def test_status_exit_codes(tmp_path: Path) -> None:
    h = Harness(tmp_path, basic_config(interval=60, verify_deadline=0))
    config = h.agent.config
    assert status(config, h.now)[1] == STATUS_STALE  # never confirmed
    h.run()
    lines, code = status(config, h.now)
    assert code == STATUS_OK and [line.state for line in lines] == ["ok", "ok"]
    assert status(config, h.now + 181)[1] == STATUS_STALE  # 3 intervals + verify_deadline
    SERVICES["a"].dns.clear()
    SERVICES["a"].answer = "down"
    h.now += 100
    h.run()
    lines, code = status(config, h.now)
    assert code == STATUS_FAILING and [line.state for line in lines] == ["failing", "ok"]
    assert "connection refused" in lines[0].entry.last_error


def test_the_loop_polls_reacts_to_a_trigger_within_the_debounce_and_stops(tmp_path: Path) -> None:
    h = Harness(tmp_path, basic_config())
    h.agent.clock = time.time
    h.agent.config.settings.update(interval=30, jitter=0, debounce=0.2)
    passes: list[float] = []
    original = h.agent.run_once

    def counted():
        passes.append(time.monotonic())
        return original()

    h.agent.run_once = counted  # type: ignore[method-assign]
    stop, trigger = threading.Event(), threading.Event()
    thread = threading.Thread(target=h.agent.run_forever, args=(stop, trigger))
    thread.start()
    try:
        _wait_for(lambda: len(passes) == 1)
        for _flap in range(5):  # a flapping link: five events in quick succession
            trigger.set()
            time.sleep(0.02)
        _wait_for(lambda: len(passes) == 2)
        time.sleep(0.5)
        assert len(passes) == 2  # one pass for the burst, not five
        assert 0.15 <= passes[1] - passes[0] < 5
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


def _wait_for(condition, timeout: float = 5.0) -> None:
    ends = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < ends, "timed out"
        time.sleep(0.01)


def test_the_loop_tries_a_held_back_update_when_it_is_due(tmp_path: Path) -> None:
    h = Harness(tmp_path, basic_config())
    h.agent.clock = time.time
    # min_update_interval leaves a busy machine time for the event's pass to fall inside it.
    h.agent.config.settings.update(interval=30, jitter=0, debounce=0.05, min_update_interval=4.0)
    stop, trigger = threading.Event(), threading.Event()
    thread = threading.Thread(target=h.agent.run_forever, args=(stop, trigger))
    thread.start()
    try:
        _wait_for(lambda: len(SERVICES["a"].updates) == 1)
        SERVICES["a"].dns.clear()  # gone again right after the update
        trigger.set()
        _wait_for(lambda: any(line.startswith("backing off: gw.dyn.test via a: last update") for line in h.lines))
        started = time.monotonic()
        _wait_for(lambda: len(SERVICES["a"].updates) == 2, timeout=10)
        assert time.monotonic() - started < 10  # at the end of min_update_interval, not at the next poll (30 s)
    finally:
        stop.set()
        thread.join(5)


class _Hooks(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


def webhook(servers: list) -> tuple[str, list[dict]]:
    received: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = _Hooks(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    class Closer:
        def close(self) -> None:
            server.shutdown()
            server.server_close()

    servers.append(Closer())
    return f"http://127.0.0.1:{server.server_address[1]}/hook?token=hook-token-123", received


def test_the_webhook_hears_of_updates_and_failures_without_secrets(tmp_path: Path, servers: list) -> None:
    url, received = webhook(servers)
    h = Harness(tmp_path, basic_config(webhook=url))
    SERVICES["b"].answer = "badauth"
    h.run()
    assert received[0] == {"event": "updated", "name": NAME, "provider": "a", "addresses": {"A": "8.8.8.8"}}
    assert received[1]["event"] == "failed" and received[1]["provider"] == "b"
    assert SECRET not in received[1]["error"] and "password=********" in received[1]["error"]


def test_an_unreachable_webhook_is_logged_without_its_url(tmp_path: Path) -> None:
    h = Harness(tmp_path, basic_config(webhook=f"http://127.0.0.1:{closed_port()}/hook?token=hook-token-123"))
    assert h.run() == {"a": UPDATED, "b": UPDATED}
    failures = [line for line in h.lines if line.startswith("failed: webhook to 127.0.0.1:")]
    assert len(failures) == 2 and all("hook-token-123" not in line for line in h.lines)


def test_the_loop_survives_a_pass_that_breaks(tmp_path: Path) -> None:
    h = Harness(tmp_path, basic_config())
    h.agent.config.settings.update(interval=0.2, jitter=0, debounce=0.05)
    calls = []

    def broken():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError(f"bug while holding {SECRET}")
        return PassResult()

    h.agent.run_once = broken  # type: ignore[method-assign]
    stop = threading.Event()
    thread = threading.Thread(target=h.agent.run_forever, args=(stop,))
    thread.start()
    try:
        _wait_for(lambda: len(calls) >= 2)
    finally:
        stop.set()
        thread.join(5)
    assert h.lines[0] == "failed: the pass ended early (RuntimeError: bug while holding ********)"
