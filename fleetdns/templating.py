"""Jinja2 templating of inventory variables, the subset fleetdns needs, the way Ansible does it.

Supported: references to other variables (rendered lazily, loops detected), `lookup`/`query` of
`env` and `file`, the filters `default`/`mandatory` and a few pure string filters. Anything else is
a located error naming what is supported, rather than a silently different result than Ansible's.

As in ansible-core 2.19, a template that is one expression keeps the native type of its result
(`"{{ 5353 }}"` is the number 5353); `lookup('env', 'X')` gives '' for an unset variable, and the
names of unset variables are remembered so a later "empty secret" problem can say which one it was.
Values that come from the environment or Vault are `Secret` strings and are collected so any
message can be scrubbed of them.
"""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import Location, shorten

from .secret_options import is_secret_option
from .vault import Vault, VaultProblem
from .yamlload import MAX_DEPTH, MAX_FILE_BYTES, Positions, Unsafe, VaultText

_MARKERS = ("{{", "{%", "{#")
# The template most inventories hold (a secret from the environment), evaluated without jinja2:
# exactly what jinja2 would return for it, and importing and compiling with jinja2 costs more than
# all the rest of templating. Any other spelling (filters, default=, trailing text) goes to jinja2.
_ENV_LOOKUP = re.compile(r"\{\{\s*lookup\(\s*(['\"])env\1\s*,\s*(['\"])([A-Za-z_][A-Za-z0-9_]*)\2\s*\)\s*\}\}")
LOOKUPS = ("env", "file")
# Variables whose templates refer to variables ... at most this deep: each level costs jinja2 a
# dozen Python frames, and Python's recursion limit (1000) must never be what stops a template.
MAX_REFERENCE_DEPTH = 40
_PURE_FILTERS = ("lower", "upper", "trim", "string", "int", "replace", "join")
SUPPORTED = (
    "other inventory variables, lookup('env', NAME), lookup('file', PATH) and the filters "
    f"default (d), mandatory, {', '.join(_PURE_FILTERS)}"
)


class Secret(str):
    """A value from the environment or Vault: shown as ******** by repr()."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'********'"


class TemplateProblem(Exception):
    """A template cannot be rendered: what, how to fix, where (the innermost template at fault)."""

    def __init__(self, message: str, hint: str = "", location: Location | None = None, shows_text: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location
        self.shows_text = shows_text  # whether the message may quote the template's text

    def without_text(self, option: str) -> TemplateProblem:
        """This problem, found under the secret option `option`: its text may quote the secret itself
        (written literally in the template), which is not yet known as a secret, so none of it is shown."""
        return TemplateProblem(
            f"the template of {option} cannot be rendered (its text is not shown: it may hold the secret)",
            f"fleetdns templates support {SUPPORTED}; check this one's braces, quotes and filters",
            self.location,
            shows_text=False,
        )


class _LookupProblem(TemplateProblem):
    """A lookup's own problem: it names the lookup, its options or its file, never the template's text."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, hint, shows_text=False)


def is_template(value: str) -> bool:
    return any(marker in value for marker in _MARKERS)


