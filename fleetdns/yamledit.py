"""Add entries to a YAML file and keep every byte of what is not changed.

ruamel.yaml's round-trip parser reads the file (node by node, with the position where each starts
and ends); the new entries are written as text in the layout of their neighbours (indentation,
block or flow style) and spliced in. Nothing else is re-emitted, so comments, key order, quoting,
blank lines and line breaks of everything untouched stay exactly as they were. The only text
replaced rather than added to is an empty or flow-style collection that gets block entries
(`records: []`, `example.test: {provider: lab}`): its own entries are kept as written.

`emit` writes plain data (dict, list, str, int, bool; Flow(...) for a flow-style mapping) as YAML
that reads back, as Ansible reads YAML 1.1, to the same values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import FleetDNSError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

FLOW_WIDTH = 120  # a flow-style entry longer than this is written in block style
_PLAIN = re.compile(r"[A-Za-z0-9_./][^,\[\]{}#&*!|>'\"%@`]*")


class Flow(dict):
    """A mapping to write in flow style: {name: www, type: A, value: 192.0.2.1}."""


class YamlEditError(FleetDNSError):
    """The file cannot be edited as asked (its shape is not one fleetdns can add to)."""


# ---- scalars and values ----------------------------------------------------------------------------


def scalar(value: Any) -> str:
    """One scalar as YAML text that reads back (YAML 1.1, as Ansible reads it) as the same value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    text = str(value)
    if (
        _PLAIN.fullmatch(text)
        and ": " not in text
        and " #" not in text
        and not text.endswith((":", " "))
        and _reads_as(text, text)
    ):
        return text
    if all(c.isprintable() for c in text):
        if '"' not in text and "\\" not in text:
            return f'"{text}"'
        return "'" + text.replace("'", "''") + "'"
    return _double_quoted(text)


