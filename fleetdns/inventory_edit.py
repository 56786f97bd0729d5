"""Where in an inventory's files a fleet-wide variable is written, and writing edits to them safely.

A fleet variable (`fleetdns_zones`, `fleetdns_providers`) is read from the last place Ansible's
precedence gives it: a file of `group_vars/all/`, else `group_vars/all(.yml|.yaml)`, else the
inventory's `all.vars`. An edit goes where the value comes from, so the loader sees it; when the
variable is set nowhere it goes under the inventory's `all.vars`. Files are replaced atomically
(temp file + rename, a symlink keeps pointing where it did) and, when the edited inventory then does
not load and validate, restored as they were.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import FleetDNSError
from ansible_collections.fleetdns.ddns.plugins.module_utils.files import write_text
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from .vault import is_vault_data
from .yamledit import YamlDoc

ALL_VARS_NAMES = ("all", "all.yml", "all.yaml", "all.json")  # the loader takes the first that exists


@dataclass
class VarPlace:
    """One variable's place: the document, the node path of its value, and the node (None: not set)."""

    doc: YamlDoc
    path: list[str]
    node: Node | None


@dataclass
class InventoryFiles:
    """The inventory file and its group_vars/all files, parsed once, edited in memory."""

    inventory: Path
    docs: dict[Path, YamlDoc] = field(default_factory=dict)
    created: set[Path] = field(default_factory=set)
    _pending: dict = field(default_factory=dict)  # (doc, node, missing key) -> nested additions

    @property
    def base_dir(self) -> Path:
        return self.inventory.parent

    def doc(self, path: Path, create: bool = False) -> YamlDoc:
        if path not in self.docs:
            if not path.exists():
                if not create:
                    raise FleetDNSError(f"{path} does not exist")
                self.created.add(path)
                self.docs[path] = YamlDoc("", str(path))
                return self.docs[path]
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise FleetDNSError(f"cannot read {path}: {exc.strerror}", "check the file's permissions") from None
            if is_vault_data(raw):
                raise FleetDNSError(
                    f"{path} is encrypted with Ansible Vault; fleetdns import does not write into encrypted files",
                    "keep fleetdns_zones and fleetdns_providers in a file that is not encrypted (secrets can be "
                    "single !vault values or variables of an encrypted file)",
                )
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise FleetDNSError(f"{path} is not UTF-8 text") from None
            self.docs[path] = YamlDoc(text, str(path))
        return self.docs[path]

    def all_vars_files(self) -> list[Path]:
        """The group_vars/all files the loader reads, in the order it reads them."""
        directory = self.base_dir / "group_vars"
        for name in ALL_VARS_NAMES:
            target = directory / name
            if target.is_dir():
                return _vars_files(target)
            if target.is_file():
                return [target]
        return []

    def place(self, var: str) -> VarPlace:
        """Where `var` is set (the place that wins), else where it would go (the inventory's all.vars)."""
        for file in reversed(self.all_vars_files()):
            if file.suffix == ".json":
                continue
            doc = self.doc(file)
            node = doc.get([var])
            if node is not None:
                return self._checked(VarPlace(doc, [var], node))
        doc = self.doc(self.inventory)
        return self._checked(VarPlace(doc, ["all", "vars", var], doc.get(["all", "vars", var])))

    def _checked(self, place: VarPlace) -> VarPlace:
        node = place.node
        if isinstance(node, ScalarNode) and node.value and not node.tag.endswith(":null"):
            raise FleetDNSError(
                f"{place.doc.where(node)}: {place.path[-1]} is not written out as a mapping here "
                f"({node.value[:40]!r}), so fleetdns import cannot add to it",
                "write the mapping out in this file, then import again",
            )
        if node is not None and not isinstance(node, (MappingNode, ScalarNode)):
            raise FleetDNSError(f"{place.doc.where(node)}: {place.path[-1]} must be a mapping")
        return place

    def add_nested(self, doc: YamlDoc, path: list[str], key: str, value: object) -> None:
        """Add `key: value` to the mapping at `path` in `doc`, creating the levels of `path` that
        are missing. Additions below one missing level are gathered and written as one nested entry
        (by flush), so two of them never make the same key twice."""
        node: Node | None = doc.root
        column = 0
        depth = 0
        while node is not None and depth < len(path):
            found = doc.entry(node, path[depth])
            if found is None:
                break
            doc._key_of[id(found[1])] = found[0]
            column = found[0].start_mark.column + doc.layout.step
            node = found[1]
            depth += 1
        missing = path[depth:]
        if not missing:
            if node is None:
                doc.append_document(key, value)
                return
            self._check_mapping(doc, node, path, depth)
            doc.add_entry(node, key, value, column if depth else 0)
            return
        slot = (id(doc), id(node), missing[0])
        if slot not in self._pending:
            if node is not None:
                self._check_mapping(doc, node, path, depth)
            self._pending[slot] = (doc, node, column if depth else 0, missing[0], {})
        tree = self._pending[slot][4]
        for level in missing[1:]:
            tree = tree.setdefault(level, {})
        tree[key] = value

    @staticmethod
    def _check_mapping(doc: YamlDoc, node: Node, path: list[str], depth: int) -> None:
        if not isinstance(node, MappingNode) and not (isinstance(node, ScalarNode) and not node.value):
            shown = ".".join(path[:depth]) or "the document"
            raise FleetDNSError(f"{doc.where(node)}: {shown} is not a mapping, so nothing can be added to it")

    def flush(self) -> None:
        """Write the gathered nested additions into their documents."""
        for doc, node, column, key, tree in self._pending.values():
            if node is None:
                doc.append_document(key, tree)
            else:
                doc.add_entry(node, key, tree, column)
        self._pending.clear()

    def write(self, check: Callable[[], None]) -> list[Path]:
        """Write every edited file atomically, then run `check` (load and validate); when it raises,
        put every file back as it was (and remove the files and directories created) and re-raise.
        Every file is checked to be writable before the first is written."""
        self.flush()
        changed = [(path, doc) for path, doc in self.docs.items() if doc.result() != doc.text or path in self.created]
        for path, _doc in changed:
            _check_writable(path)
        done: list[Path] = []
        made_dirs: list[Path] = []
        try:
            for path, doc in changed:
                if path in self.created:
                    missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
                    path.parent.mkdir(parents=True, exist_ok=True)
                    made_dirs.extend(missing)
                try:
                    write_text(str(path), doc.result(), 0o600 if path in self.created else None)
                except OSError as exc:
                    raise FleetDNSError(
                        f"cannot write {path}: {exc.strerror}", "check the file's permissions"
                    ) from None
                done.append(path)
            check()
        except BaseException:
            for path in reversed(done):
                if path in self.created:
                    path.unlink(missing_ok=True)
                else:
                    write_text(str(path), self.docs[path].text)
            for directory in made_dirs:
                if directory.exists() and not any(directory.iterdir()):
                    directory.rmdir()
            raise
        return [path for path, _doc in changed]


def _check_writable(path: Path) -> None:
    """A clear error, before anything is written, for a file (or the directory of a new one) that
    cannot be written."""
    target = Path(os.path.realpath(path))
    existing = target if target.exists() else next((p for p in target.parents if p.exists()), Path("/"))
    if not os.access(existing, os.W_OK) or (existing == target and not os.access(target.parent, os.W_OK)):
        raise FleetDNSError(
            f"cannot write {path}: {existing} is not writable; nothing was written",
            "fix the permissions (or run as the file's owner), then import again",
        )


def _vars_files(directory: Path) -> list[Path]:
    found: list[Path] = []
    for entry in sorted(os.listdir(directory)):
        if entry.startswith(".") or entry.endswith("~"):
            continue
        path = directory / entry
        ext = os.path.splitext(entry)[1]
        if path.is_dir() and not ext:
            found.extend(_vars_files(path))
        elif path.is_file() and (not ext or ext in (".yml", ".yaml", ".json")):
            found.append(path)
    return found
