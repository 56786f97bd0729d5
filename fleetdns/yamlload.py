"""Fast YAML loading from libyaml's event stream, with every value's position kept on the side.

PyYAML's own loaders build a node graph and then construct objects from it, which costs ~0.8 s for
a 10,000-record inventory. Iterating libyaml's events and building plain dicts/lists directly takes
a fraction of that. Positions live in a side table keyed by id(container) (see `Positions`), so the
data stays plain Python and `locate` is a dict lookup.

Scalars are typed exactly as PyYAML's SafeLoader (and so Ansible) types them: YAML 1.1 implicit
resolution (yes/no are booleans, 1:20 is sexagesimal, 2024-01-01 is a date). Ansible's `!unsafe` and
`!vault` tags are understood; anchors, aliases and `<<` merge keys work; duplicate keys are errors.

Hostile input is refused with a located problem before it can cost time or memory (see `Limits`):
files larger than MAX_FILE_BYTES, nesting deeper than MAX_DEPTH, and aliases beyond MAX_ALIASES uses
or MAX_ALIAS_VALUES values reached through them (an "alias bomb": 16 lines that expand to billions).
Aliases share their value, so loading costs nothing more; but whatever walks the data afterwards
(templating, validation, messages) would walk each use again.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import Location, Problem, shorten
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

try:
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - PyYAML without libyaml: slower, same events
    from yaml import SafeLoader as CParser  # type: ignore[assignment]

# Entries of the side table. Mapping: key -> (file, key_line, key_col, value_line, value_col).
# Sequence: [(file, line, col), ...]. Lines and columns are 1-based.
MapEntry = tuple[str, int, int, int, int]
SeqEntry = tuple[str, int, int]

_MISSING = object()
_MERGE = object()  # the `<<` key
_SKIP = object()  # a key that was reported as an error; its value is dropped
_MAP_TAGS = (None, "!", "tag:yaml.org,2002:map")
_SEQ_TAGS = (None, "!", "tag:yaml.org,2002:seq")
_STR_TAG = "tag:yaml.org,2002:str"
_VAULT_TAGS = ("!vault", "!vault-encrypted")
_UNSAFE_TAG = "!unsafe"
MAX_FILE_BYTES = 16 * 1024 * 1024  # ~300,000 hosts; loading one takes ~40 bytes of memory per byte
MAX_DEPTH = 100  # mappings and lists inside each other, aliased ones included; inventories need < 10
MAX_ALIASES = 100_000  # alias uses (*name, <<: *name) in all files of one inventory
MAX_ALIAS_VALUES = 1_000_000  # values reached through those aliases, counted as if written out
_SCALAR_TAGS = {
    f"tag:yaml.org,2002:{name}": name for name in ("null", "bool", "int", "float", "binary", "timestamp", "str")
}


class Unsafe(str):
    """A string tagged `!unsafe`: Ansible never templates it, neither do we."""

    __slots__ = ()


class VaultText:
    """An inline `!vault` value: ciphertext, decrypted only if fleetdns needs it."""

    __slots__ = ("ciphertext", "column", "file", "line")

    def __init__(self, ciphertext: str, file: str, line: int, column: int) -> None:
        self.ciphertext = ciphertext
        self.file = file
        self.line = line
        self.column = column

    def __repr__(self) -> str:
        return "<vault-encrypted value>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VaultText) and other.ciphertext == self.ciphertext

    def __hash__(self) -> int:
        return hash(self.ciphertext)


class Limits:
    """The alias budget of one inventory, shared by all its files (a bomb split over files is one bomb)."""

    __slots__ = ("alias_values", "aliases")

    def __init__(self, aliases: int = MAX_ALIASES, alias_values: int = MAX_ALIAS_VALUES) -> None:
        self.aliases = aliases  # alias uses still allowed
        self.alias_values = alias_values  # values still allowed to be reached through aliases


class YamlProblems(Exception):
    """The file could not be loaded; carries located problems."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].message if problems else "YAML error")
        self.problems = problems


