"""Build the one-file agent: a zipapp of exactly the modules `fleetdns agent` imports, run with the
system python3 (3.11+) next to dnspython and requests, nothing else.

The modules are found by following import statements from fleetdns/agent_cli.py and
fleetdns/agent_service.py (every import in
the file, also inside functions, except those under `if TYPE_CHECKING:`), so the archive holds what
the agent can reach (every provider type, since a config may name any) and nothing of the
controller (inventory, templating, Vault, plan/apply, Ansible modules). The version is stamped into
fleetdns/build_info.py inside the archive: the project's version plus the commit it was built from.

Usage: scripts/build-agent-zipapp [OUTPUT]   (default build/fleetdns-agent.pyz), which runs this file
"""

from __future__ import annotations

import ast
import io
import os
import subprocess
import sys
import tomllib
import zipapp
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTION = "ansible_collections.fleetdns.ddns"
ENTRIES = ("fleetdns.agent_cli", "fleetdns.agent_service")
# Never in the archive: what a device does not have (the controller's libraries).
FORBIDDEN = ("ansible", "jinja2", "yaml")
MAIN = '''\
"""fleetdns-agent: the one-file DDNS agent (built by scripts/agent_zipapp.py)."""
import sys

from fleetdns import agent_service

config = agent_service.service_config(sys.argv[1:])
if config is not None:  # the service: the small parent, without the command line parser
    sys.exit(agent_service.serve(config, [sys.argv[0]]))

from fleetdns import agent_cli

agent_cli.CHILD_ENTRY = [sys.argv[0]]  # each pass of the service runs this archive again
sys.exit(agent_cli.main())
'''


def source_of(module: str) -> Path | None:
    """The file of a module of this project, or None for the standard library and third parties."""
    if module == "fleetdns" or module.startswith("fleetdns."):
        parts = module.split(".")
    elif module.startswith(COLLECTION + "."):
        parts = module[len(COLLECTION) + 1 :].split(".")
    else:
        return None
    base = ROOT.joinpath(*parts)
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def imports_of(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)  # submodules named in the import
    return found


def closure() -> dict[str, Path]:
    """Module name -> file, for every project module the agent's entry point can import."""
    modules: dict[str, Path] = {}
    todo = list(ENTRIES)
    while todo:
        module = todo.pop()
        if module in modules:
            continue
        path = source_of(module)
        if path is None:
            if module.split(".")[0] in FORBIDDEN:
                sys.exit(f"build-agent-zipapp: the agent imports {module}, which a device does not have")
            continue
        modules[module] = path
        parent = module.rpartition(".")[0]
        if parent:
            todo.append(parent)
        todo.extend(imports_of(module, path))
    return modules


def version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as f:
        base = tomllib.load(f)["project"]["version"]
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short=10", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return base
    return f"{base}+g{commit}{'.dirty' if dirty else ''}"


def byte_code(source: bytes, name: str) -> bytes:
    import importlib.util
    import marshal

    code = compile(source, name, "exec", dont_inherit=True, optimize=0)
    flags = 0b01  # hash-based, unchecked
    header = importlib.util.MAGIC_NUMBER + flags.to_bytes(4, "little") + importlib.util.source_hash(source)
    return header + marshal.dumps(code)


def archive_name(module: str, path: Path) -> str:
    """Where the module sits in the archive: laid out as pip installs the project."""
    if module.startswith(COLLECTION):
        rel = path.relative_to(ROOT)
        return "/".join(["ansible_collections", "fleetdns", "ddns", *rel.parts])
    return "/".join(path.relative_to(ROOT).parts)


def build(output: Path) -> tuple[int, str]:
    modules = closure()
    stamp = version()
    files = {archive_name(module, path): path.read_bytes() for module, path in modules.items()}
    files["fleetdns/build_info.py"] = f'"""Written by scripts/agent_zipapp.py."""\n\nVERSION = "{stamp}"\n'.encode()
    # The collection's folders are namespace packages in the checkout; in the archive every folder
    # on the way is a plain package (zipimport finds those on every Python).
    for name in list(files):
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            files.setdefault("/".join(parts[:depth]) + "/__init__.py", b"")
    files["__main__.py"] = MAIN.encode()
    # Byte code next to every source: zipimport cannot cache what it compiles, so without it every
    # pass of the service would compile the agent afresh. Unchecked-hash .pyc files (no timestamp to
    # compare) for the building interpreter's version; another Python falls back to the sources.
    for name in [n for n in files if n.endswith(".py") and n != "__main__.py"]:
        files[name + "c"] = byte_code(files[name], name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # the same input builds the same file
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".tmp")
    zipapp.create_archive(io.BytesIO(buffer.getvalue()), partial, interpreter="/usr/bin/env python3")
    os.chmod(partial, 0o755)
    os.replace(partial, output)
    return len(modules), stamp


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "fleetdns-agent.pyz"
    count, stamp = build(output)
    print(f"{output}: fleetdns-agent {stamp}, {count} modules, {output.stat().st_size} bytes")


if __name__ == "__main__":
    main()
