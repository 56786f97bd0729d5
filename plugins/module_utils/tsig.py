"""TSIG key files in BIND's format (what `tsig-keygen` writes), so named.conf can `include` them.

    key "host1key" {
            algorithm hmac-sha256;
            secret "base64...";
    };

Shared by the tsig_key module, the bind_server role's helpers and the CLI. Secrets never appear in
an exception message or a repr.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass, field

from .errors import FleetDNSError
from .files import write_text

# Algorithm -> secret size in bytes (the digest size, as tsig-keygen uses).
ALGORITHMS = {
    "hmac-md5": 16,
    "hmac-sha1": 20,
    "hmac-sha224": 28,
    "hmac-sha256": 32,
    "hmac-sha384": 48,
    "hmac-sha512": 64,
}
DEFAULT_ALGORITHM = "hmac-sha256"
WEAK_ALGORITHMS = frozenset({"hmac-md5"})
_ALIASES = {"hmac-md5.sig-alg.reg.int": "hmac-md5"}

_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_KEY_NAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")
_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<punct>[{};])
      | (?P<word>[^\s{};"#/]+|/(?![/*]))""",
    re.VERBOSE | re.DOTALL,
)


class TsigKeyError(FleetDNSError):
    """A key name, algorithm or key file that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class TsigKey:
    """One TSIG key. The secret is base64 text and stays out of repr()."""

    name: str
    algorithm: str
    secret: str = field(repr=False)

    def same_identity(self, name: str, algorithm: str) -> bool:
        """True when this key has that name (case and final dot aside) and algorithm."""
        return key_name_id(self.name) == key_name_id(name) and self.algorithm == normalize_algorithm(algorithm)


def normalize_algorithm(algorithm: str) -> str:
    """Canonical algorithm name: 'HMAC-SHA256', 'sha256' and 'hmac-sha256.' all give 'hmac-sha256'."""
    if not isinstance(algorithm, str):
        raise TsigKeyError(f"TSIG algorithm {algorithm!r} is not a string", f"use one of {', '.join(ALGORITHMS)}")
    text = algorithm.strip().lower().rstrip(".")
    text = _ALIASES.get(text, text)
    if not text.startswith("hmac-"):
        text = "hmac-" + text
    if text not in ALGORITHMS:
        raise TsigKeyError(f"unknown TSIG algorithm {algorithm!r}", f"use one of {', '.join(ALGORITHMS)}")
    return text


def check_key_name(name: str) -> str:
    """The key name, stripped, when it is a valid domain name (what BIND accepts as a key name)."""
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text.rstrip(".")) > 253 or not _KEY_NAME.fullmatch(text):
        raise TsigKeyError(
            f"{name!r} is not a valid TSIG key name",
            "use a domain name: labels of letters, digits, '-' and '_' separated by dots, like host1.example.test",
        )
    return text


def key_name_id(name: str) -> str:
    """Comparison form of a key name: BIND treats key names as case-insensitive domain names."""
    return name.strip().lower().rstrip(".")


def secret_size(algorithm: str) -> int:
    return ALGORITHMS[normalize_algorithm(algorithm)]


def generate_key(name: str, algorithm: str = DEFAULT_ALGORITHM) -> TsigKey:
    """A new key with a random secret as long as the algorithm's digest (as tsig-keygen makes)."""
    canonical = normalize_algorithm(algorithm)
    secret = base64.b64encode(secrets.token_bytes(ALGORITHMS[canonical])).decode("ascii")
    return TsigKey(check_key_name(name), canonical, secret)


