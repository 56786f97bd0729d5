"""Fast YAML loading from libyaml's event stream, with every value's position kept on the side.

PyYAML's own loaders build a node graph and then construct objects from it, which costs ~0.8 s for
a 10,000-record inventory. Iterating libyaml's events and building plain dicts/lists directly takes
a fraction of that. Positions live in a side table keyed by id(container) (see `Positions`), so the
data stays plain Python and `locate` is a dict lookup.

Scalars are typed exactly as PyYAML's SafeLoader (and so Ansible) types them: YAML 1.1 implicit
resolution (yes/no are booleans, 1:20 is sexagesimal, 2024-01-01 is a date). Ansible's `!unsafe` and
`!vault` tags are understood; anchors, aliases and `<<` merge keys work; duplicate keys are errors.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import yaml
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import Location, Problem
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
    """What is rarely needed of an open mapping or sequence (the hot state lives in locals)."""

    __slots__ = ("anchor", "column", "line", "merges", "unsafe")

    def __init__(self, line: int, column: int, anchor: str | None, unsafe: bool) -> None:
        self.line = line
        self.column = column
        self.anchor = anchor
        self.unsafe = unsafe
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
            raise ValueError(f"tag {tag!r} is not supported here")
        node = ScalarNode(tag, text)
        try:
            return getattr(self._constructor, f"construct_yaml_{name}")(node)
        except (ConstructorError, ValueError, TypeError) as exc:
            raise ValueError(f"{text!r} is not a valid {name}: {exc}") from None


_TYPER = _ScalarTyper()


def load_yaml(
    data: bytes | str,
    file: str,
    positions: Positions,
    string_hook: Callable[[str], str] | None = None,
) -> Any:
    """Parse one YAML document into plain objects, recording positions; raise YamlProblems.

    `string_hook`, when given, wraps every string value, not keys (marks decrypted vault files secret).
    """
    text = decode_text(data, file) if isinstance(data, bytes) else data
    parser = CParser(text)
    collecting = gc.isenabled()
    gc.disable()  # the loader creates only acyclic data; the cyclic GC would rescan it over and over
    try:
        return _build(parser, file, positions, string_hook)
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


def _build(parser: Any, file: str, positions: Positions, string_hook: Callable[[str], str] | None) -> Any:
    """The hot loop: one pass over the events, no intermediate nodes.

    The open container's state is kept in local variables (fastest in CPython); its parent's state
    is pushed on `stack` while it is open.
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
    open_anchors: set[str] = set()
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
            mark = event.start_mark
            line = mark.line + 1
            column = mark.column + 1
            tag = event.tag
            text = event.value
            if tag is None:
                if event.implicit[0]:
                    value = cache.get(text, missing)
                    if value is missing:
                        value = _plain(typer, text, file, line, column, problems)
                else:
                    value = text
            else:
                value = _tagged_scalar(typer, tag, text, file, line, column, problems)
                if value.__class__ is VaultText:
                    templated = True
            if "{" in text:
                templated = True
            if string_hook is not None and value.__class__ is str and not (is_map and key is missing):
                value = string_hook(value)  # values only: keys are names, not secrets
            if event.anchor is not None:
                anchors[event.anchor] = value
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            mark = event.start_mark
            tag = event.tag
            if tag not in (_MAP_TAGS if cls is MappingStartEvent else _SEQ_TAGS) and tag != _UNSAFE_TAG:
                problems.append(_problem(file, mark.line + 1, mark.column + 1, f"YAML tag {tag!r} is not supported"))
            if event.anchor is not None:
                open_anchors.add(event.anchor)
            if entries is not None:
                stack.append((container, entries, is_map, key, key_line, key_col, frame, templated))
            is_map = cls is MappingStartEvent
            container = {} if is_map else []
            entries = {} if is_map else []
            key = missing
            templated = False
            frame = _Frame(mark.line + 1, mark.column + 1, event.anchor, tag == _UNSAFE_TAG)
            continue
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            value = container
            done = frame
            if done.merges:
                templated = _apply_merges(
                    value, entries, done.merges, entries_table, templated_ids, file, problems
                ) or (templated)
            if done.unsafe:
                _mark_unsafe(value)
            entries_table[id(value)] = entries
            keep.append(value)
            if templated:
                templated_ids.add(id(value))
            line = done.line
            column = done.column
            if done.anchor is not None:
                anchors[done.anchor] = value
                open_anchors.discard(done.anchor)
            if stack:
                container, entries, is_map, key, key_line, key_col, frame, parent_templated = stack.pop()
                templated = templated or parent_templated
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
            elif id(value) in templated_ids or value.__class__ is VaultText:
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
                            f"duplicate key {value!r} (first defined at line {first[1]})",
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
    if problems:
        raise YamlProblems(problems)
    return root


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


def _mark_unsafe(value: Any) -> Any:
    """Everything inside an `!unsafe` collection is a string that must never be templated."""
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = _mark_unsafe(item)
        return value
    if isinstance(value, list):
        value[:] = [_mark_unsafe(item) for item in value]
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
        return Problem(f"YAML syntax error: {exc.problem or exc}", "", "check the YAML syntax", Location(file, 1, 1))
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
    message = f"YAML syntax error: {exc.problem}" if exc.problem else "YAML syntax error"
    if exc.context and exc.context_mark and exc.context_mark.line != mark.line:
        message += f" ({exc.context} at line {exc.context_mark.line + 1})"
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