class Positions:
    """Side table of positions: id(container) -> per-key positions, plus where each container is.

    It keeps a reference to every container it knows, so an id can never be reused while the table
    lives (ids of dead objects would otherwise point at stale entries).
    """

    def __init__(self) -> None:
        self.entries: dict[int, dict[Any, MapEntry] | list[SeqEntry]] = {}
        self.starts: dict[int, SeqEntry] = {}
        self.env_unset: dict[int, dict[Any, list[str]]] = {}
        self.templated: set[int] = set()  # containers that hold a template or vault value somewhere
        self._keep: list[Any] = []

    def add(self, container: Any, entries: dict[Any, MapEntry] | list[SeqEntry], start: SeqEntry | None) -> None:
        ident = id(container)
        if ident not in self.entries:
            self._keep.append(container)
        self.entries[ident] = entries
        if start is not None:
            self.starts.setdefault(ident, start)

    def copy_to(self, source: Any, target: Any) -> None:
        """`target` is a rendered copy of `source` with the same keys: share its positions."""
        ident = id(source)
        entries = self.entries.get(ident)
        if entries is None:
            return
        self.add(target, entries, self.starts.get(ident))
        unset = self.env_unset.get(ident)
        if unset is not None:
            self.env_unset[id(target)] = unset

    def value(self, container: Any, key: Any) -> Location | None:
        """Where the value at `key` (or, for key None, the container itself) is written."""
        ident = id(container)
        if key is None or isinstance(container, (str, int, float)):
            start = self.starts.get(ident)
            return Location(start[0], start[1], start[2]) if start else None
        entries = self.entries.get(ident)
        if entries is None:
            return None
        if isinstance(entries, list):
            if isinstance(key, int) and not isinstance(key, bool) and 0 <= key < len(entries):
                file, line, col = entries[key]
                return Location(file, line, col)
            return self.value(container, None)
        entry = entries.get(key)
        if entry is None:
            return self.value(container, None)
        return Location(entry[0], entry[3], entry[4])

    def key(self, container: Any, key: Any) -> Location | None:
        """Where the key itself is written (for 'unknown key' problems); the value's place otherwise."""
        entries = self.entries.get(id(container))
        if isinstance(entries, dict):
            entry = entries.get(key)
            if entry is not None:
                return Location(entry[0], entry[1], entry[2])
        return self.value(container, key)

    def unset_env(self, container: Any, key: Any) -> list[str]:
        """Environment variables that were unset when the value at `key` was templated."""
        return self.env_unset.get(id(container), {}).get(key, [])


class _Frame:
    """What is rarely needed of an open mapping or sequence (the hot state lives in locals).

    `depth` is its nesting level (1 at the top), `deepest` the deepest level reached inside it so far
    (aliased containers included), `values_before` the running count of values when it opened."""

    __slots__ = ("anchor", "column", "deepest", "depth", "line", "merges", "unsafe", "values_before")

    def __init__(
        self, line: int, column: int, anchor: str | None, unsafe: bool, depth: int, values_before: int
    ) -> None:
        self.line = line
        self.column = column
        self.anchor = anchor
        self.unsafe = unsafe
        self.depth = depth
        self.deepest = depth
        self.values_before = values_before
        self.merges: list[tuple[Any, int, int]] | None = None


class _ScalarTyper:
    """Types plain scalars the way PyYAML's SafeLoader does, remembering each distinct text."""

    def __init__(self) -> None:
        self._resolver = Resolver()
        self._constructor = SafeConstructor()
        self.cache: dict[str, Any] = {}
        # PyYAML picks implicit resolvers by a scalar's first character: text starting with any
        # other character is a string without trying a single pattern (most names and words).
        resolvers = Resolver.yaml_implicit_resolvers
        self._string_only = None not in resolvers and not Resolver.yaml_path_resolvers
        self._first_chars = frozenset(key for key in resolvers if key)

    def plain(self, text: str) -> Any:
        if text and self._string_only and text[0] not in self._first_chars:
            return text
        tag = self._resolver.resolve(ScalarNode, text, (True, False))
        if tag == "tag:yaml.org,2002:merge":
            return _MERGE
        return self.tagged(tag, text)

    def tagged(self, tag: str, text: str) -> Any:
        """Value of a scalar with a resolved standard tag; ValueError when the text does not fit it."""
        if tag == _STR_TAG:
            return text
        name = _SCALAR_TAGS.get(tag)
        if name is None:
            raise ValueError(f"tag '{shorten(tag)}' is not supported here")
        node = ScalarNode(tag, text)
        try:
            return getattr(self._constructor, f"construct_yaml_{name}")(node)
        except (ConstructorError, ValueError, TypeError) as exc:
            raise ValueError(f"'{shorten(text)}' is not a valid {name}: {shorten(exc)}") from None


