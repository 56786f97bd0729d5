"""`fleetdns status` against real backends: a BIND primary with a second BIND as its lagging
secondary, the Cloudflare emulator, and the dyndns2 emulator publishing to BIND.

Each verdict is made to happen: ok, stale (the secondary has not transferred the last change),
mismatch (a hand edit on the primary), missing (a device whose agent has not set an address),
unowned (a record set made by hand), unreachable (the secondary stopped). Exit 0 only when all ok,
else 3; --json holds every server's answer."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import provider_class
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.ddns_lookup import provider_lookup
from emulators.cloudflare import CloudflareEmulator
from emulators.dyndns2 import Dyndns2Emulator
from lab.bind import BindLab
from lab.secondary import SecondaryLab

from integration.test_cli import FLEETDNS, ok, run
from integration.test_ddns_providers_dns import publish

USER, PASSWORD = "owner@example.test", "NoIp-Key-Secret-7171"


@pytest.fixture
def secondary(bind: BindLab) -> Iterator[SecondaryLab]:
    with SecondaryLab(bind) as lab:
        yield lab


def status(tmp_path: Path, *extra: str, code: int | None = None, env: dict[str, str] | None = None) -> Any:
    proc = run("status", "-i", "hosts.yml", "--json", "--timeout", "1", *extra, cwd=tmp_path, env=env)
    if code is not None:
        ok(proc, code)
    return proc


def rows(proc: Any) -> dict[tuple[str, str], dict]:
    return {(row["name"], row["type"]): row for row in json.loads(proc.stdout)["rows"]}


def bind_inventory(tmp_path: Path, bind: BindLab, secondary: SecondaryLab) -> None:
    data = {
        "all": {
            "vars": {
                "fleetdns_owner": "fleet",
                "fleetdns_providers": {"lab": bind.provider_options()},
                "fleetdns_zones": {
                    "example.test": {
                        "provider": "lab",
                        "name_servers": [f"{bind.host}:{bind.port}", f"{secondary.host}:{secondary.port}"],
                        "records": [
                            {"name": "www", "type": "A", "value": "192.0.2.1"},
                            {"name": "@", "type": "MX", "value": "10 mail"},
                            {"name": "mail", "type": "A", "value": "192.0.2.25"},
                            {"name": "legacy", "type": "TXT", "value": "kept by hand"},
                        ],
                    }
                },
            },
            "children": {"fleetdns_clients": {"hosts": {"gw": {"fleetdns_names": ["gw.example.test"]}}}},
        }
    }
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(data))


def test_every_verdict_on_bind_with_a_lagging_secondary(tmp_path: Path, bind: BindLab, secondary: SecondaryLab) -> None:
    bind.nsupdate('update add legacy.example.test. 3600 TXT "kept by hand"')  # made by hand: not ours
    bind_inventory(tmp_path, bind, secondary)
    ok(run("apply", "-i", "hosts.yml", cwd=tmp_path))
    www, gw, legacy = ("www.example.test.", "A"), ("gw.example.test.", "A"), ("legacy.example.test.", "TXT")

    # the secondary transferred the zone before the apply and not since: it lags
    found = rows(status(tmp_path, code=3))
    assert found[www]["verdict"] == "stale", found[www]
    primary, lagging = found[www]["servers"]
    assert primary == {"server": f"127.0.0.1:{bind.port}", "values": ["192.0.2.1"], "error": None}
    assert lagging == {"server": f"127.0.0.1:{secondary.port}", "values": [], "error": None}
    assert found[www]["held"] == ["192.0.2.1"] and found[www]["owner"] == "fleet"
    assert found[gw]["verdict"] == "missing" and "agent of gw" in found[gw]["reason"]
    assert found[legacy]["verdict"] == "unowned" and found[legacy]["owner"] is None

    bind.nsupdate("update add gw.example.test. 60 A 192.0.2.9")  # what gw's agent does
    secondary.catch_up()
    found = rows(status(tmp_path, code=3))
    assert found[www]["verdict"] == "ok" and found[gw]["verdict"] == "ok", found
    assert {row["verdict"] for key, row in found.items() if key != legacy} == {"ok"}
    assert ("gw.example.test.", "AAAA") not in found  # a device name's AAAA row only once it holds one

    # the text table says the same, one row per name
    table = ok(run("status", "-i", "hosts.yml", cwd=tmp_path, env={"NO_COLOR": "1"}), 3)
    assert re.search(r"^www\.example\.test\. +A +lab=192\.0\.2\.1 .* ok$", table.stdout, re.M), table.stdout
    assert "\x1b[" not in table.stdout
    assert "5 name(s) in " in table.stderr and "4 ok, 1 unowned" in table.stderr

    bind.nsupdate("update delete www.example.test. A\nupdate add www.example.test. 300 A 192.0.2.66")
    found = rows(status(tmp_path, code=3))
    assert found[www]["verdict"] == "mismatch" and "declares 192.0.2.1" in found[www]["reason"]

    secondary.stop()
    found = rows(status(tmp_path, code=3))
    assert found[("mail.example.test.", "A")]["verdict"] == "unreachable"
    assert found[("mail.example.test.", "A")]["servers"][1]["error"]


def test_all_ok_exits_0(tmp_path: Path, bind: BindLab, secondary: SecondaryLab) -> None:
    bind_inventory(tmp_path, bind, secondary)
    data = yaml.safe_load((tmp_path / "hosts.yml").read_text())
    data["all"]["children"] = {}
    data["all"]["vars"]["fleetdns_zones"]["example.test"]["records"].pop()  # no hand-made legacy
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(data))
    ok(run("apply", "-i", "hosts.yml", cwd=tmp_path))
    secondary.catch_up()
    proc = status(tmp_path, code=0)
    assert json.loads(proc.stdout)["counts"] == {
        "ok": 3, "stale": 0, "mismatch": 0, "missing": 0, "unowned": 0, "unreachable": 0
    }  # fmt: skip


def test_watch_refreshes_until_interrupted(tmp_path: Path, bind: BindLab, secondary: SecondaryLab) -> None:
    bind_inventory(tmp_path, bind, secondary)
    proc = subprocess.Popen(
        [str(FLEETDNS), "status", "-i", "hosts.yml", "--watch", "0.1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    headers = 0
    for line in proc.stdout:
        headers += line.startswith("NAME ")
        if headers == 3:
            break
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert headers == 3 and proc.returncode == 3, err  # the last round's code: nothing applied, all missing
    assert "Traceback" not in err


CF_INVENTORY = """\
all:
  vars:
    fleetdns_owner: fleet
    fleetdns_providers:
      cf: {{type: cloudflare, api_token: "{token}", base_url: "{base_url}", ca_bundle: "{ca_bundle}"}}
    fleetdns_zones:
      example.test:
        provider: cf
        name_servers: []   # the emulator serves the API, not DNS
        records:
          - {{name: www, type: A, value: 192.0.2.1}}
  children:
    fleetdns_clients:
      hosts:
        gw: {{fleetdns_names: [gw.example.test]}}