def _double_quoted(text: str) -> str:
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif c.isprintable():
            out.append(c)
        else:
            out.append(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")
    return '"' + "".join(out) + '"'


def _reads_as(text: str, wanted: Any) -> bool:
    try:
        return yaml.safe_load(f"[{text}]") == [wanted]
    except yaml.YAMLError:
        return False


def flow(value: Any) -> str:
    """A value in flow style."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


@dataclass(frozen=True)
class Layout:
    """How a file indents: spaces per mapping level, and where a sequence's dash sits under its key."""

    step: int = 2
    dash: int = 2  # columns from the key that holds the sequence to its dash


def emit_entry(key: Any, value: Any, indent: int, layout: Layout) -> str:
    """`key: value` at `indent`, with every line ending in a newline."""
    pad = " " * indent
    head = f"{pad}{scalar(key)}:"
    if (
        isinstance(value, Flow)
        or not isinstance(value, (dict, list))
        or (isinstance(value, list) and _all_scalars(value))
    ):
        text = f"{head} {flow(value)}\n"
        if len(text) <= FLOW_WIDTH or not isinstance(value, (dict, list)) or not value:
            return text
    if isinstance(value, dict):
        if not value:
            return f"{head} {{}}\n"
        return f"{head}\n" + "".join(emit_entry(k, v, indent + layout.step, layout) for k, v in value.items())
    if not value:
        return f"{head} []\n"
    return f"{head}\n" + "".join(emit_item(item, indent + layout.dash, layout) for item in value)


def emit_item(item: Any, dash: int, layout: Layout) -> str:
    """One sequence item with its dash at column `dash`."""
    pad = " " * dash
    if isinstance(item, dict) and item:
        line = f"{pad}- {flow(item)}\n"
        if isinstance(item, Flow) and len(line) <= FLOW_WIDTH:
            return line
        entries = [emit_entry(k, v, dash + 2, layout) for k, v in item.items()]
        return f"{pad}- " + entries[0][dash + 2 :] + "".join(entries[1:])
    return f"{pad}- {flow(item)}\n"


def _all_scalars(items: list) -> bool:
    return all(not isinstance(v, (dict, list)) for v in items)


# ---- the document ----------------------------------------------------------------------------------


class YamlDoc:
    """One YAML file's text, its node tree, and the edits to splice in."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        try:
            self.root: Node | None = YAML(typ="rt").compose(text)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark
            where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark is not None else file
            raise YamlEditError(f"{where}: not valid YAML: {exc.problem}", "fix the file, then import again") from None
        self.newline = "\r\n" if "\r\n" in text else "\n"  # new lines end as the file's lines do
        self._edits: list[tuple[int, int, str]] = []
        self._key_of: dict[int, Node] = {}  # id(value node) -> its key node, for values found by get()
        self.layout = self._detect_layout()

    # -- finding

    def get(self, path: list[str]) -> Node | None:
        """The node at a path of mapping keys, or None when some key is missing."""
        node = self.root
        for key in path:
            found = self.entry(node, key)
            if found is None:
                return None
            self._key_of[id(found[1])] = found[0]
            node = found[1]
        return node

    @staticmethod
    def entry(node: Node | None, key: str) -> tuple[Node, Node] | None:
        if not isinstance(node, MappingNode):
            return None
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                return key_node, value_node
        return None

    def where(self, node: Node) -> str:
        return f"{self.file}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"

    # -- edits

    def add_entry(self, parent: Node, key: str, value: Any, key_column: int) -> None:
        """Add `key: value` to the mapping `parent` (a block mapping, a flow mapping, or an empty
        value to turn into one), whose keys sit at `key_column` when it is empty or in flow style."""
        if isinstance(parent, MappingNode) and not parent.flow_style and parent.value:
            column = parent.value[0][0].start_mark.column
            self._insert_after(parent, emit_entry(key, value, column, self.layout))
            return
        entries = self._flow_entries(parent)
        text = "".join(f"{' ' * key_column}{k}: {v}\n" for k, v in entries)
        self._replace_with_block(parent, text + emit_entry(key, value, key_column, self.layout))

    def append_items(self, seq: Node, items: list[Any], dash_column: int) -> None:
        """Append `items` to the sequence `seq` (block or flow, or an empty value to turn into one),
        whose dashes sit at `dash_column` when it is empty or in flow style."""
        if isinstance(seq, SequenceNode) and not seq.flow_style and seq.value:
            dash = self._dash_column(seq.value[0])
            self._insert_after(seq, "".join(emit_item(item, dash, self.layout) for item in items))
            return
        if isinstance(seq, SequenceNode) and seq.value:  # a flow sequence: add inside its brackets
            closing = seq.end_mark.index - 1
            self._edits.append((closing, closing, "".join(f", {flow(item)}" for item in items)))
            return
        if isinstance(seq, (MappingNode, SequenceNode)) and seq.value:
            raise YamlEditError(f"{self.where(seq)}: expected a list here", "fix the file, then import again")
        self._replace_with_block(seq, "".join(emit_item(item, dash_column, self.layout) for item in items))

    def append_document(self, key: str, value: Any) -> None:
        """Add a top-level `key: value` (an empty file, or a top-level block mapping)."""
        if self.root is None:
            prefix = "" if not self.text or self.text.endswith("\n") else "\n"
            self._edits.append((len(self.text), len(self.text), prefix + emit_entry(key, value, 0, self.layout)))
            return
        self.add_entry(self.root, key, value, 0)

    def insert(self, position: int, text: str) -> None:
        """Insert raw text (whole lines) at `position`."""
        self._edits.append((position, position, text))

    def result(self) -> str:
        text = self.text
        # From the end backwards; of two edits at one place, the one asked for first comes first.
        ordered = sorted(enumerate(self._edits), key=lambda e: (e[1][0], e[1][1], e[0]), reverse=True)
        for _index, (start, end, new) in ordered:
            if self.newline != "\n":
                new = new.replace("\n", self.newline)
            text = text[:start] + new + text[end:]
        return text

    # -- helpers

    def _insert_after(self, node: Node, lines: str) -> None:
        position = self._end_of(node)
        if position > 0 and self.text[position - 1] == "\n":
            self._edits.append((position, position, lines))
            return
        newline = self.text.find("\n", position)
        if newline == -1:
            self._edits.append((len(self.text), len(self.text), "\n" + lines))
        else:
            self._edits.append((newline + 1, newline + 1, lines))

    def _end_of(self, node: Node) -> int:
        """Where the node's own text ends: for a block collection, where its last entry ends."""
        if isinstance(node, MappingNode) and not node.flow_style and node.value:
            return self._end_of(node.value[-1][1])
        if isinstance(node, SequenceNode) and not node.flow_style and node.value:
            return self._end_of(node.value[-1])
        return node.end_mark.index

    def _dash_column(self, item: Node) -> int:
        index = item.start_mark.index
        line_start = self.text.rfind("\n", 0, index) + 1
        dash = self.text.rfind("-", line_start, index)
        return dash - line_start if dash >= 0 else item.start_mark.column

    def _flow_entries(self, node: Node) -> list[tuple[str, str]]:
        """The entries of a flow mapping as written (key text, value text); [] for an empty value."""
        if isinstance(node, ScalarNode) and node.tag.endswith(":null"):
            return []
        if not isinstance(node, MappingNode):
            raise YamlEditError(f"{self.where(node)}: expected a mapping here", "fix the file, then import again")
        entries = []
        for key_node, value_node in node.value:
            key_text = self.text[key_node.start_mark.index : key_node.end_mark.index]
            value_text = self.text[value_node.start_mark.index : value_node.end_mark.index]
            if "\n" in value_text:
                raise YamlEditError(
                    f"{self.where(value_node)}: a flow mapping spread over several lines",
                    "write this mapping in block style, then import again",
                )
            entries.append((key_text, value_text))
        return entries

    def _replace_with_block(self, node: Node, block: str) -> None:
        """Replace an empty or flow-style value (what follows `key:` on its line) with block lines,
        keeping a comment after it on that line."""
        start, end = node.start_mark.index, node.end_mark.index
        key_node = self._key_of.get(id(node))
        if isinstance(node, ScalarNode) and not node.value and key_node is not None:
            # an empty value: it is marked where the next token starts; it really is after `key:`
            start = end = self.text.index(":", key_node.end_mark.index) + 1
        line_start = self.text.rfind("\n", 0, start) + 1
        before = self.text[line_start:start]
        if not before.rstrip().endswith(":"):
            raise YamlEditError(f"{self.where(node)}: cannot add entries here", "write it in block style first")
        newline = self.text.find("\n", end)
        line_end = len(self.text) if newline == -1 else newline + 1
        comment = self.text[end:line_end].strip()
        strip_from = line_start + len(before.rstrip(" "))
        self._edits.append((strip_from, line_end, (f" {comment}" if comment else "") + "\n" + block))

    def _detect_layout(self) -> Layout:
        """The indentation step and dash offset the file already uses (2 and 2 when it shows none)."""
        step = dash = None
        stack = [self.root] if self.root is not None else []
        while stack and (step is None or dash is None):
            node = stack.pop()
            if isinstance(node, MappingNode) and not node.flow_style:
                for key_node, value_node in node.value:
                    if isinstance(value_node, MappingNode) and not value_node.flow_style and value_node.value:
                        inner = value_node.value[0][0].start_mark.column - key_node.start_mark.column
                        if step is None and inner > 0:
                            step = inner
                    if isinstance(value_node, SequenceNode) and not value_node.flow_style and value_node.value:
                        offset = self._dash_column(value_node.value[0]) - key_node.start_mark.column
                        if dash is None and offset >= 0:
                            dash = offset
                    stack.append(value_node)
            elif isinstance(node, SequenceNode):
                stack.extend(node.value)
        return Layout(step or 2, dash if dash is not None else (step or 2))
