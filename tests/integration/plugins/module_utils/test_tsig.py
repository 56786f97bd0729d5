"""The TSIG key files fleetdns writes and reads, checked against BIND's own tools (tsig-keygen,
named-checkconf): needs bind9, so it lives here rather than in tests/unit."""

from __future__ import annotations

import base64
import shutil
import subprocess

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.tsig import (
    ALGORITHMS,
    generate_key,
    parse_keys,
    render_key,
    write_key_file,
)


def _tool(name: str) -> str:
    """Path of a BIND tool; the test fails (never skips) without it: `make test` installs bind9."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin")
    if path is None:
        pytest.fail(f"{name} not found: install bind9 (make system-packages)", pytrace=False)
    return path


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_render_is_byte_for_byte_what_tsig_keygen_writes(algorithm: str) -> None:
    text = subprocess.run(
        [_tool("tsig-keygen"), "-a", algorithm, "Host1.Example.Test."], capture_output=True, text=True, check=True
    ).stdout
    [key] = parse_keys(text)
    assert (key.name, key.algorithm) == ("Host1.Example.Test.", algorithm)
    assert len(base64.b64decode(key.secret)) == ALGORITHMS[algorithm]
    assert render_key(key) == text


def test_named_checkconf_accepts_an_included_key_file(tmp_path) -> None:
    key_file = tmp_path / "host1.key"
    write_key_file(str(key_file), generate_key("host1.example.test", "hmac-sha512"))
    conf = tmp_path / "named.conf"
    conf.write_text(f'include "{key_file}";\n')
    checked = subprocess.run([_tool("named-checkconf"), str(conf)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
