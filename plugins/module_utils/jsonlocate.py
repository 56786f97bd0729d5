"""JSON with positions: parse a document and remember where every value and key is written, so a
problem can name file:line:column like `fleetdns validate` does for YAML.

The standard library's json module gives no positions, and a device may not have PyYAML, so this
is a small parser of its own over the standard library's string and number scanners. It accepts
exactly RFC 8259 JSON (no comments, no trailing commas) and rejects duplicate keys, which json.loads
silently collapses.
"""

from __future__ import annotations

import json
import json.decoder
import re
from typing import Any

from .errors import Location

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}
MAX_DEPTH = 64


class JsonSyntaxError(ValueError):
    """Not JSON; `location` says where the parser stopped."""

    def __init__(self, message: str, location: Location) -> None:
        super().__init__(f"{location}: {message}")
        self.message = message
        self.location = location


class Located:
    """A parsed document plus a locator: `locate(container, key)` is where that value is written,
    `locate.key(container, key)` where the key itself is (the shape config.py's checker takes)."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self._text = text
        self._lines = [0]
        self._lines.extend(m.end() for m in re.finditer("\n", text))
        self._values: dict[int, dict[Any, int]] = {}
        self._keys: dict[int, dict[Any, int]] = {}
        self._root_at = 0
        self._starts: dict[int, int] = {}
        self._keep: list[Any] = []  # containers stay alive, so their ids are not reused
        self.data = self._parse()

    # ---- locating

    def _where(self, offset: int) -> Location:
        low, high = 0, len(self._lines) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self._lines[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        return Location(self.file, low + 1, offset - self._lines[low] + 1)

    def __call__(self, container: Any, key: Any) -> Location | None:
        if key is None:
            return self._container_at(container)
        offset = self._values.get(id(container), {}).get(key)
        return self._where(offset) if offset is not None else self._container_at(container)

    def key(self, container: Any, key: Any) -> Location | None:
        offset = self._keys.get(id(container), {}).get(key)
        return self._where(offset) if offset is not None else self(container, key)

    def alias(self, copy: Any, original: Any) -> None:
        """Locate `copy` (a filtered copy of a mapping) where `original` is written."""
        self._keep.append(copy)
        for table in (self._values, self._keys):
            if id(original) in table:
                table[id(copy)] = table[id(original)]
        self._starts[id(copy)] = self._starts.get(id(original), 0)

    def _container_at(self, container: Any) -> Location | None:
        offset = self._starts.get(id(container))
        return self._where(offset) if offset is not None else None

    # ---- parsing

    def _parse(self) -> Any:
        value, end = self._value(self._skip(0), 0)
        end = self._skip(end)
        if end != len(self._text):
            self._fail("extra text after the JSON document", end)
        return value

    def _skip(self, offset: int) -> int:
        return _WS.match(self._text, offset).end()  # type: ignore[union-attr]

    def _fail(self, message: str, offset: int) -> None:
        raise JsonSyntaxError(message, self._where(offset))

    def _value(self, offset: int, depth: int) -> tuple[Any, int]:
        text = self._text
        if depth > MAX_DEPTH:
            self._fail(f"nested more than {MAX_DEPTH} levels deep", offset)
        char = text[offset : offset + 1]
        if char == "{":
            return self._object(offset, depth)
        if char == "[":
            return self._array(offset, depth)
        if char == '"':
            return self._string(offset)
        for word, value in _LITERALS.items():
            if text.startswith(word, offset):
                return value, offset + len(word)
        match = _NUMBER.match(text, offset)
        if match and match.group():
            number = match.group()
            return (float(number) if any(c in number for c in ".eE") else int(number)), match.end()
        self._fail("expected a value (a string in double quotes, number, true, false, null, {...} or [...])", offset)
        raise AssertionError  # unreachable: _fail raises

    def _string(self, offset: int) -> tuple[str, int]:
        try:
            return json.decoder.scanstring(self._text, offset + 1, True)
        except json.JSONDecodeError as exc:
            self._fail(exc.msg.lower(), exc.pos)
            raise AssertionError from None

    def _object(self, start: int, depth: int) -> tuple[dict[str, Any], int]:
        result: dict[str, Any] = {}
        self._starts[id(result)] = start
        self._keep.append(result)
        values, keys = self._values.setdefault(id(result), {}), self._keys.setdefault(id(result), {})
        offset = self._skip(start + 1)
        if self._text.startswith("}", offset):
            return result, offset + 1
        while True:
            if not self._text.startswith('"', offset):
                self._fail("expected a key in double quotes (a trailing comma is not allowed in JSON)", offset)
            key, after = self._string(offset)
            if key in result:
                self._fail(f"key {key!r} appears twice in this object", offset)
            keys[key] = offset
            offset = self._skip(after)
            if not self._text.startswith(":", offset):
                self._fail(f"expected ':' after the key {key!r}", offset)
            offset = self._skip(offset + 1)
            values[key] = offset
            result[key], offset = self._value(offset, depth + 1)
            offset = self._skip(offset)
            if self._text.startswith("}", offset):
                return result, offset + 1
            if not self._text.startswith(",", offset):
                self._fail("expected ',' or '}'", offset)
            offset = self._skip(offset + 1)

    def _array(self, start: int, depth: int) -> tuple[list[Any], int]:
        result: list[Any] = []
        self._starts[id(result)] = start
        self._keep.append(result)
        values = self._values.setdefault(id(result), {})
        offset = self._skip(start + 1)
        if self._text.startswith("]", offset):
            return result, offset + 1
        while True:
            values[len(result)] = offset
            item, offset = self._value(offset, depth + 1)
            result.append(item)
            offset = self._skip(offset)
            if self._text.startswith("]", offset):
                return result, offset + 1
            if not self._text.startswith(",", offset):
                self._fail("expected ',' or ']'", offset)
            offset = self._skip(offset + 1)


def parse(text: str, file: str = "<string>") -> Located:
    """Parse `text`; JsonSyntaxError (located) when it is not JSON."""
    return Located(file, text)
