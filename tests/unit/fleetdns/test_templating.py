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


# The same lookup, once in the spelling evaluated without jinja2 and once in one jinja2 evaluates.
SIMPLE = "{{ lookup('env', 'FLEETDNS_TEST_FAST_LOOKUP') }}"
THROUGH_JINJA = "{{ lookup('env', 'FLEETDNS_TEST_FAST_LOOKUP') if true else '' }}"


@pytest.mark.parametrize("value", ["c2VjcmV0", None])
def test_a_plain_env_lookup_gives_what_jinja2_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("FLEETDNS_TEST_FAST_LOOKUP", raising=False)
    else:
        monkeypatch.setenv("FLEETDNS_TEST_FAST_LOOKUP", value)
    results = []
    for text in (SIMPLE, THROUGH_JINJA, '{{lookup("env","FLEETDNS_TEST_FAST_LOOKUP")}}'):
        templar = Templar(Positions(), tmp_path, Vault(None))
        variables = {"secret": text}
        rendered = templar.scope(variables).resolve("secret")
        results.append((rendered, type(rendered).__name__, repr(rendered), templar.secrets, dict(templar.unset_env)))
    assert results[0] == results[1] == results[2]
    assert results[0][0] == (value or "") and results[0][1] == ("Secret" if value else "str")
    assert ("FLEETDNS_TEST_FAST_LOOKUP" in results[0][4]) is (value is None)


def test_a_plain_env_lookup_skips_jinja2_unless_a_variable_is_named_lookup(tmp_path: Path) -> None:
    templar = Templar(Positions(), tmp_path, Vault(None))
    assert templar.scope({"secret": SIMPLE}).resolve("secret") == ""
    assert templar._env_cache is None  # no jinja2 environment was needed
    shadowed = templar.scope({"secret": SIMPLE, "lookup": "not a function"})
    with pytest.raises(Exception, match=r"lookup|callable"):
        shadowed.resolve("secret")  # as in jinja2 (and Ansible): the variable hides the lookup
    assert templar._env_cache is not None
