"""Per-type value normalisation: every value becomes its one canonical presentation text.

Two values are equal exactly when their canonical texts are equal, which is what makes a second
run change nothing. Canonical means: what dnspython prints for the rdata after the names inside it
are made absolute and lower-case (RFC 4034 §6.2), IPv6 compressed, TXT quoted and split at 255 bytes.
"""

from __future__ import annotations

import socket
import traceback

try:
    import dns.exception
    import dns.ipv6
    import dns.name
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
    import dns.rdtypes.ANY.TXT
    import dns.tokenizer

    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()

from .errors import SHORT_VALUE_LIMIT, shorten

# Types a user may declare. SOA belongs to the server; DNSSEC types belong to the signer.
MANAGED_TYPES = (
    "A", "AAAA", "CAA", "CNAME", "DNAME", "DS", "HTTPS", "LOC", "MX", "NAPTR", "NS", "PTR",
    "SRV", "SSHFP", "SVCB", "TLSA", "TXT",
)  # fmt: skip
_MANAGED = frozenset(MANAGED_TYPES)
_TXT_CHUNK = 255

MIN_TTL = 0
MAX_TTL = 2147483647


class InvalidValueError(ValueError):
    """A value that is not valid for its record type; the message says why and how to write it."""


def is_managed_type(rtype: str) -> bool:
    return rtype in _MANAGED


def check_type(rtype: object) -> str:
    """Upper-cased type mnemonic, or InvalidValueError naming the supported types."""
    if not isinstance(rtype, str) or not rtype.strip():
        raise InvalidValueError(f"record type {rtype!r} is not a string")
    upper = rtype.strip().upper()
    if upper == "SOA":
        raise InvalidValueError("SOA is managed by the server (serial, timers); it cannot be declared")
    if upper not in _MANAGED:
        raise InvalidValueError(f"record type {rtype!r} is not supported; use one of {', '.join(MANAGED_TYPES)}")
    return upper


def check_ttl(ttl: object) -> int:
    """TTL as int within RFC 2181 bounds; digit strings are accepted (templated values are strings)."""
    if isinstance(ttl, bool):
        raise InvalidValueError(f"TTL {ttl!r} is a boolean; write a number of seconds")
    if isinstance(ttl, str) and ttl.strip().isdigit():
        ttl = int(ttl.strip())
    if not isinstance(ttl, int):
        raise InvalidValueError(f"TTL {ttl!r} is not a whole number of seconds")
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise InvalidValueError(f"TTL {ttl} is outside 0..{MAX_TTL} seconds")
    return ttl