_TYPER = _ScalarTyper()


def read_file(path: Path, file: str) -> bytes:
    """The bytes of a file to load, or a located problem when it is larger than MAX_FILE_BYTES.

    Reads at most one byte more than the limit, so a device or a growing file cannot exhaust memory.
    OSError propagates (the caller words it)."""
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise YamlProblems([_too_big(file)])
    return data


def _too_big(file: str) -> Problem:
    return _problem(
        file,
        1,
        1,
        f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, the most fleetdns reads",
        "split it: group_vars/ and host_vars/ files are read beside the inventory",
    )


def load_yaml(
    data: bytes | str,
    file: str,
    positions: Positions,
    string_hook: Callable[[str], str] | None = None,
    limits: Limits | None = None,
) -> Any:
    """Parse one YAML document into plain objects, recording positions; raise YamlProblems.

    `string_hook`, when given, wraps every string value, not keys (marks decrypted vault files secret).
    `limits` is the alias budget to draw on (shared by the files of one inventory; a fresh one if None).
    """
    if len(data) > MAX_FILE_BYTES:
        raise YamlProblems([_too_big(file)])
    text = decode_text(data, file) if isinstance(data, bytes) else data
    parser = CParser(text)
    collecting = gc.isenabled()
    gc.disable()  # the loader creates only acyclic data; the cyclic GC would rescan it over and over
    try:
        return _build(parser, file, positions, string_hook, limits or Limits())
    except yaml.MarkedYAMLError as exc:
        raise YamlProblems([_syntax_problem(exc, text, file)]) from None
    except yaml.YAMLError as exc:  # ReaderError: control characters the YAML spec forbids
        raise YamlProblems([_reader_problem(exc, text, file)]) from None
    finally:
        parser.dispose()
        if collecting:
            gc.enable()


