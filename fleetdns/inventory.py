"""Load an Ansible YAML inventory the way ansible-playbook sees it, with a position for every value.

The result is plain data: the effective variables of group `all` and of every host, following
Ansible's variable precedence (inventory vars of `all` < of other groups by depth < group_vars/all
< group_vars/<group> < host entries < host_vars/<host>) with hash_behaviour=replace. Variables
fleetdns reads (`fleetdns_*` and what they reference) are templated; the rest stays as written.
Every problem found is reported at once as a ConfigError with file:line:column and a hint.
"""

from __future__ import annotations

import difflib
import itertools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ansible_collections.fleetdns.ddns.plugins.module_utils.config import GLOBAL_VARS
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError, Location, Problem, shorten
from ansible_collections.fleetdns.ddns.plugins.module_utils.redact import Redactor, redact

from .templating import Scope, Templar, TemplateProblem
from .vault import Vault, VaultProblem, is_vault_data
from .yamlload import Limits, Positions, YamlProblems, load_yaml, read_file

GROUP_KEYS = ("vars", "hosts", "children")
VARS_EXTENSIONS = (".yml", ".yaml", ".json")
_INI_SECTION = re.compile(r"^\s*\[[^\]\[,{}:]+(:(vars|children))?\]\s*$")
_INI_HOST = re.compile(r"^\s*[^\s:#;=\[\]{}]+(\s+\w+=\S*)+\s*$")
_RANGE = re.compile(r"\[([0-9a-zA-Z]+):([0-9a-zA-Z]+)(?::([0-9]+))?\]")
# Hosts that ranges (web[0001:9999]) may add in one inventory: a few characters could ask for millions.
MAX_RANGE_HOSTS = 100_000


class Locator:
    """`locate(container, key)` for config.validate: where a value is written (file:line:column).

    Also offers `key()` (where the key itself is), `unset_env()` (environment variables that were
    unset when the value was templated) and `secrets` (values that must never be shown).
    """

    def __init__(self, positions: Positions, secrets: set[str]) -> None:
        self._positions = positions
        self.secrets = secrets

    def __call__(self, container: Any, key: Any) -> Location | None:
        return self._positions.value(container, key)

    def key(self, container: Any, key: Any) -> Location | None:
        return self._positions.key(container, key)

    def unset_env(self, container: Any, key: Any) -> list[str]:
        return self._positions.unset_env(container, key)


@dataclass
class Inventory:
    """The loaded inventory: effective variables of `all` and of each host, and where each value is."""

    path: Path
    base_dir: Path
    all_vars: dict[str, Any]
    hosts: dict[str, dict[str, Any]]
    locate: Callable[[Any, Any], Location | None]
    groups: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unset_env: list[str] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)

    def redact(self, text: str) -> str:
        """`text` with every known secret value replaced by ********."""
        return redact(text, self.secrets)


@dataclass
class _Group:
    name: str
    vars: list[dict[str, Any]] = field(default_factory=list)  # inventory `vars:` mappings, in file order
    files: list[dict[str, Any]] = field(default_factory=list)  # group_vars/ files, in Ansible's order
    children: dict[str, None] = field(default_factory=dict)  # dicts as ordered sets: linear in fleet size
    parents: list[str] = field(default_factory=list)
    hosts: dict[str, None] = field(default_factory=dict)
    depth: int = 0
    priority: int = 1


def load_inventory(path: str | Path, vault_password_file: str | None = None) -> Inventory:
    """Load the YAML inventory at `path` with group_vars/ and host_vars/ beside it; raise ConfigError."""
    return _Loader(Path(path), Vault(vault_password_file)).load()