def normalize_value(rtype: str, value: object, origin: str) -> str:
    """Canonical text of one value of type `rtype`; relative names inside resolve against `origin`."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidValueError(f"{rtype} value {_shown(value)} is not a string")
    if isinstance(value, int):
        raise InvalidValueError(
            f"{rtype} value {shorten(value)} is a number; quote it if you mean the text {shorten(repr(str(value)))}"
        )
    if rtype == "A":
        return _normalize_ipv4(value)
    if rtype == "AAAA":
        return _normalize_ipv6(value)
    if rtype == "TXT":
        return _normalize_txt(value)
    return _normalize_generic(rtype, value, origin)


def normalize_values(rtype: str, values: object, origin: str) -> frozenset[str]:
    """Canonical set of values; a scalar is a one-element list. Duplicates collapse."""
    items = values if isinstance(values, list) else [values]
    if not items:
        raise InvalidValueError("no values given; use state absent to remove a record set")
    result = frozenset(normalize_value(rtype, item, origin) for item in items)
    if rtype in ("CNAME", "DNAME") and len(result) > 1:
        raise InvalidValueError(f"a {rtype} record set holds exactly one value, got {len(result)}")
    return result


def _normalize_ipv4(value: str) -> str:
    text = value.strip()
    try:
        packed = socket.inet_pton(socket.AF_INET, text)
    except OSError:
        raise InvalidValueError(
            f"{_shown(value)} is not an IPv4 address (write four numbers 0-255, like 192.0.2.10)"
        ) from None
    canonical = socket.inet_ntop(socket.AF_INET, packed)
    if canonical != text:
        raise InvalidValueError(f"{_shown(value)} is not a plain dotted-quad IPv4 address; write {canonical}")
    return canonical


def _normalize_ipv6(value: str) -> str:
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        packed = socket.inet_pton(socket.AF_INET6, text)
    except OSError:
        raise InvalidValueError(f"{_shown(value)} is not an IPv6 address (like 2001:db8::10)") from None
    return ipv6_text(packed)


def ipv6_text(packed: bytes) -> str:
    """RFC 5952 text of a packed IPv6 address, as dnspython prints it."""
    return dns.ipv6.inet_ntoa(packed)


def _normalize_txt(value: str) -> str:
    """TXT content is taken literally; a value that starts with a double quote is zone-file syntax."""
    if value.startswith('"'):
        return _normalize_generic("TXT", value, ".")
    data = value.encode("utf-8")
    chunks = _split_utf8(data, _TXT_CHUNK) if data else [b""]
    rdata = dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks)
    return rdata.to_text()


def _split_utf8(data: bytes, size: int) -> list[bytes]:
    """Split into chunks of at most `size` bytes without cutting a UTF-8 sequence in two."""
    chunks = []
    start = 0
    while start < len(data):
        end = min(start + size, len(data))
        while end < len(data) and end > start and (data[end] & 0xC0) == 0x80:
            end -= 1
        chunks.append(data[start:end])
        start = end
    return chunks


def _normalize_generic(rtype: str, value: str, origin: str) -> str:
    """A value in zone-file syntax, parsed by dnspython for its type and then checked for what the
    parser lets through but a server or a zone file would not take (see _type_problem)."""
    text = value.strip()
    problem = _syntax_problem(text)
    if problem is None:
        try:
            rdata = dns.rdata.from_text(
                dns.rdataclass.IN, rtype, text, origin=dns.name.from_text(origin), relativize=False
            )
        except (dns.exception.DNSException, ValueError, UnicodeError) as exc:
            problem = _describe(exc)
        else:
            problem = _type_problem(rdata)
    if problem is not None:
        raise InvalidValueError(f"{_shown(value)} is not a valid {rtype} value: {problem}{_example(rtype)}")
    return canonical_text(rdata)


def _syntax_problem(text: str) -> str | None:
    """Zone-file syntax that would silently change a value: a line break ends a record in a zone
    file (what follows would be a record of its own), and ';' outside quotes starts a comment (what
    follows would be dropped). The parser itself reports everything else."""
    if "\n" in text or "\r" in text:
        return "it holds a line break; give one value per list item (value: [a, b])"
    tokens = dns.tokenizer.Tokenizer(text)
    try:
        while True:
            token = tokens.get(want_leading=False, want_comment=True)
            if token.is_eof():
                return None
            if token.is_comment():
                return (
                    "text after ';' is a zone-file comment and would be dropped; put the text in double "
                    "quotes or write \\; for a literal ';'"
                )
    except dns.exception.DNSException:
        return None  # (the parser says what is wrong)


def _type_problem(rdata: dns.rdata.Rdata) -> str | None:
    """What is wrong with a parsed value that its parser accepted, or None. (dnspython checks
    digest and fingerprint lengths of DS, SSHFP and TLSA itself.)"""
    if rdata.rdtype == dns.rdatatype.NAPTR:
        return _naptr_problem(rdata)
    return None


_NAPTR_FLAGS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def _naptr_problem(rdata: dns.rdata.Rdata) -> str | None:
    """RFC 3403 §4.1: flags are single letters or digits; the regexp is empty or
    <delim>ere<delim>replacement<delim>[i]; a regexp and a replacement exclude each other."""
    if not set(rdata.flags.decode("latin-1")) <= _NAPTR_FLAGS:
        return f'the flags {shorten(rdata.flags.decode("latin-1"))!r} must be letters or digits (like "U" or "S")'
    regexp = rdata.regexp.decode("utf-8", errors="replace")
    if not regexp:
        return None
    if rdata.replacement != dns.name.root:
        return "a NAPTR has a regexp or a replacement, not both; write '.' as the replacement"
    delim = regexp[0]
    if delim.isdigit() or delim == "\\" or delim == "i":
        return f"the regexp must start with its delimiter (like '!'), not {delim!r}"
    parts = _split_unescaped(regexp[1:], delim)
    if len(parts) != 3 or not parts[0] or parts[2] not in ("", "i"):
        return (
            f"the regexp {shorten(regexp)!r} is not a delimiter, a pattern, the delimiter, a replacement and the "
            "delimiter again, optionally followed by 'i' (like \"!^.*$!sip:info@example.com!\")"
        )
    return None


def _split_unescaped(text: str, delim: str) -> list[str]:
    """`text` split at every `delim` that no backslash escapes."""
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == delim:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def canonical_text(rdata: dns.rdata.Rdata) -> str:
    """Canonical presentation of a parsed rdata: embedded names absolute and lower-case."""
    if rdata.rdtype == dns.rdatatype.A:
        return rdata.address
    if rdata.rdtype == dns.rdatatype.AAAA:
        return rdata.address
    wire = rdata.to_digestable()
    lowered = dns.rdata.from_wire(rdata.rdclass, rdata.rdtype, wire, 0, len(wire))
    return lowered.to_text()


def rdata_from_canonical(rtype: str, text: str) -> dns.rdata.Rdata:
    """Parse a canonical text back to rdata (absolute names, so no origin is needed)."""
    return dns.rdata.from_text(dns.rdataclass.IN, rtype, text, origin=dns.name.root, relativize=False)


# What a valid value looks like, per type: shown in value errors here and in config's hints.
VALUE_EXAMPLES = {
    "A": "192.0.2.10",
    "AAAA": "2001:db8::10",
    "CAA": '0 issue "letsencrypt.org"',
    "CNAME": "target.example.com.",
    "MX": "10 mail.example.com.",
    "NS": "ns1.example.com.",
    "PTR": "host.example.com.",
    "SRV": "10 5 5060 sip.example.com.",
    "SSHFP": "4 2 <64 hex digits>",
    "TLSA": "3 1 1 <64 hex digits>",
    "TXT": "v=spf1 mx -all",
}


def _example(rtype: str) -> str:
    example = VALUE_EXAMPLES.get(rtype)
    return f"; expected something like {example!r}" if example else ""


def _shown(value: object) -> str:
    """A value as messages quote it: its repr (line breaks visible), or a shortened head of a long one."""
    text = repr(value)
    return text if len(text) <= SHORT_VALUE_LIMIT else shorten(value)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    if text == "string too long":
        return "a quoted string holds at most 255 bytes; split the text into several quoted strings"
    return shorten(text) if text else type(exc).__name__
