"""Run a real `ansible-playbook` against localhost for integration tests, isolated from the user's
Ansible configuration, and read back what happened (recap counts, output, registered results)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_RECAP = re.compile(
    r"^localhost\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
    r"failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)",
    re.MULTILINE,
)


@dataclass
class PlaybookRun:
    returncode: int
    output: str
    recap: dict[str, int]
    results_file: Path

    def results(self) -> dict:
        """The variables the playbook saved with `save_results` (see tasks_with_results)."""
        return json.loads(self.results_file.read_text())


def ansible_playbook() -> str:
    """The ansible-playbook of the interpreter running the tests (the project's venv)."""
    path = Path(sys.executable).parent / "ansible-playbook"
    if not path.exists():
        raise AssertionError(f"{path} not found: run `make venv` (ansible-core is a project dependency)")
    return str(path)


def run_playbook(tmp_path: Path, tasks: str, *options: str, name: str = "play", timeout: float = 120) -> PlaybookRun:
    """Run `tasks` (YAML of a task list, indented by 4) as a play on localhost.

    A task may save registered variables for the test with
    `ansible.builtin.copy: {content: "{{ {'r': r} | to_json }}", dest: "{{ results_file }}"}`.
    """
    work = tmp_path / "ansible"
    work.mkdir(exist_ok=True)
    results_file = work / f"{name}.results.json"
    playbook = work / f"{name}.yml"
    playbook.write_text(f"- hosts: localhost\n  gather_facts: false\n  tasks:\n{tasks}")
    inventory = work / "inventory.ini"
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    command = [ansible_playbook(), "-i", str(inventory), str(playbook), "-e", f"results_file={results_file}", *options]
    return _run(command, work, results_file, timeout)


def run_playbook_file(
    tmp_path: Path,
    playbook: Path,
    inventory: Path,
    *options: str,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> PlaybookRun:
    """Run an existing playbook (such as playbooks/records.yml) with an inventory, isolated the same way;
    `env` adds environment variables (for lookup('env') in the inventory)."""
    work = tmp_path / "ansible"
    work.mkdir(exist_ok=True)
    command = [ansible_playbook(), "-i", str(inventory), str(playbook), *options]
    return _run(command, work, work / "unused.results.json", timeout, env)


def _run(
    command: list[str], work: Path, results_file: Path, timeout: float, extra_env: dict[str, str] | None = None
) -> PlaybookRun:
    config = work / "ansible.cfg"
    config.write_text("[defaults]\n")
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")
    }  # the user's settings must not change the test
    env.update(
        ANSIBLE_CONFIG=str(config),
        ANSIBLE_LOCAL_TEMP=str(work / "tmp"),
        ANSIBLE_REMOTE_TEMP=str(work / "tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_DEPRECATION_WARNINGS="0",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
    )
    env.update(extra_env or {})
    done = subprocess.run(
        command,
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    output = done.stdout + done.stderr
    match = _RECAP.search(output)
    recap = {k: int(v) for k, v in match.groupdict().items()} if match else {}
    return PlaybookRun(done.returncode, output, recap, results_file)
