"""load_inventory: Ansible's inventory structure and variable precedence, Vault, templating, positions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.config import validate
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError
from ansible_collections.fleetdns.ddns.tests.unit.fleetdns.bigfleet import big_inventory

from fleetdns.inventory import Inventory, load_inventory
from fleetdns.templating import Secret

REPO = Path(__file__).resolve().parents[3]
# Beside this interpreter in a virtual environment; on PATH under ansible-test (it runs the tests with
# an interpreter of its own and puts Ansible's commands on PATH).
_BESIDE = Path(sys.executable).with_name("ansible-inventory")
ANSIBLE_INVENTORY = str(_BESIDE) if _BESIDE.exists() else shutil.which("ansible-inventory") or str(_BESIDE)
# A child interpreter must import from where this one does: under ansible-test the collection's
# parent directory is put on sys.path by its pytest plugin, not through the environment.
CHILD_PYTHONPATH = os.pathsep.join(path for path in sys.path if path)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root / "hosts.yml"


def load(tmp_path: Path, files: dict[str, str], **kwargs: object) -> Inventory:
    return load_inventory(write(tmp_path, files), **kwargs)


def problems(tmp_path: Path, files: dict[str, str], **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, files, **kwargs)
    return [_show(p, tmp_path) for p in caught.value.problems]


def _show(problem: object, root: Path) -> str:
    location = problem.location
    where = f"{Path(location.file).relative_to(root)}:{location.line}:{location.column} " if location else ""
    return f"{where}{problem.message} | {problem.hint}"


# -- structure and precedence ---------------------------------------------------------------------------

PRECEDENCE = {
    "hosts.yml": """\
        all:
          vars: {a: all-inv, b: all-inv, c: all-inv, d: all-inv, e: all-inv, f: all-inv}
          hosts:
            lonely: {h: lonely}
          children:
            site:
              vars: {a: site-inv, b: site-inv, p: site}
              children:
                web:
                  vars: {a: web-inv, c: web-inv, p: web}
                  hosts:
                    w1: {d: w1-inv}
                    w2:
                db:
                  vars: {a: db-inv, p: db, ansible_group_priority: 5}
                  hosts:
                    w1: {e: w1-db-entry}
                    db[01:03]:
            zed:
              vars: {p: zed}
              hosts:
                w1: {e: w1-zed-entry}
                "w3:2222":
        """,
    "group_vars/all.yml": "b: gv-all\nc: gv-all\nx: gv-all\n",
    "group_vars/all.yaml": "b: gv-all-yaml\nq: never read, all.yml comes first\n",
    "group_vars/web/10.yml": "x: gv-web-10\ny: gv-web-10\n",
    "group_vars/web/20.yml": "y: gv-web-20\n",
    "group_vars/web/.hidden.yml": "y: hidden\n",
    "group_vars/web/old.yml~": "y: backup\n",
    "group_vars/ungrouped.yml": "z: gv-ungrouped\n",
    "group_vars/site": "p: gv-site\n",
    "host_vars/w1.json": '{"d": "hv-w1"}\n',
    "host_vars/nobody.yml": "d: nobody\n",
}


def test_precedence_matches_ansible_inventory(tmp_path: Path) -> None:
    """The same inventory through ansible-inventory itself: every host's variables must agree."""
    inventory = load(tmp_path, PRECEDENCE)
    result = subprocess.run(
        [ANSIBLE_INVENTORY, "-i", str(tmp_path / "hosts.yml"), "--list"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False"},
    )
    ansible = json.loads(result.stdout)["_meta"]["hostvars"]
    assert inventory.hosts == ansible
    assert sorted(inventory.hosts) == ["db01", "db02", "db03", "lonely", "w1", "w2", "w3"]


def test_precedence_details(tmp_path: Path) -> None:
    inventory = load(tmp_path, PRECEDENCE)
    w1 = inventory.hosts["w1"]
    assert w1["a"] == "db-inv"  # same depth: higher ansible_group_priority wins over web
    assert w1["c"] == "gv-all"  # group_vars/all beats inventory vars of child groups (Ansible's order)
    assert w1["y"] == "gv-web-20"  # group_vars/web/ files in sorted order
    assert w1["d"] == "hv-w1"  # host_vars beat the host's inventory entry
    assert w1["e"] == "w1-zed-entry"  # later host entries replace earlier ones
    assert "ansible_group_priority" not in w1
    assert inventory.hosts["w3"]["ansible_port"] == 2222
    assert inventory.hosts["lonely"]["z"] == "gv-ungrouped"
    assert inventory.all_vars == {
        "a": "all-inv", "b": "gv-all", "c": "gv-all", "d": "all-inv", "e": "all-inv", "f": "all-inv", "x": "gv-all",
    }  # fmt: skip
    assert inventory.groups["ungrouped"] == ["lonely"]
    assert inventory.groups["db"] == ["db01", "db02", "db03", "w1"]
    assert any("all.yaml is ignored" in note for note in inventory.notes)
    assert any("host_vars/nobody.yml matches no host" in note for note in inventory.notes)


def test_positions_follow_the_winning_value(tmp_path: Path) -> None:
    inventory = load(tmp_path, PRECEDENCE)
    w1 = inventory.hosts["w1"]
    assert str(inventory.locate(w1, "d")).endswith("host_vars/w1.json:1:7")
    assert str(inventory.locate(w1, "y")).endswith("group_vars/web/20.yml:1:4")
    assert str(inventory.locate(w1, "a")).endswith("hosts.yml:15:21")
    assert str(inventory.locate.key(inventory.all_vars, "x")).endswith("group_vars/all.yml:3:1")


def test_hosts_with_null_vars_and_string_sections(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        {
            "hosts.yml": "all:\n  children:\n    a:\n      hosts: solo\n"
            "    b:\n      hosts:\n        solo:\n        two: ~\n"
        },
    )
    assert inventory.hosts == {"solo": {}, "two": {}}
    assert inventory.groups["a"] == ["solo"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("all:\n  hsots: {a: }\n", "2:3 unknown key 'hsots' in group 'all' | did you mean 'hosts'?"),
        ("all:\n  children:\n    web:\n      var: {}\n", "4:7 unknown key 'var' in group 'web' | did you mean 'vars'?"),
        ("all:\n  hosts: [a, b]\n", "2:10 'hosts' of group 'all' must be a mapping, not a list"),
        ("all:\n  hosts:\n    a: 5\n", "3:8 variables of host 'a' must be a mapping, not a number"),
        ("all: [a]\n", "1:6 group 'all' must be a mapping"),
        ("- all\n", "1:1 an inventory must be a mapping of group names, not a list"),
        ("", "1:1 the inventory is empty"),
        ("plugin: aws_ec2\n", "1:1 this is an inventory plugin configuration"),
        (
            "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n",
            "7:13 groups contain each other in a loop: a -> b -> a",
        ),
        ("all:\n  children:\n    all:\n", "3:5 'all' cannot be a child group"),
        (
            "all:\n  vars:\n    ansible_group_priority: high\n",
            "3:29 ansible_group_priority of group 'all' must be a whole number",
        ),
    ],
)
def test_structure_problems(tmp_path: Path, text: str, expected: str) -> None:
    (problem,) = problems(tmp_path, {"hosts.yml": text})
    assert problem.startswith(f"hosts.yml:{expected}")


