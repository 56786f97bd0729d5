"""Hostile inventories against the real `fleetdns validate`, in a subprocess held to 1 GiB of address
space and 60 s of CPU: alias bombs, deep nesting, huge files, secrets in failing templates, short
Vault passwords, a secret used as a record name, oversized and malformed records on every provider,
values that would reach a zone file. Each is refused (or validated) with short, located messages, no
secret in them, and no file written. Last, device names over records fleetdns does not own, through
`fleetdns plan/apply` on zone files and on a real BIND and through the dns_record module.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from integration.playbook_runner import run_playbook

FLEETDNS = Path(sys.executable).parent / "fleetdns"
ANSIBLE_VAULT = Path(sys.executable).parent / "ansible-vault"
MEMORY_LIMIT = 1024**3
CPU_LIMIT = 60
SECRET = "c2VjcmV0LXRzaWcta2V5LWZvci10ZXN0cw=="
LOCATED = re.compile(r"^error: [^:\s]+:\d+:\d+: ", re.MULTILINE)
PROVIDER = """\
all:
  vars:
    fleetdns_providers:
      lab:
        type: rfc2136
        server: 127.0.0.1
        tsig_key_name: the-key-name
"""


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT, CPU_LIMIT))


def validate(directory: Path, *extra: str) -> subprocess.CompletedProcess:
    """`fleetdns validate -i hosts.yml` in `directory` under the limits; asserts nothing was written."""
    if not FLEETDNS.exists():
        pytest.fail(f"{FLEETDNS} not found: run `make venv`", pytrace=False)
    before = _snapshot(directory)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("FLEETDNS_", "ANSIBLE_VAULT"))}
    result = subprocess.run(
        [str(FLEETDNS), "validate", "-i", "hosts.yml", *extra],
        cwd=directory,
        env=environ,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        preexec_fn=_limits,
        check=False,
    )
    assert _snapshot(directory) == before, "validate wrote or changed a file"
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr[-2000:]
    return result


def refused(directory: Path, *extra: str, line: int | None = None) -> str:
    """The stderr of a run that must fail with located, short problems (all on `line`, when given)."""
    result = validate(directory, *extra)
    assert result.returncode == 1, result.stderr[-2000:]
    assert LOCATED.search(result.stderr), result.stderr[-2000:]
    assert len(result.stderr) < 4000, f"{len(result.stderr)} characters of messages"
    lines = {int(found) for found in re.findall(r"^error: [^:\s]+:(\d+):", result.stderr, re.MULTILINE)}
    assert line is None or lines == {line}, result.stderr
    return result.stderr


def _snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(directory)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(directory.rglob("*"))
    }


def _bomb(leaf: str, levels: int = 9) -> str:
    """A billion laughs: each anchor is a list of nine aliases of the one before."""
    lines = ["all:", "  vars:", f"    l0: &l0 [{', '.join([leaf] * 9)}]"]
    for level in range(1, levels):
        lines.append(f"    l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    lines.append(f"    fleetdns_owner: *l{levels - 1}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("leaf", ["lol", "!unsafe '{{ lol }}'", "'{{ lol }}'"], ids=["plain", "unsafe", "template"])
def test_an_alias_bomb_is_refused_at_the_alias(tmp_path: Path, leaf: str) -> None:
    (tmp_path / "hosts.yml").write_text(_bomb(leaf))
    stderr = refused(tmp_path)
    assert "aliases bring in more than 1,000,000 values" in stderr
    assert re.search(r"^error: hosts.yml:9:\d+: ", stderr, re.MULTILINE), stderr


def test_too_many_aliases_are_refused(tmp_path: Path) -> None:
    uses = "\n".join(f"    v{i}: *a" for i in range(100_001))
    (tmp_path / "hosts.yml").write_text(f"all:\n  vars:\n    a: &a x\n{uses}\n")
    assert "more than 100,000 aliases are used" in refused(tmp_path)


@pytest.mark.parametrize(
    "value",
    [
        "[" * 10_000 + "]" * 10_000,
        "!unsafe " + "[" * 10_000 + "]" * 10_000,
        '"{{ ' + "[" * 10_000 + "]" * 10_000 + ' }}"',
    ],
    ids=["plain", "unsafe", "template"],
)
def test_deep_nesting_is_refused(tmp_path: Path, value: str) -> None:
    (tmp_path / "hosts.yml").write_text(f"all:\n  vars:\n    fleetdns_owner: {value}\n")
    stderr = refused(tmp_path)
    assert "nested more than 100 levels" in stderr or "nests too deeply" in stderr


def test_nesting_built_from_aliases_counts_too(tmp_path: Path) -> None:
    """Each anchor holds 60 levels around the one before: no single value is written 100 deep."""
    lines = ["all:", "  vars:", "    a0: &a0 " + "[" * 60 + "x" + "]" * 60]
    lines += [f"    a{i}: &a{i} " + "[" * 60 + f"*a{i - 1}" + "]" * 60 for i in range(1, 4)]
    (tmp_path / "hosts.yml").write_text("\n".join(lines) + "\n")
    assert "nested more than 100 levels deep here (aliases included)" in refused(tmp_path)


def test_a_long_chain_of_variables_is_refused(tmp_path: Path) -> None:
    chain = "\n".join(f'    v{i}: "{{{{ v{i + 1} }}}}"' for i in range(2_000))
    (tmp_path / "hosts.yml").write_text(f'all:\n  vars:\n    fleetdns_owner: "{{{{ v0 }}}}"\n{chain}\n    v2000: x\n')
    assert "more than 40 levels deep" in refused(tmp_path)


@pytest.mark.parametrize("where", ["hosts.yml", "group_vars/all.yml"])
def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path, where: str) -> None:
    (tmp_path / "hosts.yml").write_text("all:\n  hosts:\n    web1:\n")
    huge = tmp_path / where
    huge.parent.mkdir(exist_ok=True)
    with huge.open("w") as handle:
        handle.write("all:\n" if where == "hosts.yml" else "")
        line = "# " + "x" * 1022 + "\n"
        for _line in range(17 * 1024):
            handle.write(line)
    stderr = refused(tmp_path)
    assert f"{where}:1:1: the file is larger than 16 MiB" in stderr


@pytest.mark.parametrize("key", ["tsig_secret", "TSIG_Secret"])
@pytest.mark.parametrize(
    "template",
    [f"{{{{ '{SECRET}' | b64decode }}}}", f"{{{{ '{SECRET}' }}", f"{{{{ {SECRET} }}}}"],
    ids=["unsupported-filter", "missing-brace", "undefined"],
)
def test_a_secret_in_a_failing_template_never_prints(tmp_path: Path, key: str, template: str) -> None:
    (tmp_path / "hosts.yml").write_text(PROVIDER + f'        {key}: "{template}"\n')
    stderr = refused(tmp_path)
    assert f"the template of {key} cannot be rendered" in stderr
    assert SECRET[:8].lower() not in stderr.lower()


def test_a_secret_used_as_a_record_name_is_masked_in_any_case(tmp_path: Path) -> None:
    (tmp_path / "hosts.yml").write_text(
        PROVIDER
        + f'        tsig_secret: "{SECRET}"\n'
        + "    fleetdns_zones:\n      example.test:\n        provider: lab\n        records:\n"
        + f'          - {{name: "{SECRET}", type: A, value: 192.0.2.1}}\n'
        + f'          - {{name: www, type: A, value: "{SECRET.upper()}"}}\n'
    )
    stderr = refused(tmp_path)
    assert SECRET[:8].lower() not in stderr.lower()
    assert "********.example.test" in stderr


def test_a_short_vault_password_is_not_spelled_out_by_masking(tmp_path: Path) -> None:
    if not ANSIBLE_VAULT.exists():
        pytest.fail(f"{ANSIBLE_VAULT} not found: ansible-core is a test dependency (make venv)", pytrace=False)
    (tmp_path / "pw.txt").write_text("e\n")
    encrypted = subprocess.run(
        [str(ANSIBLE_VAULT), "encrypt_string", "--vault-password-file", "pw.txt", SECRET, "--name", "tsig_secret"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    indented = "".join(f"        {line}\n" for line in encrypted.splitlines())
    (tmp_path / "hosts.yml").write_text(PROVIDER + "        port: seventy-three\n" + indented)
    result = validate(tmp_path, "--vault-password-file", "pw.txt")
    assert result.returncode == 0, result.stderr
    assert "'seventy-three' is not a whole number" in result.stderr
    assert "********" not in result.stdout + result.stderr


def test_a_secret_yaml_cannot_type_is_not_quoted(tmp_path: Path) -> None:
    """Written at test time, not kept in the malformed corpus: ansible-test's yamllint crashes on a bad `!!int`."""
    secret = "c2VjcmV0LXZhbHVlLXdyaXR0ZW4"
    (tmp_path / "hosts.yml").write_text(
        "all:\n  vars:\n    fleetdns_providers:\n      cf:\n        type: cloudflare\n"
        "        zone_id: 0123456789abcdef0123456789abcdef\n        account_id: 0123456789abcdef0123456789abcdef\n"
        f"        api_token: !!int {secret}\n    fleetdns_zones:\n      example.test: {{provider: cf}}\n",
        encoding="utf-8",
    )
    stderr = refused(tmp_path)
    assert "hosts.yml:8:20" in stderr and "cannot be read as written (not shown: it is a secret)" in stderr
    assert secret not in stderr


