"""Every malformed inventory in malformed/ fails with exactly the located problems it announces.

A case is a file `malformed/<case>.yml` (or .ini), or a directory `malformed/<case>/` whose
`hosts.yml` is the inventory (for cases that need group_vars/, host_vars/ or a password file).
Files that are not valid YAML (or that yamllint refuses) have no extension, so that the
collection's `ansible-test sanity` (yamllint) does not read them.
The first lines of the inventory announce the outcome:

    # expect: 12:19 is not an IPv4 address                  (line:column in the inventory file)
    # expect: group_vars/all.yml:2:1 YAML syntax error     (a file relative to the case)
    # vault-password-file: wrong-password.txt              (optional, relative to the case)

One `expect` line per problem, in the order they are reported. Each problem must carry a hint.
The CLI's tests run `fleetdns validate` over the same directory (exit code 1, no traceback).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.config import validate
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError

from fleetdns.inventory import load_inventory

CORPUS = Path(__file__).with_name("malformed")
_EXPECT = re.compile(r"^#\s*expect:\s*(?:(?P<file>[^\s:]+):)?(?P<line>\d+):(?P<column>\d+)\s+(?P<text>.+?)\s*$")
_OPTION = re.compile(r"^#\s*(?P<name>vault-password-file):\s*(?P<value>\S+)\s*$")


@dataclass
class Case:
    name: str
    root: Path  # paths in expectations are relative to this
    inventory: Path
    expected: list[tuple[str, int, int, str]]  # (file, line, column, message fragment)
    vault_password_file: str | None = None


def _cases() -> list[Case]:
    cases = []
    for entry in sorted(CORPUS.iterdir()):
        if entry.is_dir():
            cases.append(_case(entry.name, entry, entry / "hosts.yml"))
        elif entry.suffix not in (".md", ".txt"):
            cases.append(_case(entry.stem, CORPUS, entry))
    return cases


def _case(name: str, root: Path, inventory: Path) -> Case:
    case = Case(name, root, inventory, [])
    for line in inventory.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        expect = _EXPECT.match(line)
        option = _OPTION.match(line)
        if expect:
            file = expect["file"] or inventory.relative_to(root).as_posix()
            case.expected.append((file, int(expect["line"]), int(expect["column"]), expect["text"]))
        elif option:
            case.vault_password_file = str(root / option["value"])
    return case


CASES = _cases()


def test_the_corpus_is_large_and_every_case_announces_its_problems() -> None:
    assert len(CASES) >= 35
    for case in CASES:
        assert case.expected, f"{case.inventory}: no '# expect: LINE:COLUMN message' line"


def _problems(case: Case) -> list:
    inventory = load_inventory(case.inventory, vault_password_file=case.vault_password_file)
    validate(inventory.all_vars, inventory.hosts, inventory.locate)
    return []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_malformed_inventory_reports_located_problems(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD_FILE", raising=False)
    with pytest.raises(ConfigError) as caught:
        _problems(case)
    found = []
    for problem in caught.value.problems:
        assert problem.location is not None, f"{case.name}: problem without a location: {problem}"
        file = Path(problem.location.file).resolve().relative_to(case.root.resolve()).as_posix()
        found.append((file, problem.location.line, problem.location.column, str(problem)))
    assert len(found) == len(case.expected), f"{case.name}: got {[f[3] for f in found]}"
    for (file, line, column, text), (want_file, want_line, want_column, fragment) in zip(
        found, case.expected, strict=True
    ):
        assert (file, line, column) == (want_file, want_line, want_column), text
        assert fragment in text
    for problem in caught.value.problems:
        assert problem.hint, f"{case.name}: problem without a hint: {problem}"
        assert "Traceback" not in str(problem)