class _Loader:
    def __init__(self, path: Path, vault: Vault) -> None:
        self.path = path
        self.file = str(path)
        self.base_dir = path.parent
        self.positions = Positions()
        self.limits = Limits()
        self.range_hosts_left = MAX_RANGE_HOSTS
        self.templar = Templar(self.positions, self.base_dir, vault)
        self.vault = vault
        self.problems: list[Problem] = []
        # Templates under secret options that failed, reported without their text: the same failure
        # met through another variable is dropped, or it would show the text after all.
        self.secret_locations: set[Location | None] = set()
        self.secret_problems: set[int] = set()  # ids of those problems
        self.groups: dict[str, _Group] = {}
        self.host_entries: dict[str, list[dict[str, Any]]] = {}
        self.host_files: dict[str, list[dict[str, Any]]] = {}
        self.notes: list[str] = []
        self.links: dict[tuple[str, str], Location | None] = {}
        self.host_groups: dict[str, list[str]] = {}

    # -- entry point ------------------------------------------------------------------------------

    def load(self) -> Inventory:
        data = self._read_inventory()
        self._parse_inventory(data)
        self._finish_groups()
        self._load_vars_dir("group_vars", list(self.groups), self._group_files)
        self._load_vars_dir("host_vars", list(self.host_entries), self._host_files)
        self._check_fleet_vars_placement()
        self._check_names_set_once()
        all_raw = self._merge(self.groups["all"].vars + self.groups["all"].files)
        hosts_raw = {host: self._host_vars(host) for host in self.host_entries}
        self._fail_if_problems()
        all_vars, hosts = self._render(all_raw, hosts_raw)
        self._fail_if_problems()
        for name, where in self.templar.unset_env.items():
            at = f" (used at {where})" if where else ""
            self.notes.append(f"environment variable {name} is not set; lookup('env', '{name}') gave ''{at}")
        groups = {name: sorted(group.hosts) for name, group in self.groups.items()}
        return Inventory(
            path=self.path,
            base_dir=self.base_dir,
            all_vars=all_vars,
            hosts=hosts,
            locate=Locator(self.positions, self.templar.secrets),
            groups=groups,
            notes=self.notes,
            unset_env=sorted(self.templar.unset_env),
            secrets=self.templar.secrets,
        )

    def _problem(self, where: Location | None, message: str, hint: str = "", path: str = "") -> None:
        self.problems.append(Problem(message, path, hint, where))

    def _fail_if_problems(self) -> None:
        if not self.problems:
            return
        unique: list[Problem] = []
        seen: set[tuple[Any, str]] = set()
        for problem in self.problems:
            if problem.location in self.secret_locations and id(problem) not in self.secret_problems:
                continue
            if (problem.location, problem.message) not in seen:
                seen.add((problem.location, problem.message))
                unique.append(problem)
        scrub = Redactor(self.templar.secrets).scrub
        raise ConfigError([Problem(scrub(p.message), p.path, scrub(p.hint), p.location) for p in unique])

    # -- the inventory file -----------------------------------------------------------------------

    def _read_inventory(self) -> Any:
        where = Location(self.file, 1, 1)
        hint = "point -i at an Ansible YAML inventory file such as hosts.yml"
        if self.path.is_dir():
            self._problem(where, f"{self.path} is a directory; fleetdns reads one YAML inventory file", hint)
        elif not self.path.exists():
            self._problem(None, f"inventory {self.path} not found", hint)
        elif self.path.suffix.lower() in (".ini", ".cfg"):
            self._problem(where, "INI inventories are not supported; fleetdns reads YAML inventories", _INI_HINT)
        self._fail_if_problems()
        try:
            raw = read_file(self.path, self.file)
        except OSError as exc:
            self._problem(where, f"cannot read the inventory: {exc.strerror}", "check the file's permissions")
            self._fail_if_problems()
        except YamlProblems as exc:
            self.problems.extend(exc.problems)
            self._fail_if_problems()
        if is_vault_data(raw):
            raw = self._decrypt_file(raw, where)
            if raw is None:
                self._fail_if_problems()
        try:
            data = load_yaml(raw, self.file, self.positions, limits=self.limits)
        except YamlProblems as exc:
            if _looks_like_ini(raw):
                self._problem(where, "this looks like an INI inventory; fleetdns reads YAML inventories", _INI_HINT)
            else:
                self.problems.extend(exc.problems)
            self._fail_if_problems()
        if data is None:
            self._problem(
                where, "the inventory is empty", "start from hosts.example.yml: all: {vars: ..., children: ...}"
            )
        elif not isinstance(data, dict):
            if _looks_like_ini(raw):
                self._problem(where, "this looks like an INI inventory; fleetdns reads YAML inventories", _INI_HINT)
            else:
                self._problem(
                    self.positions.value(data, None) or where,
                    f"an inventory must be a mapping of group names, not a {_kind(data)}",
                    "start with 'all:' and put groups under all.children",
                )
        elif "plugin" in data and "all" not in data:
            self._problem(
                self.positions.key(data, "plugin"),
                "this is an inventory plugin configuration; fleetdns reads static YAML inventories",
                "dump it with: ansible-inventory -i FILE -y --list > hosts.yml",
            )
        self._fail_if_problems()
        return data

    def _decrypt_file(self, raw: bytes, where: Location) -> bytes | None:
        try:
            text = self.vault.decrypt(raw, "file")
        except VaultProblem as exc:
            self._problem(where, exc.message, exc.hint)
            return None
        return text.encode("utf-8")

    def _parse_inventory(self, data: dict[Any, Any]) -> None:
        self._group("all")
        for name, body in data.items():
            group = self._parse_group(str(name), body, data, name)
            if group is not None and group.name != "all":
                self._link("all", group.name, data, name)

    def _group(self, name: str) -> _Group:
        group = self.groups.get(name)
        if group is None:
            group = self.groups[name] = _Group(name)
        return group

    def _link(self, parent: str, child: str, container: Any, key: Any) -> None:
        if child == "all":
            self._problem(self.positions.key(container, key), "'all' cannot be a child group", "remove it here")
            return
        if child not in self.groups[parent].children:
            self.links[(parent, child)] = self.positions.key(container, key)
            self.groups[parent].children[child] = None
            self.groups[child].parents.append(parent)

    def _parse_group(self, name: str, body: Any, container: Any, key: Any) -> _Group | None:
        if body is not None and not isinstance(body, dict):
            self._problem(
                self.positions.value(container, key),
                f"group '{shorten(name)}' must be a mapping with vars, hosts and/or children, not a {_kind(body)}",
                "write it like: " + shorten(name) + ": {hosts: {web1: }}",
                name,
            )
            return None
        group = self._group(name)
        if not body:
            return group
        for section, value in body.items():
            if section not in GROUP_KEYS:
                close = difflib.get_close_matches(str(section), GROUP_KEYS, n=1)
                self._problem(
                    self.positions.key(body, section),
                    f"unknown key '{shorten(section)}' in group '{shorten(name)}'",
                    f"did you mean '{close[0]}'?" if close else "a group has only vars, hosts and children",
                    f"{name}.{section}",
                )
                continue
            if value is None:
                continue
            if section in ("hosts", "children") and isinstance(value, str):
                value = {value: None}
            if not isinstance(value, dict):
                example = {
                    "vars": "vars: {name: value}",
                    "hosts": "hosts: {web1: , web2: }",
                    "children": "children: {web: }",
                }
                self._problem(
                    self.positions.value(body, section),
                    f"'{section}' of group '{shorten(name)}' must be a mapping, not a {_kind(value)}",
                    f"write it like: {example[section]}",
                    f"{name}.{section}",
                )
                continue
            if section == "vars":
                group.vars.append(self._without_priority(group, value))
            elif section == "children":
                for child_name, child_body in value.items():
                    child = self._parse_group(str(child_name), child_body, value, child_name)
                    if child is not None:
                        self._link(name, child.name, value, child_name)
            else:
                for pattern, host_vars in value.items():
                    self._parse_hosts(group, pattern, host_vars, value)
        return group

    def _without_priority(self, group: _Group, variables: dict[str, Any]) -> dict[str, Any]:
        """ansible_group_priority orders groups of equal depth; like Ansible, it is not a variable."""
        if "ansible_group_priority" not in variables:
            return variables
        priority = variables["ansible_group_priority"]
        if isinstance(priority, str) and priority.strip().lstrip("-").isdigit():
            priority = int(priority)
        if isinstance(priority, int) and not isinstance(priority, bool):
            group.priority = priority
        else:
            self._problem(
                self.positions.value(variables, "ansible_group_priority"),
                f"ansible_group_priority of group '{shorten(group.name)}' must be a whole number",
                "write it like: ansible_group_priority: 10",
            )
        copy = {k: v for k, v in variables.items() if k != "ansible_group_priority"}
        self.positions.copy_to(variables, copy)
        return copy

    def _parse_hosts(self, group: _Group, pattern: Any, host_vars: Any, container: dict[Any, Any]) -> None:
        if host_vars is not None and not isinstance(host_vars, dict):
            self._problem(
                self.positions.value(container, pattern),
                f"variables of host '{shorten(pattern)}' must be a mapping, not a {_kind(host_vars)}",
                f"write it like: {shorten(pattern)}: {{ansible_host: 192.0.2.10}} (or nothing after the colon)",
                f"{group.name}.hosts.{pattern}",
            )
            return
        count = _range_count(str(pattern))
        if count > 1:
            reported = self.range_hosts_left < 0
            self.range_hosts_left -= count
            if self.range_hosts_left < 0:
                if reported:  # once: the fleet is refused anyway
                    return
                self._problem(
                    self.positions.key(container, pattern),
                    f"host ranges add more than {MAX_RANGE_HOSTS:,} hosts to this inventory "
                    f"('{shorten(pattern)}' alone: {count:,})",
                    "list the hosts, or split the fleet into inventories of its own",
                )
                return
        names, port = _expand_host(str(pattern))
        if not names:
            self._problem(
                self.positions.key(container, pattern),
                f"host pattern '{shorten(pattern)}' is not valid",
                "ranges look like web[01:10]",
            )
            return
        extra: dict[str, Any] | None = None
        if port is not None:
            extra = {"ansible_port": port}
            where = self.positions.key(container, pattern)
            if where is not None:
                self.positions.add(
                    extra, {"ansible_port": (where.file, where.line, where.column, where.line, where.column)}, None
                )
        for host in names:
            entries = self.host_entries.setdefault(host, [])
            if extra is not None:
                entries.append(extra)
            if host_vars:
                entries.append(host_vars)
            group.hosts[host] = None

    def _finish_groups(self) -> None:
        """Depths (for precedence), the implicit group `ungrouped`, loops in children."""
        ungrouped = self._group("ungrouped")
        if "ungrouped" not in self.groups["all"].children:
            self.groups["all"].children["ungrouped"] = None
            ungrouped.parents.append("all")
        in_group = {host for group in self.groups.values() if group.name != "all" for host in group.hosts}
        for host in self.host_entries:
            if host not in in_group:
                ungrouped.hosts[host] = None
        for group in self.groups.values():
            for host in group.hosts:
                self.host_groups.setdefault(host, []).append(group.name)
        self._set_depth("all", 0, [])

    def _set_depth(self, name: str, depth: int, path: list[str]) -> None:
        if name in path:
            loop = " -> ".join([*path[path.index(name) :], name])
            where = self.links.get((path[-1], name))
            self._problem(
                where, f"groups contain each other in a loop: {shorten(loop)}", "remove one of these children"
            )
            return
        group = self.groups[name]
        if depth < group.depth or (depth == group.depth and path):
            return
        group.depth = depth
        for child in group.children:
            self._set_depth(child, depth + 1, [*path, name])

    def _ancestors(self, group: str, found: set[str]) -> set[str]:
        for parent in self.groups[group].parents:
            if parent not in found:
                found.add(parent)
                self._ancestors(parent, found)
        return found

    # -- group_vars/ and host_vars/ ---------------------------------------------------------------

    def _group_files(self, name: str, data: dict[str, Any]) -> None:
        self.groups[name].files.append(data)

    def _host_files(self, name: str, data: dict[str, Any]) -> None:
        self.host_files.setdefault(name, []).append(data)

    def _load_vars_dir(self, kind: str, names: list[str], sink: Callable[[str, dict[str, Any]], None]) -> None:
        directory = self.base_dir / kind
        if not directory.is_dir():
            return
        try:
            present = set(os.listdir(directory))
        except OSError:
            return
        used: set[str] = set()
        for name in names:
            for candidate in (name, *(name + ext for ext in VARS_EXTENSIONS)):
                if candidate not in present:
                    continue
                used.add(candidate)
                target = directory / candidate
                files = _dir_vars_files(target) if target.is_dir() else [target]
                for file in files:
                    data = self._load_vars_file(file)
                    if data is not None:
                        sink(name, data)
                break
        what = "group" if kind == "group_vars" else "host"
        known = set(names)
        for entry in sorted(present - used):
            if entry.startswith(".") or entry.endswith("~"):
                continue
            stem, ext = os.path.splitext(entry)
            if ext in VARS_EXTENSIONS and stem in known:
                self.notes.append(
                    f"{kind}/{entry} is ignored: Ansible reads only the first of {stem}, "
                    f"{', '.join(stem + e for e in VARS_EXTENSIONS)} (merge them into one)"
                )
            else:
                self.notes.append(f"{kind}/{entry} matches no {what} in the inventory and is ignored")

    def _load_vars_file(self, file: Path) -> dict[str, Any] | None:
        name = str(file)
        where = Location(name, 1, 1)
        try:
            raw = read_file(file, name)
        except OSError as exc:
            self._problem(where, f"cannot read {name}: {exc.strerror}", "check the file's permissions")
            return None
        except YamlProblems as exc:
            self.problems.extend(exc.problems)
            return None
        hook = None
        if is_vault_data(raw):
            decrypted = self._decrypt_file(raw, where)
            if decrypted is None:
                return None
            raw = decrypted
            hook = self.templar.secret
        try:
            data = load_yaml(raw, name, self.positions, hook, self.limits)
        except YamlProblems as exc:
            self.problems.extend(exc.problems)
            return None
        if data is None:
            return None
        if not isinstance(data, dict):
            self._problem(
                self.positions.value(data, None) or where,
                f"a vars file must be a mapping of variable names to values, not a {_kind(data)}",
                "write one 'name: value' per line",
            )
            return None
        return data

    # -- precedence -------------------------------------------------------------------------------

    def _sorted_groups(self, names: set[str]) -> list[_Group]:
        groups = [self.groups[name] for name in names if name != "all"]
        return sorted(groups, key=lambda g: (g.depth, g.priority, g.name))

    def _host_groups(self, host: str) -> set[str]:
        direct = set(self.host_groups.get(host, ()))
        found = set(direct)
        for name in direct:
            self._ancestors(name, found)
        return found

    def _host_vars(self, host: str) -> dict[str, Any]:
        groups = self._sorted_groups(self._host_groups(host))
        all_group = self.groups["all"]
        sources = list(all_group.vars)
        for group in groups:
            sources.extend(group.vars)
        sources.extend(all_group.files)
        for group in groups:
            sources.extend(group.files)
        sources.extend(self.host_entries.get(host, []))
        sources.extend(self.host_files.get(host, []))
        return self._merge(sources)

    def _merge(self, sources: list[dict[str, Any]]) -> dict[str, Any]:
        """Top-level replace (hash_behaviour=replace); positions follow each winning value."""
        merged: dict[str, Any] = {}
        entries: dict[Any, Any] = {}
        table = self.positions.entries
        for source in sources:
            merged.update(source)
            source_entries = table.get(id(source))
            if isinstance(source_entries, dict):
                entries.update(source_entries)
            else:
                for key in source:
                    entries.pop(key, None)
        self.positions.add(merged, entries, None)
        return merged

    # -- fleet-wide variables belong to `all` --------------------------------------------------------

    def _check_fleet_vars_placement(self) -> None:
        hint = "set it under all.vars or group_vars/all: it describes the whole fleet"
        for group in self.groups.values():
            if group.name == "all":
                continue
            for source in group.vars + group.files:
                for var in GLOBAL_VARS:
                    if var in source:
                        self._problem(
                            self.positions.key(source, var), f"{var} is set on group '{shorten(group.name)}'", hint, var
                        )
        for host in self.host_entries:
            for source in self.host_entries[host] + self.host_files.get(host, []):
                for var in GLOBAL_VARS:
                    if var in source:
                        self._problem(
                            self.positions.key(source, var), f"{var} is set on host '{shorten(host)}'", hint, var
                        )

    def _check_names_set_once(self) -> None:
        """A host listed in several groups has its entries merged and the last fleetdns_names wins,
        so names written in an earlier entry would silently leave the DNS: refuse differing lists."""
        for host, entries in self.host_entries.items():
            setting = [entry for entry in entries if "fleetdns_names" in entry]
            for earlier, later in itertools.pairwise(setting):
                if earlier["fleetdns_names"] == later["fleetdns_names"]:
                    continue
                first = self.positions.value(earlier, "fleetdns_names")
                self._problem(
                    self.positions.value(later, "fleetdns_names"),
                    f"host '{shorten(host)}' sets fleetdns_names here and differently at {first or 'another entry'}; "
                    "only this one would count (a host's entries are merged, the last one wins)",
                    "give the host all its names in one place (one entry under one group)",
                    f"{host}.fleetdns_names",
                )

    # -- templating ---------------------------------------------------------------------------------

    def _render(
        self, all_raw: dict[str, Any], hosts_raw: dict[str, dict[str, Any]]
    ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        group_hosts = {name: list(group.hosts) for name, group in self.groups.items()}
        group_hosts["all"] = list(self.host_entries)
        all_scope = self.templar.scope(all_raw, {"groups": group_hosts})
        all_vars = self._render_names(all_raw, all_scope, [n for n in all_raw if _fleet_var(n)], "")
        hosts: dict[str, dict[str, Any]] = {}
        for host, raw in hosts_raw.items():
            names = [n for n in raw if _fleet_var(n) and n not in GLOBAL_VARS]
            if names:
                magic = {
                    "inventory_hostname": host,
                    "inventory_hostname_short": host.split(".")[0],
                    "group_names": sorted(self._host_groups(host) - {"all", "ungrouped"}),
                    "groups": group_hosts,
                }
                rendered = self._render_names(raw, self.templar.scope(raw, magic), names, f"{host}.")
            else:
                rendered = dict(raw)
                self.positions.copy_to(raw, rendered)
            for var in GLOBAL_VARS:
                if var in rendered and rendered[var] is all_raw.get(var) and var in all_vars:
                    rendered[var] = all_vars[var]
            hosts[host] = rendered
        return all_vars, hosts

    def _render_names(self, raw: dict[str, Any], scope: Scope, names: list[str], prefix: str) -> dict[str, Any]:
        result = dict(raw)
        self.positions.copy_to(raw, result)
        for name in names:
            try:
                result[name] = scope.resolve(name)
            except TemplateProblem as exc:
                self._problem(exc.location, exc.message, exc.hint, f"{prefix}{name}")
                if not exc.shows_text:
                    self.secret_locations.add(exc.location)
                    self.secret_problems.add(id(self.problems[-1]))
        return result


def _fleet_var(name: Any) -> bool:
    return isinstance(name, str) and name.startswith("fleetdns_")


def _dir_vars_files(directory: Path) -> list[Path]:
    """Files of a group_vars/<group>/ directory in Ansible's order: sorted, recursive, .yml/.yaml/.json
    or no extension, hidden files and editor backups skipped."""
    found: list[Path] = []
    for entry in sorted(os.listdir(directory)):
        if entry.startswith(".") or entry.endswith("~"):
            continue
        path = directory / entry
        ext = os.path.splitext(entry)[1]
        if path.is_dir() and not ext:
            found.extend(_dir_vars_files(path))
        elif path.is_file() and (not ext or ext in VARS_EXTENSIONS):
            found.append(path)
    return found


def _expand_host(pattern: str) -> tuple[list[str], int | None]:
    """Ansible host pattern -> host names and port: 'web[01:03]' -> web01..web03, 'db:2222' -> db, 2222."""
    port = None
    if pattern.count(":") == 1 and not _RANGE.search(pattern):
        name, port_text = pattern.split(":")
        if port_text.isdigit() and name:
            pattern, port = name, int(port_text)
    found = _RANGE.search(pattern)
    if not found:
        return ([pattern] if pattern else []), port
    start, end, step = found.group(1), found.group(2), int(found.group(3) or 1)
    if step < 1:
        return [], port
    head, tail = pattern[: found.start()], pattern[found.end() :]
    if start.isdigit() and end.isdigit():
        width = len(start) if start.startswith("0") else 0
        items = [str(n).zfill(width) for n in range(int(start), int(end) + 1, step)]
    elif len(start) == 1 and len(end) == 1 and start.isalpha() and end.isalpha() and start <= end:
        items = [chr(c) for c in range(ord(start), ord(end) + 1, step)]
    else:
        return [], port
    names: list[str] = []
    for item in items:
        expanded = _expand_host(f"{head}{item}{tail}")[0]
        names.extend(expanded)
    return names, port


def _range_count(pattern: str) -> int:
    """How many host names the ranges of `pattern` stand for, without making them (1 without ranges)."""
    count = 1
    for found in _RANGE.finditer(pattern):
        start, end, step = found.group(1), found.group(2), max(int(found.group(3) or 1), 1)
        if start.isdigit() and end.isdigit():
            count *= len(range(int(start), int(end) + 1, step))
        elif len(start) == 1 and len(end) == 1:
            count *= len(range(ord(start), ord(end) + 1, step))
    return count


def _looks_like_ini(raw: bytes) -> bool:
    text = raw.decode("utf-8", "replace")
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith(("#", ";"))]
    return bool(lines) and (
        any(_INI_SECTION.match(line) for line in lines[:50]) or _INI_HOST.match(lines[0]) is not None
    )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return {dict: "mapping", list: "list", str: "string", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )


_INI_HINT = "convert it once with: ansible-inventory -i hosts.ini -y --list > hosts.yml"
