"""Every module's documentation renders with the real ansible-doc, and its examples use FQCNs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if not p.name.startswith("_"))
FQCNS = [f"fleetdns.ddns.{name}" for name in MODULES]


def ansible_doc(*args: str) -> str:
    command = [str(Path(sys.executable).parent / "ansible-doc"), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    return done.stdout


def test_there_are_modules() -> None:
    assert {"public_ip_info", "tsig_key"} <= set(MODULES)


def test_ansible_doc_renders_every_module() -> None:
    text = ansible_doc(*FQCNS)
    for fqcn in FQCNS:
        assert f"MODULE {fqcn}" in text.replace("\x1b[1m", "").replace("\x1b[0m", "")
    assert text.count("EXAMPLES:") == len(FQCNS)
    assert text.count("RETURN VALUES:") == len(FQCNS)


def test_examples_name_modules_by_fqcn() -> None:
    docs = json.loads(ansible_doc("--json", *FQCNS))
    for fqcn in FQCNS:
        entry = docs[fqcn]
        assert entry["doc"]["short_description"]
        assert entry["doc"]["attributes"]["check_mode"]["support"] in ("full", "partial")
        tasks = yaml.safe_load(entry["examples"])
        keys = {key for task in tasks for key in task}
        assert fqcn in keys, f"{fqcn}: no example uses it by its FQCN"
        short = {name for name in MODULES if name in keys}
        assert not short, f"{fqcn}: examples use short names {short}; write fleetdns.ddns.<module>"