def render_key(key: TsigKey, secret: str | None = None) -> str:
    """The key as a named.conf `key` statement, byte for byte what tsig-keygen prints.

    `secret` replaces the real secret in the text, for diffs that must not show it.
    """
    shown = key.secret if secret is None else secret
    return f'key "{key.name}" {{\n\talgorithm {key.algorithm};\n\tsecret "{shown}";\n}};\n'


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, value, line) for each token of named.conf syntax, comments and blanks dropped."""
    tokens = []
    pos = 0
    line = 1
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise TsigKeyError(f"line {line}: unexpected character {text[pos]!r}")
        kind = match.lastgroup or ""
        value = match.group()
        if kind not in ("space", "comment"):
            tokens.append((kind, value, line))
        line += value.count("\n")
        pos = match.end()
    return tokens


def parse_keys(text: str) -> list[TsigKey]:
    """Every `key` statement of a file that holds only key statements (comments allowed).

    Raises TsigKeyError naming the line when the text is anything else, so a caller never
    mistakes (and overwrites) another kind of file for a key file.
    """
    tokens = _tokens(text)
    keys: list[TsigKey] = []
    index = 0

    def expect(kind: str, value: str | None = None) -> tuple[str, str, int]:
        nonlocal index
        if index >= len(tokens):
            raise TsigKeyError(f"unexpected end of file; expected {value or kind!r}")
        token = tokens[index]
        if token[0] != kind or (value is not None and token[1] != value):
            shown = "a quoted string" if token[0] == "string" else repr(token[1])
            raise TsigKeyError(f"line {token[2]}: expected {value or kind!r}, found {shown}")
        index += 1
        return token

    while index < len(tokens):
        start = tokens[index]
        if start[0] != "word" or start[1] != "key":
            raise TsigKeyError(f"line {start[2]}: found {start[1]!r} where a 'key' statement should start")
        index += 1
        if index < len(tokens) and tokens[index][0] in ("word", "string"):
            name = _unquote(tokens[index][1])
            index += 1
        else:
            raise TsigKeyError(f"line {start[2]}: 'key' without a name")
        expect("punct", "{")
        algorithm = secret = None
        while index < len(tokens) and tokens[index][1] != "}":
            clause = expect("word")
            if clause[1] == "algorithm":
                kind = tokens[index][0] if index < len(tokens) else "word"
                algorithm = _unquote(expect("string" if kind == "string" else "word")[1])
            elif clause[1] == "secret":
                secret = _unquote(expect("string")[1])
            else:
                raise TsigKeyError(f"line {clause[2]}: unknown clause {clause[1]!r} in key {name!r}")
            expect("punct", ";")
        expect("punct", "}")
        expect("punct", ";")
        if algorithm is None or secret is None:
            missing = "algorithm" if algorithm is None else "secret"
            raise TsigKeyError(f"line {start[2]}: key {name!r} has no {missing}")
        try:
            keys.append(TsigKey(check_key_name(name), normalize_algorithm(algorithm), _check_secret(secret, name)))
        except TsigKeyError as exc:
            raise TsigKeyError(f"line {start[2]}: {exc.message}", exc.hint) from None
    return keys


def _unquote(text: str) -> str:
    if text.startswith('"'):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _check_secret(secret: str, name: str) -> str:
    compact = "".join(secret.split())
    try:
        decoded = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise TsigKeyError(f"the secret of key {name!r} is not valid base64") from None
    if not decoded:
        raise TsigKeyError(f"the secret of key {name!r} is empty")
    return compact


def read_key_file(path: str) -> TsigKey | None:
    """The one key in the file at `path`; None when there is no file.

    Raises TsigKeyError when the file is not a key file or holds more or fewer than one key.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeError) as exc:
        raise TsigKeyError(f"cannot read {path}: {exc}") from None
    try:
        keys = parse_keys(text)
    except TsigKeyError as exc:
        raise TsigKeyError(f"{path} is not a TSIG key file: {exc.message}", exc.hint) from None
    if len(keys) != 1:
        raise TsigKeyError(f"{path} holds {len(keys)} keys, not one", "keep one key per file")
    return keys[0]


def write_key_file(path: str, key: TsigKey, mode: int = 0o600) -> None:
    """Write the key atomically where the path leads (files.write_text).

    The temp file is created 0600 and gets `mode` before the rename, so the secret is never
    readable by others, not even for a moment.
    """
    write_text(path, render_key(key), mode)