def test_ini_inventory_is_refused_with_the_conversion_command(tmp_path: Path) -> None:
    (tmp_path / "hosts").write_text("[web]\nweb1 ansible_host=192.0.2.1\n")
    with pytest.raises(ConfigError) as caught:
        load_inventory(tmp_path / "hosts")
    (problem,) = caught.value.problems
    assert "INI inventory" in problem.message and "ansible-inventory" in problem.hint


def test_ini_extension_directory_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text("all:\n")
    for path, fragment in [
        (tmp_path / "hosts.ini", "INI inventories are not supported"),
        (tmp_path, "is a directory"),
        (tmp_path / "nope.yml", "not found"),
    ]:
        with pytest.raises(ConfigError) as caught:
            load_inventory(path)
        assert len(caught.value.problems) == 1
        assert fragment in caught.value.problems[0].message


def test_group_vars_problems_are_located_in_their_file(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "hosts.yml": "all:\n  children:\n    web:\n      hosts: {w1: }\n",
            "group_vars/web.yml": "a: [1, 2\n",
            "host_vars/w1.yml": "- not a mapping\n",
        },
    )
    assert found[0].startswith("group_vars/web.yml:2:1 YAML syntax error")
    assert found[1].startswith("host_vars/w1.yml:1:1 a vars file must be a mapping")


