"""`fleetdns agent --once` against the real BIND lab with the device key `host1key`, which the
zone's update-policy allows to change only host1's A and AAAA.

The device names are registered first with the admin key (what `fleetdns apply` does for a name in
fleetdns_names); then the agent runs as a device would, through the CLI. UPDATE messages are counted
at the provider's apply (every UPDATE goes through it) and the zone is read back by AXFR.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.rfc2136 import Rfc2136Provider
from ansible_collections.fleetdns.ddns.plugins.module_utils.record_task import RecordTask, run_task
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.public_ip_fakes import (
    DnsBehaviour,
    DnsResponder,
    closed_port,
)

from fleetdns.cli import main

OWNER = "fleet-main"


def register(bind: Any, *names: str) -> None:
    """Mark the names' A/AAAA as owned by OWNER, as `fleetdns apply` does for fleetdns_names."""
    original = getattr(Rfc2136Provider.apply, "__wrapped__", Rfc2136Provider.apply)  # not counted
    with_admin = Rfc2136Provider.apply
    Rfc2136Provider.apply = original  # type: ignore[method-assign]
    try:
        run_task(RecordTask(bind.provider_options("admin"), bind.zone, [], owner=OWNER, device_names=list(names)))
    finally:
        Rfc2136Provider.apply = with_admin  # type: ignore[method-assign]


def write_config(tmp_path: Path, bind: Any, name: str = "host1.example.test", **extra: Any) -> Path:
    key = bind.keys["host1key"]
    config = {
        "owner": OWNER,
        "names": [{"name": name, "providers": ["lab"]}],
        "providers": {
            "lab": {
                "type": "rfc2136",
                "zone": "example.test",
                "server": bind.host,
                "port": bind.port,
                "tsig_key_name": key.name,
                "tsig_algorithm": key.algorithm,
                "tsig_secret": key.secret,
            }
        },
        "detect": {"ipv4": {"static": "8.8.4.4"}, "ipv6": False},
        "verify_deadline": 10,
        "verify_interval": 0.2,
    }
    config.update(extra)
    path = tmp_path / "agent.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    os.chmod(path, 0o600)
    return path


