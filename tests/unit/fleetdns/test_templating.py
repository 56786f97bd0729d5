"""Templating's lookups hold their Templar weakly, so a loaded inventory is freed without the cyclic GC.

The CLI pauses the cyclic collector during a command (fleetdns/cli.py); data kept alive by a
reference cycle would then stay until a collection walks the whole heap at the end of the run.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetdns.inventory import load_inventory
from fleetdns.templating import Templar
from fleetdns.vault import Vault
from fleetdns.yamlload import Positions

INVENTORY = """\
all:
  vars:
    fleetdns_providers:
      lab:
        type: rfc2136
        server: 127.0.0.1
        tsig_key_name: fleet-admin
        tsig_secret: "{{ lookup('env', 'FLEETDNS_TEST_TEMPLATING_SECRET') }}"
    fleetdns_zones:
      example.test:
        provider: lab
        records:
          - {name: www, type: A, value: 192.0.2.1}
          - {name: mail, type: A, value: "{{ query('env', 'FLEETDNS_TEST_TEMPLATING_ADDRESS') | join }}"}
"""


@pytest.fixture
def collector_off() -> Iterator[None]:
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    yield
    if was:
        gc.enable()


def test_a_loaded_inventory_is_freed_by_reference_counting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collector_off: None
) -> None:
    monkeypatch.setenv("FLEETDNS_TEST_TEMPLATING_SECRET", "c2VjcmV0LXRzaWcta2V5")
    monkeypatch.setenv("FLEETDNS_TEST_TEMPLATING_ADDRESS", "192.0.2.25")
    path = tmp_path / "hosts.yml"
    path.write_text(INVENTORY)
    inventory = load_inventory(path)
    zone = inventory.all_vars["fleetdns_zones"]["example.test"]
    assert zone["records"][1]["value"] == "192.0.2.25"  # the lookups ran
    assert inventory.all_vars["fleetdns_providers"]["lab"]["tsig_secret"] == "c2VjcmV0LXRzaWcta2V5"
    positions = weakref.ref(inventory.locate._positions)
    del inventory, zone
    assert positions() is None, "the inventory's data is kept alive by a reference cycle"


def test_a_templar_is_freed_by_reference_counting(tmp_path: Path, collector_off: None) -> None:
    templar = Templar(Positions(), tmp_path, Vault(None))
    scope = templar.scope({"greeting": "hello {{ lookup('env', 'FLEETDNS_TEST_UNSET') | default('x', true) }}"})
    assert scope.resolve("greeting") == "hello x"
    gone = weakref.ref(templar)
    del templar, scope
    assert gone() is None