# -- fleet-wide variables belong to all ------------------------------------------------------------------


def test_fleet_variables_on_a_group_or_host_are_errors(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "hosts.yml": """\
                all:
                  children:
                    clients:
                      vars:
                        fleetdns_zones: {}
                      hosts:
                        gw: {fleetdns_owner: me}
                """,
            "group_vars/clients.yml": "fleetdns_providers: {}\n",
        },
    )
    assert found == [
        "hosts.yml:5:9 fleetdns_zones is set on group 'clients' | set it under all.vars or group_vars/all: "
        "it describes the whole fleet",
        "group_vars/clients.yml:1:1 fleetdns_providers is set on group 'clients' | set it under all.vars or "
        "group_vars/all: it describes the whole fleet",
        "hosts.yml:7:14 fleetdns_owner is set on host 'gw' | set it under all.vars or group_vars/all: "
        "it describes the whole fleet",
    ]


def test_fleet_variables_in_group_vars_all_are_fine(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        {"hosts.yml": "all:\n  hosts: {gw: }\n", "group_vars/all/fleet.yml": "fleetdns_owner: from-group-vars\n"},
    )
    assert inventory.all_vars["fleetdns_owner"] == "from-group-vars"
    assert inventory.hosts["gw"]["fleetdns_owner"] == "from-group-vars"


# -- templating --------------------------------------------------------------------------------------------


