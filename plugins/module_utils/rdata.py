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

    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()

# Types a user may declare. SOA belongs to the server; DNSSEC types belong to the signer.
MANAGED_TYPES = (
    "A", "AAAA", "CAA", "CNAME", "DNAME", "DS", "HTTPS", "LOC", "MX", "NAPTR", "NS", "PTR",
    "SRV", "SSHFP", "SVCB", "TLSA", "TXT",
)  # fmt: skip
_MANAGED = frozenset(MANAGED_TYPES)
_TXT_CHUNK = 255

MIN_TTL = 0
MAX_TTL = 2147483647


class ValueError_(ValueError):
    """A value that is not valid for its record type; the message says why and how to write it."""


def is_managed_type(rtype: str) -> bool:
    return rtype in _MANAGED


def check_type(rtype: object) -> str:
    """Upper-cased type mnemonic, or ValueError_ naming the supported types."""
    if not isinstance(rtype, str) or not rtype.strip():
        raise ValueError_(f"record type {rtype!r} is not a string")
    upper = rtype.strip().upper()
    if upper == "SOA":
        raise ValueError_("SOA is managed by the server (serial, timers); it cannot be declared")
    if upper not in _MANAGED:
        raise ValueError_(f"record type {rtype!r} is not supported; use one of {', '.join(MANAGED_TYPES)}")
    return upper


def check_ttl(ttl: object) -> int:
    """TTL as int within RFC 2181 bounds; digit strings are accepted (templated values are strings)."""
    if isinstance(ttl, bool):
        raise ValueError_(f"TTL {ttl!r} is a boolean; write a number of seconds")
    if isinstance(ttl, str) and ttl.strip().isdigit():
        ttl = int(ttl.strip())
    if not isinstance(ttl, int):
        raise ValueError_(f"TTL {ttl!r} is not a whole number of seconds")
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise ValueError_(f"TTL {ttl} is outside 0..{MAX_TTL} seconds")
    return ttl


def normalize_value(rtype: str, value: object, origin: str) -> str:
    """Canonical text of one value of type `rtype`; relative names inside resolve against `origin`."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError_(f"{rtype} value {value!r} is not a string")
    if isinstance(value, int):
        raise ValueError_(f"{rtype} value {value!r} is a number; quote it if you mean the text {str(value)!r}")
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
        raise ValueError_("no values given; use state absent to remove a record set")
    result = frozenset(normalize_value(rtype, item, origin) for item in items)
    if rtype in ("CNAME", "DNAME") and len(result) > 1:
        raise ValueError_(f"a {rtype} record set holds exactly one value, got {len(result)}")
    return result


def _normalize_ipv4(value: str) -> str:
    text = value.strip()
    try:
        packed = socket.inet_pton(socket.AF_INET, text)
    except OSError:
        raise ValueError_(f"{value!r} is not an IPv4 address (write four numbers 0-255, like 192.0.2.10)") from None
    canonical = socket.inet_ntop(socket.AF_INET, packed)
    if canonical != text:
        raise ValueError_(f"{value!r} is not a plain dotted-quad IPv4 address; write {canonical}")
    return canonical


def _normalize_ipv6(value: str) -> str:
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        packed = socket.inet_pton(socket.AF_INET6, text)
    except OSError:
        raise ValueError_(f"{value!r} is not an IPv6 address (like 2001:db8::10)") from None
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
    try:
        rdata = dns.rdata.from_text(
            dns.rdataclass.IN, rtype, value.strip(), origin=dns.name.from_text(origin), relativize=False
        )
    except (dns.exception.DNSException, ValueError, UnicodeError) as exc:
        raise ValueError_(f"{value!r} is not a valid {rtype} value: {_describe(exc)}{_example(rtype)}") from None
    return canonical_text(rdata)


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


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__