"""


def test_cloudflare_rows_say_when_each_record_last_changed(tmp_path: Path) -> None:
    with CloudflareEmulator(tls_dir=tmp_path / "tls") as cf:
        cf.add_zone("example.test")
        (tmp_path / "hosts.yml").write_text(
            CF_INVENTORY.format(token=cf.token, base_url=cf.https_url, ca_bundle=cf.ca_file)
        )
        found = rows(status(tmp_path, code=3))
        assert found[("www.example.test.", "A")]["verdict"] == "missing"
        ok(run("apply", "-i", "hosts.yml", cwd=tmp_path))
        found = rows(status(tmp_path, code=3))
        www = found[("www.example.test.", "A")]
        assert www["verdict"] == "ok" and www["servers"] == [] and www["owner"] == "fleet"
        (record,) = [r for r in cf.records("example.test") if r["name"] == "www.example.test"]
        assert www["changed"] == record["modified_on"]
        assert found[("gw.example.test.", "A")]["verdict"] == "missing"  # its agent has not run
        assert cf.token not in json.dumps(list(found.values()))


def test_an_update_only_provider_is_judged_by_its_name_servers(tmp_path: Path, bind: BindLab) -> None:
    bind.add_zone("dyn.test.")
    with Dyndns2Emulator(tls_dir=tmp_path / "tls", flavour="noip") as noip, SecondaryLab(bind, ["dyn.test."]) as lag:
        noip.add_account(USER, PASSWORD, hosts=["home.dyn.test"])
        publish(bind, noip, {"home.dyn.test": lambda: noip.address("home.dyn.test")}, zone="dyn.test.")
        options = {"type": "dyndns2", "server": noip.https_url, "ca_bundle": str(noip.ca_file),
                   "username": USER, "password": PASSWORD, "resolver": f"127.0.0.1:{bind.port}"}  # fmt: skip
        data = {
            "all": {
                "vars": {
                    "fleetdns_owner": "fleet",
                    "fleetdns_providers": {"noip": options},
                    "fleetdns_zones": {
                        "dyn.test": {
                            "provider": "noip",
                            "name_servers": [f"127.0.0.1:{bind.port}", f"127.0.0.1:{lag.port}"],
                        }
                    },
                },
                "children": {"fleetdns_clients": {"hosts": {"home": {"fleetdns_names": ["home.dyn.test"]}}}},
            }
        }
        (tmp_path / "hosts.yml").write_text(yaml.safe_dump(data))
        home = ("home.dyn.test.", "A")
        assert rows(status(tmp_path, code=3))[home]["verdict"] == "missing"

        cls = provider_class("dyndns2")
        settings = {k: spec.default for k, spec in cls.OPTIONS.items()} | options
        with cls("noip", settings) as provider:  # what the agent of `home` does
            provider.set_addresses("home.dyn.test.", {"A": frozenset({"192.0.2.50"})}, provider_lookup(settings))
        found = rows(status(tmp_path, code=3))
        assert found[home]["verdict"] == "stale" and found[home]["held"] == ["192.0.2.50"], found[home]
        assert found[home]["owner"] == "agent of home"
        lag.catch_up()
        found = rows(status(tmp_path, code=0))
        assert found[home]["verdict"] == "ok"
        assert PASSWORD not in json.dumps(list(found.values()))