def test_templates_in_fleet_variables_are_rendered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_TEST_SECRET", "c2VjcmV0LXZhbHVl")
    monkeypatch.delenv("FLEET_TEST_UNSET", raising=False)
    inventory = load(
        tmp_path,
        {
            "hosts.yml": """\
                all:
                  vars:
                    domain: example.test
                    lab_port: 5353
                    other: "{{ not_rendered }}"
                    fleetdns_owner: "{{ owner_prefix }}-main"
                    owner_prefix: "{{ 'fleet' }}"
                    fleetdns_providers:
                      lab:
                        type: rfc2136
                        server: "{{ lookup('ansible.builtin.file', 'server.txt') }}"
                        port: "{{ lab_port }}"
                        tsig_secret: "{{ lookup('env', 'FLEET_TEST_SECRET') }}"
                        spare: "{{ lookup('env', 'FLEET_TEST_UNSET') }}"
                        other: "{{ missing | default('fallback') }}"
                        raw: !unsafe "{{ kept }}"
                  children:
                    clients:
                      vars:
                        fleetdns_names: ["{{ inventory_hostname }}.{{ domain }}"]
                      hosts:
                        gw:
                """,
            "server.txt": "127.0.0.1\n",
        },
    )
    lab = inventory.all_vars["fleetdns_providers"]["lab"]
    assert inventory.all_vars["fleetdns_owner"] == "fleet-main"
    assert lab["server"] == "127.0.0.1"  # file lookup: relative to the inventory, trailing newline stripped
    assert inventory.secrets == {"c2VjcmV0LXZhbHVl"}
    assert lab["port"] == 5353 and isinstance(lab["port"], int)  # one expression keeps its native type
    assert lab["tsig_secret"] == "c2VjcmV0LXZhbHVl" and isinstance(lab["tsig_secret"], Secret)
    assert repr(lab["tsig_secret"]) == "'********'"
    assert lab["spare"] == ""  # Ansible's env lookup gives '' for an unset variable
    assert lab["other"] == "fallback"
    assert lab["raw"] == "{{ kept }}"
    assert inventory.all_vars["other"] == "{{ not_rendered }}"  # not read by fleetdns: left as written
    assert inventory.hosts["gw"]["fleetdns_names"] == ["gw.example.test"]
    assert inventory.hosts["gw"]["fleetdns_providers"] is inventory.all_vars["fleetdns_providers"]
    assert inventory.unset_env == ["FLEET_TEST_UNSET"]
    assert any("FLEET_TEST_UNSET is not set" in note for note in inventory.notes)
    assert "c2VjcmV0LXZhbHVl" in inventory.secrets
    # rendered values keep the template string's position
    assert str(inventory.locate(lab, "port")).endswith("hosts.yml:12:15")
    assert inventory.locate.unset_env(lab, "spare") == ["FLEET_TEST_UNSET"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{{ nope }}", "variable 'nope' is undefined"),
        ("x-{{ nope }}", "variable 'nope' is undefined"),
        ("{{ lookup('pipe', 'id') }}", "lookup 'pipe' is not supported by fleetdns"),
        ("{{ 'a' | to_json }}", "filter 'to_json' is not supported by fleetdns"),
        ("{{ nope | mandatory }}", "mandatory variable 'nope' is not defined"),
        ("{{ nope | mandatory('set nope!') }}", "set nope!"),
        ("{{ lookup('file', 'absent.txt') }}", "lookup('file'): absent.txt not found"),
        ("{{ unclosed", "template syntax error"),
        ("{{ loop_a }}", "variables refer to each other in a loop: loop_a -> loop_b -> loop_a"),
    ],
)
def test_template_problems_are_located(tmp_path: Path, value: str, expected: str) -> None:
    found = problems(
        tmp_path,
        {
            "hosts.yml": f"""\
                all:
                  vars:
                    loop_a: "{{{{ loop_b }}}}"
                    loop_b: "{{{{ loop_a }}}}"
                    fleetdns_owner: {json.dumps(value)}
                """
        },
    )
    assert len(found) == 1
    where = "hosts.yml:4:13 " if "loop" in expected else "hosts.yml:5:21 "
    assert found[0].startswith(where + expected)
    assert "|" in found[0] and found[0].split("| ")[1]  # there is a hint


def test_undefined_variable_inside_a_referenced_variable_points_there(tmp_path: Path) -> None:
    (problem,) = problems(
        tmp_path,
        {"hosts.yml": 'all:\n  vars:\n    base: "{{ nope }}"\n    fleetdns_owner: "{{ base }}"\n'},
    )
    assert problem.startswith("hosts.yml:3:11 variable 'nope' is undefined")


def test_env_value_never_appears_in_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_TEST_SECRET", "hunter2-very-secret")
    inventory = load(
        tmp_path,
        {
            "hosts.yml": """\
                all:
                  vars:
                    fleetdns_zones:
                      example.test:
                        records:
                          - {name: www, type: A, value: "{{ lookup('env', 'FLEET_TEST_SECRET') }}"}
                          - {name: txt, type: A, value: "x{{ lookup('env', 'FLEET_TEST_SECRET') }}"}
                """
        },
    )
    with pytest.raises(ConfigError) as caught:
        validate(inventory.all_vars, inventory.hosts, inventory.locate)
    text = str(caught.value)
    assert "hunter2" not in text
    assert text.count("********") == 2
    assert "hosts.yml:6:41" in text and "hosts.yml:7:41" in text