# ---- oversized and malformed records: located at validation, on every provider, before anything is sent

PROVIDERS = """\
all:
  vars:
    fleetdns_providers:
      lab: {type: rfc2136, server: 127.0.0.1, tsig_key_name: the-key-name, tsig_secret: "SECRET_HERE"}
      cf: {type: cloudflare, api_token: t0ken-t0ken-t0ken}
      files: {type: zonefile, directory: zones}
    fleetdns_zones:
      example.test:
        provider: {provider}
        records:
"""
# 233 characters: the name is valid, its marker a.<name>._fleetdns.example.test. is not
LONG_NAME = ".".join(["a" * 63] * 3) + "." + "b" * 41


def _records(provider: str, *records: str) -> str:
    return PROVIDERS.replace("{provider}", provider).replace("SECRET_HERE", SECRET) + "".join(
        f"          - {r}\n" for r in records
    )


@pytest.mark.parametrize("provider", ["lab", "cf", "files"])
@pytest.mark.parametrize(
    ("record", "line", "message"),
    [
        ("{name: big, type: TXT, value: " + "x" * 200_000 + "}", 11, "more than the 65,535 one record can hold"),
        (
            "{name: big, type: TXT, value: [" + ", ".join(c * 30_000 for c in "xyz") + "]}",
            11,
            {"*": "a record set must fit one DNS message of 65,535 bytes", "cf": "'cf' takes at most 4,096"},
        ),
        ('{name: "@", type: TXT, value: \'"' + "x" * 300 + "\"'}", 11, "a quoted string holds at most 255 bytes"),
        ("{name: c, type: CNAME, value: " + ".".join(["a" * 63] * 4) + "}", 11, "255 octets"),
        ("{name: " + "a" * 64 + ", type: A, value: 192.0.2.1}", 11, "longer than 63 characters"),
        (
            '{name: e164, type: NAPTR, value: \'100 10 "u" "E2U+sip" "garbage" .\'}',
            11,
            {"*": "the regexp 'garbage'", "cf": "the cloudflare provider 'cf' cannot manage NAPTR records"},
        ),
        ('{name: "@", type: MX, value: "10 mail ; 20 backup"}', 11, "text after ';' is a zone-file comment"),
        ('{name: "@", type: MX, value: "10 mail\\n$INCLUDE /etc/passwd"}', 11, "holds a line break"),
    ],
    ids=["rdata", "message", "txt-string", "target-name", "label", "naptr", "comment", "newline"],
)
def test_oversized_and_malformed_records_are_refused(
    tmp_path: Path, provider: str, record: str, line: int, message: str | dict[str, str]
) -> None:
    (tmp_path / "hosts.yml").write_text(_records(provider, record))
    stderr = refused(tmp_path, line=line)
    expected = message.get(provider, message["*"]) if isinstance(message, dict) else message
    assert f"error: hosts.yml:{line}:" in stderr and expected in stderr, stderr
    assert "$INCLUDE /etc/passwd" not in stderr or "holds a line break" in stderr