class Templar:
    """Renders variables of one inventory; shared state: positions, vault, secrets, unset env vars."""

    def __init__(self, positions: Positions, base_dir: Path, vault: Vault) -> None:
        self.positions = positions
        self.base_dir = base_dir
        self.vault = vault
        self.secrets: set[str] = set()
        self.unset_env: dict[str, Location | None] = {}
        self._collectors: list[list[str]] = []
        self._where: list[Location | None] = []
        self._compiled: dict[str, Any] = {}
        self._env_cache: Any = None

    @property
    def env(self) -> Any:
        """The jinja2 environment, made (and jinja2 imported) when a template first needs it."""
        if self._env_cache is None:
            _import_jinja2()
            env = NativeEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
            filters = {name: FILTERS[name] for name in _PURE_FILTERS}
            for prefix in ("", "ansible.builtin."):
                filters[f"{prefix}default"] = FILTERS["default"]
                filters[f"{prefix}d"] = FILTERS["default"]
                filters[f"{prefix}mandatory"] = _mandatory
            env.filters = filters
            query = _weak_call(self._query)
            env.globals.update(lookup=_weak_call(self._lookup), query=query, q=query)
            self._env_cache = env
        return self._env_cache

    def scope(self, variables: Mapping[str, Any], magic: Mapping[str, Any] | None = None) -> Scope:
        return Scope(self, variables, magic or {})

    def secret(self, value: str) -> Secret:
        if value:
            self.secrets.add(value)
        return Secret(value)

    # -- walking values ---------------------------------------------------------------------------

    def render(self, value: Any, container: Any, key: Any, scope: Scope) -> Any:
        """Rendered copy of `value` (found at container[key]); unchanged parts keep their identity.

        A container is rendered once per scope however often aliases repeat it. A template that
        fails under a secret option (tsig_secret...) is reported without its text."""
        cls = value.__class__
        if cls is str:
            if "{" in value and is_template(value):
                return self._render_string(value, container, key, scope)
            return value
        if cls is dict or cls is list:
            if id(value) not in self.positions.templated:
                return value  # nothing inside to render (known from the YAML scan)
            return scope.rendered(value, self._render_items)
        if cls is VaultText:
            return self._decrypt(value)
        return value  # numbers, booleans, None, dates, Unsafe and Secret strings

    def _render_items(self, value: dict[Any, Any] | list[Any], scope: Scope) -> Any:
        cls = value.__class__
        copy = None  # made at the first item that renders to something new
        for item_key, item in value.items() if cls is dict else enumerate(value):
            try:
                rendered = self.render(item, value, item_key, scope)
            except TemplateProblem as exc:
                if exc.shows_text and is_secret_option(item_key):
                    raise exc.without_text(item_key) from None
                raise
            if rendered is not item:
                if copy is None:
                    copy = cls(value)
                copy[item_key] = rendered
        if copy is None:
            return value
        self.positions.copy_to(value, copy)
        return copy

    def _decrypt(self, value: VaultText) -> Secret:
        try:
            return self.secret(self.vault.decrypt(value.ciphertext))
        except VaultProblem as exc:
            where = Location(value.file, value.line, value.column)
            raise TemplateProblem(exc.message, exc.hint, where, shows_text=False) from None

    def _render_string(self, text: str, container: Any, key: Any, scope: Scope) -> Any:
        location = self.positions.value(container, key)
        collected: list[str] = []
        self._collectors.append(collected)
        self._where.append(location)
        try:
            result = self._evaluate(text, scope, location)
        finally:
            self._collectors.pop()
            self._where.pop()
        if collected:
            self.positions.env_unset.setdefault(id(container), {})[key] = sorted(set(collected))
        if isinstance(result, (dict, list)) and id(result) not in self.positions.entries and location is not None:
            _register_new(self.positions, result, (location.file, location.line, location.column))
        return result

    def _evaluate(self, text: str, scope: Scope, location: Location | None) -> Any:
        simple = _ENV_LOOKUP.fullmatch(text)
        if simple is not None and not scope.defines("lookup"):
            try:
                return self._lookup("env", simple.group(3))
            except TemplateProblem as exc:
                if exc.location is None:
                    exc.location = location
                raise
        self.env  # noqa: B018 - jinja2 imported: the names below are bound
        try:
            template = self._compiled.get(text)
            if template is None:
                template = self._compiled[text] = self.env.from_string(text)
            context = template.new_context(vars=scope, shared=True)
            pieces = list(template.root_render_func(context))
            result = pieces[0] if len(pieces) == 1 else "".join(str(piece) for piece in pieces)
            _check_result(result, self.positions.entries)
        except TemplateProblem as exc:
            if exc.location is None:
                exc.location = location
            raise
        except _Undefined as exc:
            raise TemplateProblem(exc.message, exc.hint, location) from None
        except TemplateSyntaxError as exc:
            if _NO_FILTER.search(exc.message or ""):
                raise _template_error(exc, text, location) from None
            raise TemplateProblem(
                f"template syntax error in '{shorten(text)}': {shorten(exc.message)}",
                "check the braces and quotes: {{ variable }}, {{ lookup('env', 'NAME') }}",
                location,
            ) from None
        except TemplateError as exc:
            raise _template_error(exc, text, location) from None
        except RecursionError:
            raise TemplateProblem(
                f"template '{shorten(text)}' nests too deeply to be evaluated",
                "write the value out, or split the expression over several variables",
                location,
            ) from None
        except (TypeError, ValueError, AttributeError, LookupError, ArithmeticError) as exc:
            raise TemplateProblem(
                f"template '{shorten(text)}' failed: {type(exc).__name__}: {shorten(exc)}",
                f"fleetdns templates support {SUPPORTED}",
                location,
            ) from None
        return result

    # -- lookups ----------------------------------------------------------------------------------

    def _lookup(self, name: Any, *terms: Any, **options: Any) -> Any:
        values = self._query(name, *terms, **options)
        wantlist = options.get("wantlist", False)
        if wantlist:
            return values
        if len(values) == 1:
            return values[0]
        return ",".join(str(value) for value in values)

    def _query(self, name: Any, *terms: Any, **options: Any) -> list[Any]:
        options.pop("wantlist", None)
        short = (
            name[len("ansible.builtin.") :] if isinstance(name, str) and name.startswith("ansible.builtin.") else name
        )
        if short == "env":
            return [self._env(term, options) for term in _flat(terms)]
        if short == "file":
            return [self._file(term, options) for term in _flat(terms)]
        raise _LookupProblem(
            f"lookup '{shorten(name)}' is not supported by fleetdns",
            f"fleetdns templates support {SUPPORTED}; resolve other lookups before fleetdns reads the inventory",
        )

    def _env(self, name: Any, options: dict[str, Any]) -> Any:
        unknown = set(options) - {"default"}
        if unknown:
            raise _LookupProblem(
                f"lookup('env') has no option '{shorten(sorted(unknown)[0])}'", "it accepts default=VALUE"
            )
        if not isinstance(name, str) or not name:
            raise TemplateProblem(f"lookup('env', '{shorten(name)}'): the variable name must be a string", "")
        value = os.environ.get(name)
        if value is not None:
            return self.secret(value)
        if "default" in options:
            default = options["default"]
            if isinstance(default, Undefined):
                raise _LookupProblem(
                    f"environment variable {shorten(name)} is not set", f"export {shorten(name)}=... before running"
                )
            return default
        self.unset_env.setdefault(name, self._where[-1] if self._where else None)
        for collected in self._collectors:
            collected.append(name)
        return ""

    def _file(self, name: Any, options: dict[str, Any]) -> str:
        unknown = set(options) - {"rstrip", "lstrip"}
        if unknown:
            raise _LookupProblem(
                f"lookup('file') has no option '{shorten(sorted(unknown)[0])}'", "it accepts rstrip, lstrip"
            )
        if not isinstance(name, str) or not name:
            raise TemplateProblem(f"lookup('file', '{shorten(name)}'): the path must be a string", "")
        path = Path(name).expanduser()
        if not path.is_absolute():
            path = self.base_dir / path
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                raise _LookupProblem(
                    f"lookup('file'): {shorten(name)} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB",
                    "point it at a small file (a key, a token)",
                )
            text = data.decode("utf-8")
        except FileNotFoundError:
            raise _LookupProblem(
                f"lookup('file'): {shorten(name)} not found",
                f"relative paths are read from the inventory directory {self.base_dir}",
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise _LookupProblem(f"lookup('file'): cannot read {shorten(name)}: {reason}", "check the file") from None
        if options.get("rstrip", True):
            text = text.rstrip()
        if options.get("lstrip", False):
            text = text.lstrip()
        return text


class Scope(Mapping[str, Any]):
    """The variables a template sees, rendered on first use; a loop of references is an error."""

    def __init__(self, templar: Templar, variables: Mapping[str, Any], magic: Mapping[str, Any]) -> None:
        self._templar = templar
        self._raw = variables
        self._magic = magic
        self._done: dict[str, tuple[Any, list[str]]] = {}
        self._active: list[str] = []
        self._containers: dict[int, tuple[Any, list[str]]] = {}  # id(container) -> rendered, unset env vars

    def resolve(self, name: str) -> Any:
        """The rendered value of variable `name` (KeyError when there is none)."""
        done = self._done.get(name)
        if done is not None:
            for collected in self._templar._collectors:
                collected.extend(done[1])
            return done[0]
        if name not in self._raw:
            if name in self._magic:
                return self._magic[name]
            raise KeyError(name)
        if name in self._active:
            chain = " -> ".join([*self._active[self._active.index(name) :], name])
            raise TemplateProblem(
                f"variables refer to each other in a loop: {shorten(chain)}",
                "break the loop: one of them must be a plain value",
                self._templar.positions.value(self._raw, self._active[-1]),
            )
        if len(self._active) >= MAX_REFERENCE_DEPTH:
            raise TemplateProblem(
                f"templates refer to variables whose templates refer to variables ... more than "
                f"{MAX_REFERENCE_DEPTH} levels deep (from {shorten(self._active[0])} to {shorten(name)})",
                "shorten the chain: refer to the variable that holds the value",
                self._templar.positions.value(self._raw, self._active[-1]),
            )
        self._active.append(name)
        try:
            value, collected = self._collecting(lambda: self._templar.render(self._raw[name], self._raw, name, self))
        finally:
            self._active.pop()
        self._done[name] = (value, collected)
        return value

    def rendered(self, container: Any, render: Callable[[Any, Scope], Any]) -> Any:
        """`render(container, self)`, computed once per container: aliases repeat a container, not its cost."""
        done = self._containers.get(id(container))
        if done is not None:
            for collected in self._templar._collectors:
                collected.extend(done[1])
            return done[0]
        self._containers[id(container)] = done = self._collecting(lambda: render(container, self))
        return done[0]

    def _collecting(self, action: Callable[[], Any]) -> tuple[Any, list[str]]:
        """The result of `action` and the unset environment variables it met (also passed to outer collectors)."""
        collected: list[str] = []
        self._templar._collectors.append(collected)
        try:
            value = action()
        finally:
            self._templar._collectors.pop()
        for outer in self._templar._collectors:
            outer.extend(collected)
        return value, collected

    def defines(self, name: str) -> bool:
        """Whether `name` is an inventory (or magic) variable, which hides a template global."""
        return name in self._raw or name in self._magic

    def __getitem__(self, name: str) -> Any:
        if name in self._raw or name in self._magic:
            return self.resolve(name)
        return self._templar.env.globals[name]

    def __contains__(self, name: object) -> bool:
        return name in self._raw or name in self._magic or name in self._templar.env.globals

    def __iter__(self) -> Iterator[str]:
        yield from self._raw
        yield from (name for name in self._magic if name not in self._raw)

    def __len__(self) -> int:
        return len(set(self._raw) | set(self._magic))


# The jinja2 names this module uses, bound by _import_jinja2 when a template first needs jinja2;
# until then each class stands in as a class of its own that nothing is an instance of.
class _UndefinedNotImported(Exception):
    pass


class _TemplateErrorNotImported(Exception):
    pass


class _TemplateSyntaxErrorNotImported(Exception):
    pass


FILTERS: Any = None
NativeEnvironment: Any = None
StrictUndefined: Any = _UndefinedNotImported
TemplateError: Any = _TemplateErrorNotImported
TemplateSyntaxError: Any = _TemplateSyntaxErrorNotImported
Undefined: Any = _UndefinedNotImported


def _import_jinja2() -> None:
    """Bind the jinja2 names this module uses (imported on first need: see _ENV_LOOKUP)."""
    global FILTERS, NativeEnvironment, StrictUndefined, TemplateError, TemplateSyntaxError, Undefined
    if NativeEnvironment is not None:
        return
    from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, Undefined
    from jinja2.filters import FILTERS
    from jinja2.nativetypes import NativeEnvironment


class _Undefined(Exception):
    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _mandatory(value: Any, msg: str | None = None) -> Any:
    if isinstance(value, Undefined):
        name = getattr(value, "_undefined_name", None)
        raise _Undefined(msg or f"mandatory variable '{shorten(name)}' is not defined", "define it in the inventory")
    return value


def _check_result(value: Any, known: Mapping[int, Any], depth: int = 1) -> None:
    """A template result that is (or contains) an undefined variable is an error, as in Ansible; so
    is one nested deeper than the YAML loader allows. Containers in `known` come from the inventory
    (checked when loaded): they are not walked again, however many templates use them."""
    if isinstance(value, Undefined):
        name = getattr(value, "_undefined_name", None)
        hint = "define it in the inventory (all.vars, group_vars/ or host_vars/), or add | default(...)"
        raise _Undefined(
            f"variable '{shorten(name)}' is undefined" if name else "the template result is undefined", hint
        )
    if not isinstance(value, (dict, list)) or id(value) in known:
        return
    if depth > MAX_DEPTH:
        raise _Undefined(
            f"the template's result is nested more than {MAX_DEPTH} levels deep",
            "an inventory value needs a few levels; flatten it",
        )
    for item in value.values() if isinstance(value, dict) else value:
        _check_result(item, known, depth + 1)


_NO_FILTER = re.compile(r"No (filter|test) named '([^']+)'")


def _template_error(exc: TemplateError, text: str, location: Location | None) -> TemplateProblem:
    message = exc.message or type(exc).__name__
    found = _NO_FILTER.search(message)
    if found:
        kind, name = found.groups()
        return TemplateProblem(
            f"{kind} '{shorten(name)}' is not supported by fleetdns (in '{shorten(text)}')",
            f"fleetdns templates support {SUPPORTED}",
            location,
        )
    undefined = re.search(r"'([^']+)' is undefined", message)
    if undefined:
        return TemplateProblem(
            f"variable '{shorten(undefined.group(1))}' is undefined (in '{shorten(text)}')",
            "define it in the inventory (all.vars, group_vars/ or host_vars/), or add | default(...)",
            location,
        )
    return TemplateProblem(
        f"template '{shorten(text)}' failed: {shorten(message)}", f"fleetdns templates support {SUPPORTED}", location
    )


def _weak_call(method: Callable[..., Any]) -> Callable[..., Any]:
    """`method` as a plain function that does not keep its Templar alive.

    The jinja2 environment holds the lookup functions; bound methods there would tie the Templar,
    and through its Positions every loaded container, into a reference cycle that only the cyclic
    garbage collector frees (tens of milliseconds for a 10,000-record inventory). Weakly bound,
    all of it is freed the moment the inventory is dropped.
    """
    ref = weakref.WeakMethod(method)

    def call(*args: Any, **kwargs: Any) -> Any:
        bound = ref()
        if bound is None:  # pragma: no cover - templates render only while their Templar lives
            raise RuntimeError("the templar of this template is gone")
        return bound(*args, **kwargs)

    return call


def _flat(terms: tuple[Any, ...]) -> list[Any]:
    result: list[Any] = []
    for term in terms:
        if isinstance(term, list):
            result.extend(term)
        else:
            result.append(term)
    return result


def _register_new(positions: Positions, value: Any, where: tuple[str, int, int]) -> None:
    """Containers a template created take the template string's position for all their items."""
    if id(value) in positions.entries:
        return
    file, line, column = where
    if isinstance(value, dict):
        positions.add(value, {key: (file, line, column, line, column) for key in value}, where)
        for item in value.values():
            _register_new(positions, item, where)
    elif isinstance(value, list):
        positions.add(value, [where] * len(value), where)
        for item in value:
            _register_new(positions, item, where)


__all__ = ["Secret", "Templar", "TemplateProblem", "Unsafe", "is_template"]