def test_unset_env_is_named_in_the_validation_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLEETDNS_TEST_TSIG", raising=False)
    inventory = load(
        tmp_path,
        {
            "hosts.yml": """\
                all:
                  vars:
                    fleetdns_providers:
                      lab:
                        type: rfc2136
                        server: 127.0.0.1
                        tsig_key_name: fleet-admin
                        tsig_secret: "{{ lookup('env', 'FLEETDNS_TEST_TSIG') }}"
                    fleetdns_zones:
                      example.test: {provider: lab}
                """
        },
    )
    with pytest.raises(ConfigError) as caught:
        validate(inventory.all_vars, inventory.hosts, inventory.locate)
    (problem,) = caught.value.problems
    assert "tsig_key_name and tsig_secret go together" in problem.message
    assert "environment variable FLEETDNS_TEST_TSIG is not set" in problem.hint


# -- Vault ------------------------------------------------------------------------------------------------


def _encrypt(text: str, password: str) -> str:
    from ansible.parsing.vault import VaultLib, VaultSecret

    return VaultLib([("default", VaultSecret(password.encode()))]).encrypt(text).decode()


@pytest.fixture(scope="module")
def vaulted() -> dict[str, str]:
    return {
        "inline": _encrypt("dGhlLXRzaWctc2VjcmV0", "right"),
        "file": _encrypt("vault_server: 127.0.0.9\nfleetdns_owner: from-vault\n", "right"),
    }


def _vault_files(vaulted: dict[str, str]) -> dict[str, str]:
    inline = textwrap.indent(vaulted["inline"], " " * 14)
    return {
        "hosts.yml": (
            "all:\n  vars:\n    fleetdns_providers:\n      lab:\n        type: rfc2136\n"
            '        server: "{{ vault_server }}"\n        tsig_key_name: k\n'
            f"        tsig_secret: !vault |\n{inline}"
        ),
        "group_vars/all/vault.yml": vaulted["file"],
        "right.txt": "right\n",
        "wrong.txt": "wrong\n",
    }


def test_vault_file_and_inline_value(tmp_path: Path, vaulted: dict[str, str]) -> None:
    inventory = load(tmp_path, _vault_files(vaulted), vault_password_file=str(tmp_path / "right.txt"))
    lab = inventory.all_vars["fleetdns_providers"]["lab"]
    assert lab["tsig_secret"] == "dGhlLXRzaWctc2VjcmV0"
    assert lab["server"] == "127.0.0.9"
    assert inventory.all_vars["fleetdns_owner"] == "from-vault"
    assert inventory.secrets == {"dGhlLXRzaWctc2VjcmV0", "127.0.0.9", "from-vault"}  # values, not names
    assert str(inventory.locate(lab, "tsig_secret")).endswith("hosts.yml:8:22")


def test_vault_password_from_environment(
    tmp_path: Path, vaulted: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, _vault_files(vaulted))
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(tmp_path / "right.txt"))
    assert load_inventory(tmp_path / "hosts.yml").all_vars["fleetdns_owner"] == "from-vault"