@pytest.mark.parametrize("provider", ["lab", "files"])
def test_a_name_whose_ownership_marker_cannot_exist_is_refused(tmp_path: Path, provider: str) -> None:
    (tmp_path / "hosts.yml").write_text(_records(provider, "{name: " + LONG_NAME + ", type: A, value: 192.0.2.1}"))
    stderr = refused(tmp_path, line=11)
    assert "its ownership marker a.aaaa" in stderr and "would be 260 octets" in stderr


def test_cloudflare_declares_its_own_limits(tmp_path: Path) -> None:
    (tmp_path / "hosts.yml").write_text(_records("cf", "{name: t, type: TXT, value: " + "x" * 5000 + "}"))
    assert "the cloudflare provider 'cf' takes at most 4,096" in refused(tmp_path, line=11)
    (tmp_path / "hosts.yml").write_text(_records("files", "{name: t, type: TXT, value: " + "x" * 5000 + "}"))
    assert validate(tmp_path).returncode == 0
    # Cloudflare marks ownership in a comment: a name near the limit has no marker record to fit
    (tmp_path / "hosts.yml").write_text(_records("cf", "{name: " + LONG_NAME + ", type: A, value: 192.0.2.1}"))
    assert validate(tmp_path).returncode == 0


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("fleetdns_owner: |\n      fleet-main\n", "owner id 'fleet-main\\n' is not valid"),
        ('fleetdns_owner: "fleet main"\n', "owner id 'fleet main' is not valid"),
        ("fleetdns_providers: {files: {type: zonefile, soa_email: 'a;b@example.test'}}\n", "soa_email"),
        ('fleetdns_providers: {files: {type: zonefile, soa_email: "a@example.test\\n"}}\n', "soa_email"),
    ],
    ids=["owner-newline", "owner-space", "soa-semicolon", "soa-newline"],
)
def test_every_value_that_reaches_a_zone_file_is_checked(tmp_path: Path, setting: str, message: str) -> None:
    provider = "files" if "fleetdns_providers" in setting else "default"
    (tmp_path / "hosts.yml").write_text(
        "all:\n  vars:\n    " + setting + f"    fleetdns_zones:\n      example.test: {{provider: {provider}}}\n"
    )
    stderr = refused(tmp_path, line=3)
    assert message in stderr, stderr


