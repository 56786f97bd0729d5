"""fleetdns.ddns.tsig_key through a real ansible-playbook: check mode, idempotence, file mode,
a key BIND accepts, and no secret in the most verbose output."""

from __future__ import annotations

import grp
import os
import shutil
import stat
import subprocess

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.tsig import read_key_file

from integration.playbook_runner import run_playbook

TASKS = """\
    - name: Device key, readable by the group named runs as
      fleetdns.ddns.tsig_key:
        name: sensor-01.example.test
        algorithm: hmac-sha512
        path: "{{ key_path }}"
        mode: "0640"
        group: "{{ key_group }}"
      register: key
    - name: Save the result for the test
      ansible.builtin.copy:
        content: "{{ {'key': key} | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
      changed_when: false
      check_mode: false
      no_log: true
"""


@pytest.fixture
def key_setup(tmp_path):
    key_dir = tmp_path / "keys"
    key_dir.mkdir()
    key_path = key_dir / "sensor-01.key"
    group = grp.getgrgid(os.getgid()).gr_name
    return key_path, ["-e", f"key_path={key_path}", "-e", f"key_group={group}"]


def test_check_apply_rerun_bind_accepts_it_and_no_secret_in_verbose_output(tmp_path, key_setup) -> None:
    key_path, extra = key_setup
    checked = run_playbook(tmp_path, TASKS, *extra, "--check", "--diff", name="check")
    assert checked.returncode == 0, checked.output
    assert checked.recap["changed"] == 1
    assert not key_path.exists()
    assert 'key "sensor-01.example.test" {' in checked.output
    assert "(new secret not shown)" in checked.output

    applied = run_playbook(tmp_path, TASKS, *extra, "-vvvv", "--diff", name="apply")
    assert applied.returncode == 0, applied.output
    assert applied.recap["changed"] == 1
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o640
    key = read_key_file(str(key_path))
    assert key is not None and (key.name, key.algorithm) == ("sensor-01.example.test", "hmac-sha512")
    result = applied.results()["key"]
    assert result["secret"] == key.secret  # the registered variable carries it ...
    assert "TASK [Device key, readable by the group named runs as]" in applied.output
    assert "censored" in applied.output
    for form in (key.secret, key.secret.replace("/", "\\/"), key.secret[:16]):
        assert form not in applied.output  # ... but no output at -vvvv shows it

    checkconf = shutil.which("named-checkconf") or "/usr/bin/named-checkconf"
    if not os.path.exists(checkconf):
        pytest.fail("named-checkconf not found: install bind9 (make system-packages)", pytrace=False)
    conf = tmp_path / "named.conf"
    conf.write_text(f'include "{key_path}";\n')
    done = subprocess.run([checkconf, str(conf)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr  # BIND accepts the file as written

    again = run_playbook(tmp_path, TASKS, *extra, "-vvvv", name="again")
    assert again.returncode == 0, again.output
    assert again.recap["changed"] == 0
    assert again.results()["key"]["secret"] == key.secret
    assert key.secret not in again.output


def test_bad_arguments_fail_with_a_clear_message(tmp_path) -> None:
    tasks = """\
    - fleetdns.ddns.tsig_key:
        name: "bad name"
        path: "{{ results_file }}.key"
"""
    run = run_playbook(tmp_path, tasks)
    assert run.returncode != 0
    assert run.recap["failed"] == 1
    assert "'bad name' is not a valid TSIG key name" in run.output
    assert "Traceback" not in run.output