def test_wrong_or_missing_vault_password(
    tmp_path: Path, vaulted: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD_FILE", raising=False)
    (wrong,) = problems(tmp_path, _vault_files(vaulted), vault_password_file=str(tmp_path / "wrong.txt"))
    assert wrong.startswith("group_vars/all/vault.yml:1:1 cannot decrypt this vault-encrypted file")
    assert "password is wrong" in wrong
    (missing,) = problems(tmp_path, _vault_files(vaulted))
    assert missing.startswith("group_vars/all/vault.yml:1:1 this file is vault-encrypted but no vault password")
    assert "--vault-password-file" in missing


def test_inline_vault_needs_a_password_only_when_fleetdns_reads_it(
    tmp_path: Path, vaulted: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD_FILE", raising=False)
    inline = textwrap.indent(vaulted["inline"], "      ")
    inventory = load(tmp_path, {"hosts.yml": f"all:\n  vars:\n    unrelated: !vault |\n{inline}"})
    assert "unrelated" in inventory.all_vars
    (problem,) = problems(tmp_path, {"hosts.yml": f"all:\n  vars:\n    fleetdns_owner: !vault |\n{inline}"})
    assert problem.startswith("hosts.yml:3:21 this value is vault-encrypted but no vault password was given")


def test_wrong_inline_vault_password_is_located(tmp_path: Path, vaulted: dict[str, str]) -> None:
    files = _vault_files(vaulted)
    del files["group_vars/all/vault.yml"]
    files["hosts.yml"] = files["hosts.yml"].replace('"{{ vault_server }}"', "127.0.0.1")
    (problem,) = problems(tmp_path, files, vault_password_file=str(tmp_path / "wrong.txt"))
    assert problem.startswith("hosts.yml:8:22 cannot decrypt this vault-encrypted value")
    assert "dGhl" not in problem


# -- the reference inventory and a big one ------------------------------------------------------------------


def test_hosts_example_loads_and_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEETDNS_LAB_TSIG", "c2VjcmV0LXNlY3JldC1zZWNyZXQ=")
    inventory = load_inventory(REPO / "hosts.example.yml")
    config = validate(inventory.all_vars, inventory.hosts, inventory.locate)
    assert config.owner == "fleet-main"
    assert set(config.providers) == {"default", "lab"}
    assert config.providers["lab"].options["tsig_secret"] == "c2VjcmV0LXNlY3JldC1zZWNyZXQ="
    assert len(config.zones["example.test."].records) == 9
    assert {h: (c.names, c.agent) for h, c in config.hosts.items()} == {
        "gw": (["gw.example.test."], "fleetdns"),
        "sensor-01": (["sensor-01.example.test."], "ddclient"),
    }
    assert inventory.notes == []


def test_hosts_example_without_the_lab_secret_still_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    """`make demo` runs without FLEETDNS_LAB_TSIG: the unused lab provider only earns a note."""
    monkeypatch.delenv("FLEETDNS_LAB_TSIG", raising=False)
    inventory = load_inventory(REPO / "hosts.example.yml")
    config = validate(inventory.all_vars, inventory.hosts, inventory.locate)
    assert "lab" not in config.providers
    assert any("FLEETDNS_LAB_TSIG is not set" in note for note in config.notes)
    assert any("FLEETDNS_LAB_TSIG is not set" in note for note in inventory.notes)


def test_ten_thousand_records_load(tmp_path: Path) -> None:
    """Correctness at size (the speed is measured by bench/, not asserted here)."""
    path = tmp_path / "big.yml"
    path.write_text(big_inventory(10_000, devices=50))
    started = time.perf_counter()
    inventory = load_inventory(path)
    elapsed = time.perf_counter() - started
    records = inventory.all_vars["fleetdns_zones"]["big.test"]["records"]
    assert len(records) == 10_000
    assert str(inventory.locate(records[9999], "value")).endswith("big.yml:10015:49")
    config = validate(inventory.all_vars, inventory.hosts, inventory.locate)
    assert len(config.zones["big.test."].records) == 10_000
    assert len(config.hosts) == 50
    print(f"10,000-record inventory loaded in {elapsed:.3f} s")


def test_ansible_is_imported_only_when_a_vault_value_is_met(tmp_path: Path) -> None:
    """Importing ansible costs ~0.7 s: an inventory without Vault must not pay for it."""
    code = (
        "import sys; from fleetdns.inventory import load_inventory; "
        f"load_inventory({str(REPO / 'hosts.example.yml')!r}); "
        "print(sorted(m for m in sys.modules if m == 'ansible' or m.startswith('ansible.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": CHILD_PYTHONPATH},
    )
    assert result.stdout.strip() == "[]"


def test_redact_replaces_every_known_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_TEST_SECRET", "swordfish-42")
    inventory = load(
        tmp_path, {"hosts.yml": "all:\n  vars:\n    fleetdns_owner: \"{{ lookup('env', 'FLEET_TEST_SECRET') }}\"\n"}
    )
    assert inventory.redact("owner swordfish-42 and swordfish-42") == "owner ******** and ********"


def test_a_vault_encrypted_inventory_file(tmp_path: Path, vaulted: dict[str, str]) -> None:
    (tmp_path / "pw.txt").write_text("right\n")
    (tmp_path / "hosts.yml").write_text(_encrypt("all:\n  vars:\n    fleetdns_owner: sealed\n", "right"))
    inventory = load_inventory(tmp_path / "hosts.yml", vault_password_file=str(tmp_path / "pw.txt"))
    assert inventory.all_vars["fleetdns_owner"] == "sealed"


def test_lookup_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_A", "alpha")
    monkeypatch.setenv("FLEET_B", "beta")
    monkeypatch.delenv("FLEET_UNSET", raising=False)
    inventory = load(
        tmp_path,
        {
            "hosts.yml": """\
                all:
                  vars:
                    fleetdns_x:
                      joined: "{{ lookup('env', 'FLEET_A', 'FLEET_B') }}"
                      listed: "{{ query('env', 'FLEET_A', 'FLEET_B') }}"
                      fallback: "{{ lookup('env', 'FLEET_UNSET', default='dflt') }}"
                      commented: "a{# not shown #}b"
                      upper: "{{ 'x' | upper }}"
                """
        },
    )
    assert inventory.all_vars["fleetdns_x"] == {
        "joined": "alpha,beta",
        "listed": ["alpha", "beta"],
        "fallback": "dflt",
        "commented": "ab",
        "upper": "X",
    }
    assert inventory.unset_env == []


# -- hostile input ---------------------------------------------------------------------------------------


def test_an_aliased_templated_container_is_rendered_once(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        {
            "hosts.yml": """\
                all:
                  vars:
                    base: &base ["{{ 'a' | upper }}"]
                    fleetdns_lists: [*base, *base, {nested: *base}]
                """
        },
    )
    lists = inventory.all_vars["fleetdns_lists"]
    assert lists[0] == ["A"]
    assert lists[0] is lists[1] is lists[2]["nested"]


def test_a_failing_template_under_a_secret_option_is_shown_once_without_its_text(tmp_path: Path) -> None:
    """The failing template is also met as a variable of its own: that report must not quote it either."""
    found = problems(
        tmp_path,
        {
            "hosts.yml": """\
                all:
                  vars:
                    fleetdns_lab_secret: "{{ 'S3cr3t-Value-Literal' | b64decode }}"
                    fleetdns_providers:
                      lab:
                        type: rfc2136
                        Tsig_Secret: "{{ fleetdns_lab_secret }}"
                """
        },
    )
    (problem,) = found
    assert problem.startswith("hosts.yml:3:26 the template of Tsig_Secret cannot be rendered")
    assert "s3cr3t" not in problem.lower()


def test_host_ranges_that_would_add_too_many_hosts_are_refused_once(tmp_path: Path) -> None:
    found = problems(tmp_path, {"hosts.yml": "all:\n  hosts:\n    web[0:99999999]:\n    db[0:999999]:\n"})
    assert found == [
        "hosts.yml:3:5 host ranges add more than 100,000 hosts to this inventory ('web[0:99999999]' alone: "
        "100,000,000) | list the hosts, or split the fleet into inventories of its own"
    ]


def test_a_host_range_with_step_zero_is_an_invalid_pattern(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, {"hosts.yml": "all:\n  hosts:\n    web[1:5:0]:\n"})
    assert problem.startswith("hosts.yml:3:5 host pattern 'web[1:5:0]' is not valid")