def test_a_device_name_whose_marker_cannot_exist_is_refused(tmp_path: Path) -> None:
    (tmp_path / "hosts.yml").write_text(
        _records("files")
        + "  children:\n    fleetdns_clients:\n      hosts:\n"
        + f"        gw: {{fleetdns_names: [{LONG_NAME}.example.test]}}\n"
    )
    stderr = refused(tmp_path, line=14)
    assert "device name" in stderr and "ownership marker" in stderr


# ---- device names over records fleetdns does not own: the CLI on zone files and on BIND, and dns_record

HANDMADE_ZONE = """\
$ORIGIN example.test.
$TTL 3600
@\tIN SOA ns1 hostmaster 1 3600 600 86400 300
@\tIN NS ns1
ns1\tIN A 192.0.2.53
mail\tIN A 192.0.2.25
"""
DEVICE = """\
  children:
    fleetdns_clients:
      hosts:
        mailhost: {fleetdns_names: [mail.example.test]}
"""
IN_THE_WAY = "mail A exists (ttl 3600: 192.0.2.25) and is not owned by fleetdns, but mail is a device name"


def fleetdns(directory: Path, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FLEETDNS_")}
    environ.update(env or {})
    result = subprocess.run(
        [str(FLEETDNS), *argv], cwd=directory, env=environ, capture_output=True, text=True, timeout=120, check=False
    )
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr[-2000:]
    return result


def test_a_device_name_never_takes_over_an_unowned_record_in_a_zone_file(tmp_path: Path) -> None:
    zone_file = tmp_path / "zones" / "example.test.zone"
    zone_file.parent.mkdir()
    zone_file.write_text(HANDMADE_ZONE)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  vars:\n    fleetdns_zones:\n      example.test: {}\n" + DEVICE)
    for command in (["plan"], ["apply", "--yes"]):
        result = fleetdns(tmp_path, *command, "-i", "hosts.yml")
        assert result.returncode == 1 and IN_THE_WAY in result.stderr and "--adopt" in result.stderr, result.stderr
        assert zone_file.read_text() == HANDMADE_ZONE
    # the host leaves the inventory: nothing of it was ours, so nothing is deleted
    inventory.write_text("all:\n  vars:\n    fleetdns_zones:\n      example.test: {}\n")
    left = fleetdns(tmp_path, "apply", "-i", "hosts.yml", "--yes")
    assert left.returncode == 0, left.stderr
    assert zone_file.read_text() == HANDMADE_ZONE
    # --adopt takes it over, as for a declared record set
    inventory.write_text("all:\n  vars:\n    fleetdns_zones:\n      example.test: {}\n" + DEVICE)
    adopted = fleetdns(tmp_path, "apply", "-i", "hosts.yml", "--yes", "--adopt")
    assert adopted.returncode == 0 and "1 adopted, 1 registered" in adopted.stdout, adopted.stdout + adopted.stderr
    assert 'a.mail._fleetdns\t3600\tIN\tTXT\t"fleetdns-owner=fleetdns"' in zone_file.read_text()


def test_a_device_name_never_takes_over_an_unowned_record_on_bind(tmp_path: Path, bind: Any) -> None:
    bind.nsupdate("update add mail.example.test. 3600 A 192.0.2.25")
    options = {k: v for k, v in bind.provider_options().items() if k != "tsig_secret"}
    provider = json.dumps({**options, "tsig_secret": "{{ lookup('env', 'FLEETDNS_TEST_TSIG') }}"})
    head = f"all:\n  vars:\n    fleetdns_providers:\n      lab: {provider}\n"
    head += "    fleetdns_zones:\n      example.test: {provider: lab}\n"
    (tmp_path / "hosts.yml").write_text(head + DEVICE)
    env = {"FLEETDNS_TEST_TSIG": bind.keys["admin"].secret}
    before = bind.axfr_text()
    for command in (["plan"], ["apply", "--yes"]):
        result = fleetdns(tmp_path, *command, "-i", "hosts.yml", env=env)
        assert result.returncode == 1 and IN_THE_WAY in result.stderr, result.stdout + result.stderr
    assert bind.axfr_text() == before
    (tmp_path / "hosts.yml").write_text(head)  # the host leaves the inventory
    left = fleetdns(tmp_path, "apply", "-i", "hosts.yml", "--yes", env=env)
    assert left.returncode == 0, left.stderr
    assert bind.query("mail.example.test.", "A") == {"192.0.2.25"}
    assert bind.query("a.mail._fleetdns.example.test.", "TXT") == set()
    (tmp_path / "hosts.yml").write_text(head + DEVICE)  # --adopt takes it over, its address kept
    adopted = fleetdns(tmp_path, "apply", "-i", "hosts.yml", "--yes", "--adopt", env=env)
    assert adopted.returncode == 0 and "1 adopted, 1 registered" in adopted.stdout, adopted.stdout + adopted.stderr
    assert bind.query("mail.example.test.", "A") == {"192.0.2.25"}
    assert bind.query("a.mail._fleetdns.example.test.", "TXT") == {'"fleetdns-owner=fleetdns"'}


DEVICE_TASKS = """\
    - name: A device name over a hand-made address
      fleetdns.ddns.dns_record:
        provider: {{type: zonefile, directory: "{directory}"}}
        zone: example.test
        records: []
        device_names: [mail.example.test]
      register: refused
      ignore_errors: true
    - name: The same with adopt
      fleetdns.ddns.dns_record:
        provider: {{type: zonefile, directory: "{directory}"}}
        zone: example.test
        records: []
        device_names: [mail.example.test]
        adopt: true
      register: adopted
    - name: Save the results for the test
      ansible.builtin.copy:
        content: "{{{{ {{'refused': refused, 'adopted': adopted}} | to_json }}}}"
        dest: "{{{{ results_file }}}}"
        mode: "0600"
"""


def test_dns_record_device_names_never_take_over_an_unowned_record(tmp_path: Path) -> None:
    zones = tmp_path / "zones"
    zones.mkdir()
    (zones / "example.test.zone").write_text(HANDMADE_ZONE)
    run = run_playbook(tmp_path, DEVICE_TASKS.format(directory=zones))
    assert run.returncode == 0, run.output
    results = run.results()
    assert results["refused"]["failed"] is True and IN_THE_WAY in results["refused"]["msg"]
    assert "set adopt: true to take it over" in results["refused"]["msg"]
    assert results["adopted"]["changed"] is True
    assert [c["action"] for c in results["adopted"]["changes"]] == ["adopt", "register"]
    assert "Traceback" not in run.output