@pytest.fixture
def updates(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """UPDATE messages sent by the rfc2136 provider, one count per apply call."""
    sent: list[int] = []
    original = Rfc2136Provider.apply

    def counting(self: Rfc2136Provider, *args: Any, **kwargs: Any) -> None:
        try:
            original(self, *args, **kwargs)
        finally:
            sent.append(len(self.sent_message_sizes))

    counting.__wrapped__ = original  # type: ignore[attr-defined]
    monkeypatch.setattr(Rfc2136Provider, "apply", counting)
    return sent


def test_address_change_is_updated_and_verified_keeping_the_rest(
    bind: Any, tmp_path: Path, updates: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    register(bind, "host1.example.test")
    bind.nsupdate("update add host1.example.test. 300 A 192.0.2.1\nupdate add host1.example.test. 300 AAAA 2001:db8::1")
    bind.nsupdate('update add host1.example.test. 300 TXT "not ours"')
    config = write_config(tmp_path, bind)

    assert main(["agent", "--config", str(config), "--once"]) == 0

    out = capsys.readouterr().out
    assert bind.query("host1.example.test", "A") == {"8.8.4.4"}
    assert bind.query("host1.example.test", "AAAA") == {"2001:db8::1"}  # the other family is kept
    assert bind.query("host1.example.test", "TXT") == {'"not ours"'}
    assert "host1.example.test. 60 IN A 8.8.4.4" in bind.axfr_text()  # the device TTL
    assert updates == [1]
    device_lines = [line for line in bind.log_text().splitlines() if "key host1key: updating zone" in line]
    assert len(device_lines) == 2, device_lines  # one message: the new A added, the old one deleted
    assert "updated: host1.example.test via lab: A 8.8.4.4 (was A 192.0.2.1)" in out
    assert "verified: host1.example.test via lab" in out
    assert bind.keys["host1key"].secret not in out


def test_no_change_sends_no_update(
    bind: Any, tmp_path: Path, updates: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    register(bind, "host1.example.test")
    bind.nsupdate("update add host1.example.test. 60 A 8.8.4.4")
    config = write_config(tmp_path, bind, min_update_interval=0)

    assert main(["agent", "--config", str(config), "--once"]) == 0
    assert main(["agent", "--config", str(config), "--once"]) == 0

    assert updates == []
    assert capsys.readouterr().out.count("unchanged: host1.example.test via lab") == 2
    assert "key host1key: updating zone" not in bind.log_text()  # and none reached the server


def test_the_device_key_cannot_change_another_name(
    bind: Any, tmp_path: Path, updates: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    register(bind, "host2.example.test")
    bind.nsupdate("update add host2.example.test. 300 A 192.0.2.2")
    before = bind.axfr_text()
    config = write_config(tmp_path, bind, name="host2.example.test")

    assert main(["agent", "--config", str(config), "--once"]) == 2
    out = capsys.readouterr().out
    assert "REFUSED" in out
    assert "stopped: host2.example.test via lab" in out
    assert bind.axfr_text() == before
    # the refusal stops that provider for that name: the next pass sends nothing
    assert main(["agent", "--config", str(config), "--once"]) == 2
    assert updates == [1]  # the one refused message of the first pass; none after it
    assert "stopped: host2.example.test via lab" in capsys.readouterr().out
    assert main(["agent", "--config", str(config), "--status"]) == 2


def test_restart_keeps_the_state(
    bind: Any, tmp_path: Path, updates: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    register(bind, "host1.example.test")
    config = write_config(tmp_path, bind)
    assert main(["agent", "--config", str(config), "--once"]) == 0
    state_file = tmp_path / "agent.state.json"
    saved = json.loads(state_file.read_text(encoding="utf-8"))
    assert oct(state_file.stat().st_mode & 0o777) == "0o600"
    entry = saved["entries"]["host1.example.test. lab"]
    assert entry["addresses"] == {"A": "8.8.4.4"}
    assert entry["updates"] == 1
    assert main(["agent", "--config", str(config), "--status"]) == 0
    assert "host1.example.test via lab: ok; address A 8.8.4.4" in capsys.readouterr().out

    # a new process, someone changed the record behind the agent's back: within min_update_interval
    # the agent holds back instead of updating again
    bind.nsupdate("update delete host1.example.test. A\nupdate add host1.example.test. 60 A 192.0.2.9")
    assert main(["agent", "--config", str(config), "--once"]) == 2
    assert updates == [1]
    assert "backing off: host1.example.test via lab: last update" in capsys.readouterr().out
    assert json.loads(state_file.read_text(encoding="utf-8"))["entries"]["host1.example.test. lab"]["updates"] == 1


def test_an_unregistered_name_is_not_taken_over(
    bind: Any, tmp_path: Path, updates: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    bind.nsupdate("update add host1.example.test. 300 A 192.0.2.1")  # someone else's record, no marker
    before = bind.axfr_text()
    config = write_config(tmp_path, bind)

    assert main(["agent", "--config", str(config), "--once"]) == 2

    out = capsys.readouterr().out
    assert "host1 A exists with other values (ttl 300: 192.0.2.1) and is not owned by fleetdns" in out
    assert "backing off: host1.example.test via lab: next try in" in out
    assert updates == [] and bind.axfr_text() == before


def test_ownership_key_lets_the_device_key_alone_decide(bind: Any, tmp_path: Path, updates: list[int]) -> None:
    bind.nsupdate("update add host1.example.test. 300 AAAA 2001:db8::1")
    config = write_config(tmp_path, bind)
    data = json.loads(config.read_text(encoding="utf-8"))
    data["providers"]["lab"]["ownership"] = "key"
    config.write_text(json.dumps(data), encoding="utf-8")

    assert main(["agent", "--config", str(config), "--once"]) == 0

    assert bind.query("host1.example.test", "A") == {"8.8.4.4"}
    assert bind.query("host1.example.test", "AAAA") == {"2001:db8::1"}
    assert "_fleetdns" not in bind.axfr_text()  # no marker read or written
    assert updates == [1]


def test_one_provider_down_does_not_stop_another(bind: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    register(bind, "host1.example.test")
    config = write_config(tmp_path, bind)
    data = json.loads(config.read_text(encoding="utf-8"))
    down = dict(data["providers"]["lab"], port=closed_port(), timeout=2)
    data["providers"] = {"down": down, "lab": data["providers"]["lab"]}
    data["names"][0]["providers"] = ["down", "lab"]
    config.write_text(json.dumps(data), encoding="utf-8")

    assert main(["agent", "--config", str(config), "--once"]) == 2

    out = capsys.readouterr().out
    assert "failed: host1.example.test via down:" in out
    assert "backing off: host1.example.test via down: next try in" in out
    assert "verified: host1.example.test via lab" in out
    assert bind.query("host1.example.test", "A") == {"8.8.4.4"}
    assert main(["agent", "--config", str(config), "--status"]) == 2
    status = capsys.readouterr().out
    assert "host1.example.test via down: failing" in status and "host1.example.test via lab: ok" in status


def test_a_name_never_registered_is_reported_not_created(
    bind: Any, tmp_path: Path, updates: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    before = bind.axfr_text()
    assert main(["agent", "--config", str(write_config(tmp_path, bind)), "--once"]) == 2
    out = capsys.readouterr().out
    assert "host1.example.test. A is not registered to owner 'fleet-main' (no ownership marker)" in out
    assert updates == [] and bind.axfr_text() == before


def test_a_lagging_server_is_waited_for_and_nothing_is_sent_twice(
    bind: Any, tmp_path: Path, updates: list[int], servers: list, capsys: pytest.CaptureFixture[str]
) -> None:
    """The primary already holds the address, a secondary still answers the old one: the agent sends
    nothing to the primary and verifies until the secondary catches up."""
    register(bind, "host1.example.test")
    bind.nsupdate("update add host1.example.test. 60 A 8.8.4.4")
    secondary = DnsResponder(DnsBehaviour(["192.0.2.1"]))
    servers.append(secondary)
    config = write_config(tmp_path, bind)
    data = json.loads(config.read_text(encoding="utf-8"))
    data["providers"]["lab"]["verify_servers"] = [f"{bind.host}:{bind.port}", f"{secondary.host}:{secondary.port}"]
    config.write_text(json.dumps(data), encoding="utf-8")
    catch_up = threading.Timer(1.0, lambda: setattr(secondary.behaviour, "values", ["8.8.4.4"]))
    catch_up.start()
    try:
        assert main(["agent", "--config", str(config), "--once"]) == 0
    finally:
        catch_up.cancel()
    out = capsys.readouterr().out
    assert "unchanged: host1.example.test via lab: the provider already holds A 8.8.4.4; verifying" in out
    assert "verified: host1.example.test via lab" in out
    assert updates == []


@pytest.mark.parametrize(("name_ttl", "provider_ttl", "expected"), [(90, 120, 90), (None, 120, 120)])
def test_the_device_ttl_is_set_and_the_ttl_of_other_record_sets_is_kept(
    bind: Any, tmp_path: Path, name_ttl: int | None, provider_ttl: int, expected: int
) -> None:
    register(bind, "host1.example.test")
    bind.nsupdate("update add host1.example.test. 300 A 192.0.2.1\nupdate add host1.example.test. 300 AAAA 2001:db8::1")
    bind.nsupdate('update add host1.example.test. 3600 TXT "not ours"\nupdate add www.example.test. 7200 A 192.0.2.80')
    config = write_config(tmp_path, bind)
    data = json.loads(config.read_text(encoding="utf-8"))
    data["providers"]["lab"]["ttl"] = provider_ttl
    if name_ttl is not None:
        data["names"][0]["ttl"] = name_ttl
    config.write_text(json.dumps(data), encoding="utf-8")

    assert main(["agent", "--config", str(config), "--once"]) == 0

    zone = {" ".join(line.split()) for line in bind.axfr_text().splitlines()}  # whitespace made single
    assert f"host1.example.test. {expected} IN A 8.8.4.4" in zone
    assert "host1.example.test. 300 IN AAAA 2001:db8::1" in zone  # the other family: not touched
    assert 'host1.example.test. 3600 IN TXT "not ours"' in zone  # record sets the agent does not own
    assert "www.example.test. 7200 IN A 192.0.2.80" in zone