def decode_text(data: bytes, file: str) -> str:
    """UTF-8 (with or without BOM) text of a file, or a located problem at the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _line_column(data[: exc.start].decode("utf-8", "replace"))
        raise YamlProblems(
            [_problem(file, line, column, "the file is not UTF-8 text", "save it as UTF-8 (YAML files are text)")]
        ) from None


def _line_column(prefix: str) -> tuple[int, int]:
    line = prefix.count("\n") + 1
    return line, len(prefix) - (prefix.rfind("\n") + 1) + 1


def _build(
    parser: Any, file: str, positions: Positions, string_hook: Callable[[str], str] | None, limits: Limits
) -> Any:
    """The hot loop: one pass over the events, no intermediate nodes.

    The open container's state is kept in local variables (fastest in CPython); its parent's state
    is pushed on `stack` while it is open. `values` counts every value as if aliases were written
    out; an anchor remembers how many values and how many levels of nesting its value holds, so
    an alias is charged for what it brings in.
    """
    get_event = parser.get_event
    typer = _TYPER
    cache = typer.cache
    missing = _MISSING
    entries_table = positions.entries
    templated_ids = positions.templated
    keep = positions._keep
    starts = positions.starts
    anchors: dict[str, Any] = {}
    anchor_sizes: dict[str, tuple[int, int]] = {}  # anchor -> (values, levels of nesting) of its value
    open_anchors: set[str] = set()
    unsafe_done: set[int] = set()
    values = 0
    aliases_left = limits.aliases
    alias_values_left = limits.alias_values
    problems: list[Problem] = []
    stack: list[tuple[Any, ...]] = []
    root: Any = None
    documents = 0
    # State of the open container (None at the top level).
    container: Any = None
    entries: Any = None
    is_map = False
    key: Any = missing
    key_line = key_col = 0
    frame: _Frame | None = None
    templated = False  # the open container holds a template or vault value somewhere
    while True:
        event = get_event()
        if event is None:
            break
        cls = event.__class__
        fresh = False  # a container completed by this event (not an alias)
        if cls is ScalarEvent:
            values += 1
            mark = event.start_mark
            line = mark.line + 1
            column = mark.column + 1
            tag = event.tag
            text = event.value
            if tag is None:
                if event.implicit[0]:
                    value = cache.get(text, missing)
                    if value is missing:
                        count = len(problems)
                        value = _plain(typer, text, file, line, column, problems)
                        if len(problems) > count:
                            _hide_if_secret(problems, key if is_map else None, stack)
                else:
                    value = text
            else:
                count = len(problems)
                value = _tagged_scalar(typer, tag, text, file, line, column, problems)
                if value.__class__ is VaultText:
                    templated = True
                elif len(problems) > count:
                    _hide_if_secret(problems, key if is_map else None, stack)
            if "{" in text:
                templated = True
            if string_hook is not None and value.__class__ is str and not (is_map and key is missing):
                value = string_hook(value)  # values only: keys are names, not secrets
            if event.anchor is not None:
                anchors[event.anchor] = value
                anchor_sizes[event.anchor] = (1, 0)
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            values += 1
            mark = event.start_mark
            depth = frame.depth + 1 if frame is not None else 1
            if depth > MAX_DEPTH:
                raise YamlProblems([_too_deep(file, mark.line + 1, mark.column + 1)])
            tag = event.tag
            if tag not in (_MAP_TAGS if cls is MappingStartEvent else _SEQ_TAGS) and tag != _UNSAFE_TAG:
                problems.append(
                    _problem(file, mark.line + 1, mark.column + 1, f"YAML tag '{shorten(tag)}' is not supported")
                )
            if event.anchor is not None:
                open_anchors.add(event.anchor)
            if entries is not None:
                stack.append((container, entries, is_map, key, key_line, key_col, frame, templated))
            is_map = cls is MappingStartEvent
            container = {} if is_map else []
            entries = {} if is_map else []
            key = missing
            templated = False
            frame = _Frame(mark.line + 1, mark.column + 1, event.anchor, tag == _UNSAFE_TAG, depth, values)
            continue
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            value = container
            done = frame
            if done.merges:
                templated = _apply_merges(
                    value, entries, done.merges, entries_table, templated_ids, file, problems
                ) or (templated)
            if done.unsafe:
                _mark_unsafe(value, unsafe_done)
            entries_table[id(value)] = entries
            keep.append(value)
            if templated:
                templated_ids.add(id(value))
            line = done.line
            column = done.column
            if done.anchor is not None:
                anchors[done.anchor] = value
                anchor_sizes[done.anchor] = (values - done.values_before + 1, done.deepest - done.depth + 1)
                open_anchors.discard(done.anchor)
            if stack:
                container, entries, is_map, key, key_line, key_col, frame, parent_templated = stack.pop()
                templated = templated or parent_templated
                if done.deepest > frame.deepest:
                    frame.deepest = done.deepest
            else:
                container = entries = frame = None
            fresh = True
        elif cls is AliasEvent:
            mark = event.start_mark
            line = mark.line + 1
            column = mark.column + 1
            name = event.anchor
            value = anchors.get(name, missing)
            if value is missing:
                if name in open_anchors:
                    message = f"alias *{name} refers to a node that contains it (recursive data is not supported)"
                else:
                    message = f"alias *{name} has no anchor &{name} before it"
                problems.append(_problem(file, line, column, message, "define the anchor (&name) before using *name"))
                value = None
            else:
                size, height = anchor_sizes[name]
                aliases_left -= 1
                alias_values_left -= size
                values += size
                if aliases_left < 0 or alias_values_left < 0:
                    raise YamlProblems([_alias_bomb(file, line, column, aliases_left < 0)])
                if height and frame is not None:
                    depth = frame.depth + height
                    if depth > MAX_DEPTH:
                        raise YamlProblems([_too_deep(file, line, column)])
                    if depth > frame.deepest:
                        frame.deepest = depth
                if id(value) in templated_ids or value.__class__ is VaultText:
                    templated = True
        elif cls is DocumentStartEvent:
            documents += 1
            if documents > 1:
                mark = event.start_mark
                problems.append(
                    _problem(
                        file,
                        mark.line + 1,
                        mark.column + 1,
                        "more than one YAML document in this file",
                        "an inventory or vars file holds exactly one document; remove the extra '---'",
                    )
                )
                break
            continue
        else:
            continue

        # Attach the finished value to the open container.
        if entries is None:
            root = value
            if fresh:
                starts[id(value)] = (file, line, column)
            continue
        if is_map:
            if key is missing:
                if fresh or value.__class__ is list or value.__class__ is dict:
                    problems.append(
                        _problem(file, line, column, "a mapping key must be a plain value, not a list or mapping")
                    )
                    value = _SKIP
                elif value is not _MERGE and value in entries:
                    first = entries[value]
                    problems.append(
                        _problem(
                            file,
                            line,
                            column,
                            f"duplicate key '{shorten(value)}' (first defined at line {first[1]})",
                            f"keys must be unique within a mapping; remove or rename one (lines {first[1]} and {line})",
                        )
                    )
                    value = _SKIP
                key = value
                key_line = line
                key_col = column
                continue
            if key is _SKIP:
                pass
            elif key is _MERGE:
                if frame.merges is None:
                    frame.merges = []
                frame.merges.append((value, line, column))
            else:
                container[key] = value
                entries[key] = (file, key_line, key_col, line, column)
                if fresh:
                    starts[id(value)] = (file, key_line, key_col)
            key = missing
        else:
            container.append(value)
            entries.append((file, line, column))
            if fresh:
                starts[id(value)] = (file, line, column)
    limits.aliases = aliases_left
    limits.alias_values = alias_values_left
    if problems:
        raise YamlProblems(problems)
    return root


def _too_deep(file: str, line: int, column: int) -> Problem:
    return _problem(
        file,
        line,
        column,
        f"mappings and lists are nested more than {MAX_DEPTH} levels deep here (aliases included)",
        "an inventory needs a few levels; flatten this value",
    )


def _alias_bomb(file: str, line: int, column: int, too_many: bool) -> Problem:
    what = (
        f"more than {MAX_ALIASES:,} aliases are used"
        if too_many
        else f"aliases bring in more than {MAX_ALIAS_VALUES:,} values"
    )
    return _problem(
        file,
        line,
        column,
        f"{what} in this inventory; fleetdns stops here (an alias bomb?)",
        "write the shared values once in group vars instead of repeating aliases of aliases",
    )


def _hide_if_secret(problems: list[Problem], key: Any, stack: list[tuple[Any, ...]]) -> None:
    """The last problem quotes a value: if it sits under a secret option, word it without the value."""
    from .secret_options import is_secret_option

    keys = [key, *(entry[3] for entry in stack if entry[2])]
    secret = next((k for k in keys if is_secret_option(k)), None)
    if secret is not None:
        last = problems[-1]
        problems[-1] = Problem(
            f"the value of {secret} cannot be read as written (not shown: it is a secret)",
            last.path,
            "write a secret as a plain or quoted string",
            last.location,
        )


def _plain(typer: _ScalarTyper, text: str, file: str, line: int, column: int, problems: list[Problem]) -> Any:
    try:
        value = typer.plain(text)
    except ValueError as exc:
        problems.append(_problem(file, line, column, str(exc), "quote the value to make it a string"))
        return text
    typer.cache[text] = value
    return value


def _tagged_scalar(
    typer: _ScalarTyper,
    tag: str,
    text: str,
    file: str,
    line: int,
    column: int,
    problems: list[Problem],
) -> Any:
    if tag in _VAULT_TAGS:
        return VaultText(text, file, line, column)
    if tag == _UNSAFE_TAG:
        value = typer.plain(text) if text else None
        return Unsafe(text) if isinstance(value, str) or value is _MERGE else value
    if tag == "!":
        return text
    try:
        return typer.tagged(tag, text)
    except ValueError as exc:
        problems.append(
            _problem(file, line, column, str(exc), "supported tags: !vault, !unsafe and the standard !!str, !!int ...")
        )
        return text


def _apply_merges(
    mapping: dict[Any, Any],
    entries: dict[Any, Any],
    merges: list[tuple[Any, int, int]],
    entries_table: dict[int, Any],
    templated_ids: set[int],
    file: str,
    problems: list[Problem],
) -> bool:
    """`<<: *base` / `<<: [*a, *b]`: merged keys come first; explicit keys and earlier merges win.

    Returns whether a merged mapping holds templates."""
    explicit = dict(mapping)
    explicit_entries = dict(entries)
    sources: list[dict[Any, Any]] = []
    for value, line, column in merges:
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, dict) for item in items):
            problems.append(
                _problem(
                    file, line, column, "a '<<' merge key needs a mapping or a list of mappings", "use <<: *anchor"
                )
            )
            continue
        sources.extend(reversed(items))
    mapping.clear()
    entries.clear()
    templated = False
    for source in sources:
        templated = templated or id(source) in templated_ids
        source_entries = entries_table.get(id(source))
        mapping.update(source)
        if isinstance(source_entries, dict):
            entries.update(source_entries)
    mapping.update(explicit)
    entries.update(explicit_entries)
    return templated


def _mark_unsafe(value: Any, done: set[int]) -> Any:
    """Everything inside an `!unsafe` collection is a string that must never be templated.

    `done` holds the containers already marked: an aliased one is walked once, not once per use."""
    if isinstance(value, (dict, list)):
        if id(value) in done:
            return value
        done.add(id(value))
        if isinstance(value, dict):
            for key, item in value.items():
                value[key] = _mark_unsafe(item, done)
        else:
            value[:] = [_mark_unsafe(item, done) for item in value]
        return value
    if isinstance(value, str) and not isinstance(value, Unsafe):
        return Unsafe(value)
    return value


def _problem(file: str, line: int, column: int, message: str, hint: str = "") -> Problem:
    return Problem(message, "", hint, Location(file, line, column))


_SYNTAX_HINTS = (
    ("mapping values are not allowed", "a ': ' inside a plain value? quote the value, or fix the indentation"),
    ("could not find expected ':'", "check the indentation and the quotes on this line and the one before"),
    ("did not find expected key", "check the indentation: keys of one mapping must line up"),
    ("found undefined alias", "define the anchor (&name) before using *name"),
    ("found duplicate anchor", "anchor names must be unique in a file"),
    ("did not find expected '-' indicator", "list items of one list must line up"),
    ("found unexpected end of stream", "a quote or bracket is not closed"),
    ("did not find expected ',' or ']'", "a [ is not closed, or a list item needs quotes"),
    ("did not find expected ',' or '}'", "a { is not closed, or a value needs quotes"),
    ("while scanning a quoted scalar", "a quote is not closed"),
    ("cannot start any token", "quote values that start with a special character (@, `, %, |, >)"),
)


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return Problem(
            f"YAML syntax error: {shorten(exc.problem or exc)}", "", "check the YAML syntax", Location(file, 1, 1)
        )
    line, column = mark.line + 1, mark.column + 1
    lines = text.splitlines()
    at = lines[mark.line][mark.column : mark.column + 1] if mark.line < len(lines) else ""
    if at == "\t":
        return Problem(
            "YAML syntax error: a tab character; YAML indentation must use spaces",
            "",
            "replace the tab characters with spaces",
            Location(file, line, column),
        )
    message = f"YAML syntax error: {shorten(exc.problem)}" if exc.problem else "YAML syntax error"
    if exc.context and exc.context_mark and exc.context_mark.line != mark.line:
        message += f" ({shorten(exc.context)} at line {exc.context_mark.line + 1})"
    both = f"{exc.problem} {exc.context}"
    hint = next((h for needle, h in _SYNTAX_HINTS if needle in both), "check the indentation and quoting here")
    return Problem(message, "", hint, Location(file, line, column))


def _reader_problem(exc: yaml.YAMLError, text: str, file: str) -> Problem:
    position = getattr(exc, "position", None)
    character = getattr(exc, "character", None)
    if isinstance(character, int):
        character = chr(character)
    what = f"character {character!r}" if isinstance(character, str) else "a character"
    message = f"{what} is not allowed in YAML text"
    line, column = _line_column(text[:position]) if isinstance(position, int) else (1, 1)
    hint = "remove the control character (YAML allows printable text only)"
    return Problem(message, "", hint, Location(file, line, column))
