"""A device installs the engine without the controller's libraries (ansible-core, Jinja2, PyYAML).

The engine is run here by a Python that sees only the standard library, dnspython, requests (and
what requests itself needs) and this checkout: every engine module must import, and the CLI, which
needs the controller extras to read an inventory, must say how to get them instead of failing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.record_task import RecordTask, run_task

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "plugins" / "module_utils"
# Import names of dnspython, requests and requests' own dependencies.
DEVICE_LIBRARIES = ("dns", "requests", "urllib3", "idna", "certifi", "charset_normalizer")
CONTROLLER_LIBRARIES = ("ansible", "jinja2", "yaml")


def test_base_install_requires_only_dnspython_and_requests() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {req.split(">")[0].split("=")[0].split("[")[0].strip().lower() for req in project["dependencies"]}
    assert names == {"dnspython", "requests"}
    controller = {req.split(">")[0].strip().lower() for req in project["optional-dependencies"]["controller"]}
    assert controller == {"ansible-core", "jinja2", "pyyaml", "ruamel.yaml"}


@pytest.fixture(scope="module")
def device_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only the device libraries and this checkout, laid out as pip installs it."""
    site = Path(sysconfig.get_paths()["purelib"])
    target = tmp_path_factory.mktemp("device")
    for name in DEVICE_LIBRARIES:
        source = site / name
        assert source.is_dir(), f"{name} is not installed in the test venv (pip install dnspython requests)"
        shutil.copytree(source, target / name)
    collection = target / "ansible_collections" / "fleetdns"
    collection.mkdir(parents=True)
    (collection / "ddns").symlink_to(ROOT)
    (target / "fleetdns").symlink_to(ROOT / "fleetdns")
    return target


def _run_isolated(device_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Python without site-packages (-S) and without PYTHON* variables (-E): only stdlib + device_path."""
    prelude = f"import sys; sys.path.insert(0, {str(device_path)!r})\n"
    return subprocess.run(
        [sys.executable, "-S", "-E", "-c", prelude + code],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=device_path,
        env={"PATH": os.environ.get("PATH", ""), "NO_COLOR": "1"},
    )


def test_every_engine_module_imports_with_device_libraries_only(device_path: Path) -> None:
    modules = sorted(
        "ansible_collections.fleetdns.ddns." + ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in ENGINE.rglob("*.py")
        if path.name != "__init__.py"
    )
    assert len(modules) > 15
    result = _run_isolated(
        device_path,
        "import importlib, json\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {CONTROLLER_LIBRARIES!r})))\n",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_cli_without_controller_extras_names_them(device_path: Path) -> None:
    (device_path / "hosts.yml").write_text("all: {}\n", encoding="utf-8")
    result = _run_isolated(
        device_path, "from fleetdns.cli import main\nsys.exit(main(['validate', '-i', 'hosts.yml']))\n"
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    assert "pip install 'fleetdns[controller]'" in result.stderr
    assert "needs PyYAML, jinja2, ansible-core," in result.stderr


def test_the_agent_runs_a_pass_with_device_libraries_only(device_path: Path, tmp_path: Path) -> None:
    """`fleetdns agent --once` on zone files (no server, no credentials), as on a small device: the
    name is updated, a second pass finds nothing to do, and no controller library was imported."""
    zones = tmp_path / "zones"
    files = {"type": "zonefile", "directory": str(zones)}
    run_task(RecordTask(files, "example.test", [], owner="fleet-main", device_names=["gw.example.test"]))
    config = tmp_path / "agent.json"
    config.write_text(
        json.dumps(
            {
                "owner": "fleet-main",
                "names": [{"name": "gw.example.test", "providers": ["files"]}],
                "providers": {"files": {**files, "zone": "example.test"}},
                "detect": {"ipv4": {"static": "8.8.8.8"}, "ipv6": False},
            }
        ),
        encoding="utf-8",
    )
    config.chmod(0o600)
    code = (
        "from fleetdns.cli import main\n"
        "import json\n"
        f"first = main(['agent', '--config', {str(config)!r}, '--once'])\n"
        f"second = main(['agent', '--config', {str(config)!r}, '--once'])\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {CONTROLLER_LIBRARIES!r})\n"
        "print(json.dumps([first, second, loaded]))\n"
    )
    result = _run_isolated(device_path, code)
    assert result.returncode == 0, result.stderr
    *log, summary = result.stdout.strip().splitlines()
    assert json.loads(summary) == [0, 0, []]
    assert "updated: gw.example.test via files: A 8.8.8.8 (was A nothing)" in log
    assert "unchanged: gw.example.test via files: already published: A 8.8.8.8" in log
    text = (zones / "example.test.zone").read_text(encoding="utf-8")
    assert "8.8.8.8" in text
