"""A small DNS wire codec for exactly what the rfc2136 provider sends and reads.

Why not dnspython's message classes: building 10,000 UPDATE operations with dns.update costs
~1.5 s and parsing a 20,000-record AXFR with dns.query.xfr ~1.0 s, almost all of it creating
Name and Rdata objects that are thrown away again. fleetdns only needs canonical value texts
(rdata.canonical_text) and a few message shapes, so this module works on bytes directly:

- encoding (RFC 1035 §4, RFC 2136 §2): UPDATE messages (zone, prerequisite and update
  sections) with name compression, and plain queries (SOA, AXFR, per-name fallback reads);
- decoding: walks any response RR by RR (names with compression pointers, type, class, TTL,
  rdata); A/AAAA/CNAME/NS/PTR/DNAME/MX/SRV/TXT values are turned into canonical text here,
  every other type through dnspython (dns.rdata.from_wire + rdata.canonical_text);
- TSIG (RFC 8945): signing and verifying use dnspython's public dns.tsig.sign/validate; this
  module never computes a MAC itself. Every response must be signed when a key is in use; in a
  zone transfer up to 99 unsigned messages may sit between signed ones (RFC 8945 §5.3.1), the
  first and the last must be signed.

Value texts are the canonical texts of rdata.py: names absolute and lower-case, IPv6 in RFC 5952
form, TXT as dnspython prints it. Names are absolute lower-case texts with a trailing dot.
"""

from __future__ import annotations

import socket
import struct
import time
import traceback
from dataclasses import dataclass, field

try:
    import dns.exception
    import dns.name
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
    import dns.rdtypes.ANY.TSIG
    import dns.tsig

    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()

from .errors import shorten
from .rdata import canonical_text, ipv6_text, rdata_from_canonical

# Classes (RFC 1035 §3.2.4, RFC 2136 §1.3)
CLASS_IN = 1
CLASS_NONE = 254
CLASS_ANY = 255

# Types this module handles itself
TYPE_A = 1
TYPE_NS = 2
TYPE_CNAME = 5
TYPE_SOA = 6
TYPE_PTR = 12
TYPE_MX = 15
TYPE_TXT = 16
TYPE_AAAA = 28
TYPE_SRV = 33
TYPE_DNAME = 39
TYPE_OPT = 41
TYPE_SPF = 99
TYPE_TSIG = 250
TYPE_AXFR = 252
TYPE_ANY = 255

OPCODE_QUERY = 0
OPCODE_UPDATE = 5

MAX_MESSAGE = 65535  # a DNS message over TCP carries a 16-bit length
MAX_RDATA = 65535  # a record's rdata carries a 16-bit length
MAX_TTL = 2**32 - 1  # a 32-bit field on the wire
TSIG_FUDGE = 300  # seconds of clock skew a signature tolerates (the usual value, as BIND uses)
MAX_UNSIGNED_RUN = 99  # RFC 8945 §5.3.1

_HEADER = struct.Struct(">HHHHHH")
_RR_FIXED = struct.Struct(">HHIH")  # type, class, ttl, rdlength
_U16 = struct.Struct(">H")
_SRV_FIXED = struct.Struct(">HHH")
_SOA_NUMBERS = struct.Struct(">IIIII")
_POINTER_LIMIT = 0x4000  # a compression pointer holds a 14-bit offset

# Label bytes that dnspython prints as they are (after lower-casing); anything else goes the slow way.
_PLAIN_LABEL_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789-_*"
_PLAIN_NAME_BYTES = _PLAIN_LABEL_BYTES + b"."
# Types whose rdata holds no domain name: the rdata bytes alone fix the canonical text, so it is cached.
_NAME_FREE_TYPES = frozenset({13, 29, 43, 44, 48, 50, 51, 52, 53, 59, 60, 61, 256, 257})
_TXT_PLAIN = bytes(c for c in range(0x20, 0x7F) if c not in b'"\\')


class WireError(Exception):
    """A malformed or unexpected DNS message."""


class TsigError(WireError):
    """A TSIG problem. `code` is one of: badsig, badkey, badtime, badalg, unsigned (our check of the
    response failed) or peer-badsig, peer-badkey, peer-badtime, peer-other (the server rejected ours)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- types and rdata


_TYPE_CODES: dict[str, int] = {}
_TYPE_NAMES: dict[int, str] = {}


def type_code(rtype: str) -> int:
    """Numeric type of a mnemonic ('A' -> 1)."""
    code = _TYPE_CODES.get(rtype)
    if code is None:
        code = _TYPE_CODES[rtype] = int(dns.rdatatype.from_text(rtype))
    return code


def type_name(code: int) -> str:
    """Mnemonic of a numeric type (1 -> 'A'; unknown types print as TYPE<n>)."""
    name = _TYPE_NAMES.get(code)
    if name is None:
        name = _TYPE_NAMES[code] = dns.rdatatype.to_text(code)
    return name


_RDATA_CACHE: dict[tuple[str, str], bytes] = {}


def encode_rdata(rtype: str, text: str) -> bytes:
    """Uncompressed wire rdata of a canonical value text (see rdata.normalize_value).

    Raises WireError, saying why, for a text that is no valid value or does not fit a record."""
    try:
        if rtype == "A":
            return socket.inet_pton(socket.AF_INET, text)
        if rtype == "AAAA":
            return socket.inet_pton(socket.AF_INET6, text)
        key = (rtype, text)
        wire = _RDATA_CACHE.get(key)
        if wire is None:
            wire = rdata_from_canonical(rtype, text).to_wire()
            if len(wire) > MAX_RDATA:
                raise WireError(
                    f"{rtype} value {shorten(text)} is {len(wire):,} bytes on the wire, more than the "
                    f"{MAX_RDATA:,} one record can hold"
                )
            if len(_RDATA_CACHE) > 100_000:
                _RDATA_CACHE.clear()
            _RDATA_CACHE[key] = wire
        return wire
    except (OSError, ValueError, UnicodeError, dns.exception.DNSException) as exc:
        raise WireError(
            f"{rtype} value {shorten(text)} cannot be encoded ({shorten(str(exc) or type(exc).__name__)})"
        ) from None


# --------------------------------------------------------------------------- names


def _label_text(label: bytes) -> str:
    """Presentation text of one (already lower-cased) label, escaped as dnspython does."""
    if label and not label.translate(None, _PLAIN_LABEL_BYTES):
        return label.decode("ascii")
    return dns.name.Name([label, b""]).to_text()[:-1] if label else ""


def read_name(wire: bytes, pos: int, cache: dict[int, str]) -> tuple[str, int]:
    """Decode the (possibly compressed) name at `pos`: (lower-case absolute text, offset after it).

    `cache` maps offsets of names (and name suffixes) already decoded in this message to their
    text, so the many pointers of a zone transfer cost one dict lookup each. Each pointer must
    point before the previous one (as dnspython requires), which rules out loops.
    """
    size = len(wire)
    # Fast paths for what zone transfers are made of: a pointer, or one label and a pointer.
    length = wire[pos] if pos < size else 0
    if length >= 0xC0:
        target = ((length & 0x3F) << 8) | wire[pos + 1] if pos + 1 < size else pos
        cached = cache.get(target) if target < pos else None
        if cached is not None:
            return cached, pos + 2
    elif 0 < length < 64 and pos + length + 2 < size:
        after = pos + 1 + length
        if wire[after] >= 0xC0:
            target = ((wire[after] & 0x3F) << 8) | wire[after + 1]
            suffix = cache.get(target) if target < pos else None
            if suffix is not None and len(suffix) + length < 254:
                label = wire[pos + 1 : after].lower()
                if not label.translate(None, _PLAIN_LABEL_BYTES):
                    text = label.decode("ascii") + ("." + suffix if suffix != "." else ".")
                    cache[pos] = text
                    return text, after + 2
    return _read_name(wire, pos, cache)


def _read_name(wire: bytes, pos: int, cache: dict[int, str]) -> tuple[str, int]:
    """The general case of read_name: any number of labels and pointers."""
    start = limit = pos
    size = len(wire)
    parts: list[bytes] = []
    starts: list[int] = []
    end = 0
    wire_len = 1
    while True:
        if pos >= size:
            raise WireError("name runs past the end of the message")
        length = wire[pos]
        if length < 64:
            if length == 0:
                suffix = "."
                if not end:
                    end = pos + 1
                break
            starts.append(pos)
            parts.append(wire[pos + 1 : pos + 1 + length])
            pos += 1 + length
            wire_len += length + 1
            continue
        if length < 0xC0:
            raise WireError(f"bad label length {length}")
        if pos + 1 >= size:
            raise WireError("truncated compression pointer")
        target = ((length & 0x3F) << 8) | wire[pos + 1]
        if target >= limit:
            raise WireError("compression pointer does not point backwards")
        if not end:
            end = pos + 2
        cached = cache.get(target)
        if cached is not None:
            suffix = cached
            break
        limit = pos = target
    if suffix != "." and "\\" not in suffix:
        wire_len += len(suffix)
    if wire_len > 255:
        raise WireError("name longer than 255 bytes")
    if not parts:
        text = suffix
    else:
        tail = "" if suffix == "." else suffix
        raw = b".".join(parts).lower()
        if not raw.translate(None, _PLAIN_NAME_BYTES) and raw.count(b".") == len(parts) - 1:
            head = raw.decode("ascii")
            text = head + "." + tail
            offset = 0
            for index in range(1, len(parts)):  # the suffixes are names too: later pointers land there
                offset += len(parts[index - 1]) + 1
                cache[starts[index]] = text[offset:]
        else:
            labels = [_label_text(part.lower()) for part in parts]
            text = ".".join(labels) + "." + tail
            for index in range(1, len(labels)):
                cache[starts[index]] = ".".join(labels[index:]) + "." + tail
    cache[start] = text
    return text, end


def name_to_wire(text: str) -> bytes:
    """Uncompressed wire form of an absolute name text (WireError when it is not a valid name)."""
    if "\\" in text:
        try:
            return dns.name.from_text(text).to_wire()
        except dns.exception.DNSException as exc:
            raise WireError(f"bad name {shorten(repr(text))} ({exc})") from None
    if text == ".":
        return b"\x00"
    out = bytearray()
    for label in text.rstrip(".").split("."):
        if not label.isascii():
            raise WireError(f"name {shorten(repr(text))} is not ASCII (write it in IDNA form, xn--...)")
        data = label.encode("ascii")
        if not 0 < len(data) <= 63:
            raise WireError(f"bad label in name {shorten(repr(text))}")
        out.append(len(data))
        out += data
    out.append(0)
    if len(out) > 255:
        raise WireError(f"name {shorten(repr(text))} is longer than 255 bytes")
    return bytes(out)


# --------------------------------------------------------------------------- rdata decoding


def _txt_text(wire: bytes, pos: int, end: int) -> str:
    strings = []
    while pos < end:
        length = wire[pos]
        chunk = wire[pos + 1 : pos + 1 + length]
        if len(chunk) != length or pos + 1 + length > end:
            raise WireError("TXT string runs past its rdata")
        pos += 1 + length
        if chunk.translate(None, _TXT_PLAIN):
            strings.append('"' + _escape_txt(chunk) + '"')
        else:
            strings.append('"' + chunk.decode("ascii") + '"')
    return " ".join(strings)


def _escape_txt(chunk: bytes) -> str:
    """dnspython's escaping of a character-string: \\" and \\\\ and \\DDD for non-printable bytes."""
    out = []
    for byte in chunk:
        if byte in (0x22, 0x5C):
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return "".join(out)


_VALUE_CACHE: dict[tuple[int, bytes], str] = {}


def rdata_text(wire: bytes, pos: int, rdlen: int, rtype: int, cache: dict[int, str]) -> str:
    """Canonical text of the rdata at wire[pos:pos+rdlen] (class IN), names resolved via `cache`."""
    end = pos + rdlen
    if end > len(wire):
        raise WireError("rdata runs past the end of the message")
    if rtype == TYPE_A:
        if rdlen != 4:
            raise WireError("A rdata is not 4 bytes")
        return socket.inet_ntop(socket.AF_INET, wire[pos:end])
    if rtype == TYPE_AAAA:
        if rdlen != 16:
            raise WireError("AAAA rdata is not 16 bytes")
        return ipv6_text(wire[pos:end])
    if rtype in (TYPE_CNAME, TYPE_NS, TYPE_PTR, TYPE_DNAME):
        text, after = read_name(wire, pos, cache)
        if after != end:
            raise WireError(f"{type_name(rtype)} rdata length does not match its name")
        return text
    if rtype == TYPE_MX:
        text, after = read_name(wire, pos + 2, cache)
        if after != end:
            raise WireError("MX rdata length does not match")
        return f"{_U16.unpack_from(wire, pos)[0]} {text}"
    if rtype == TYPE_SRV:
        priority, weight, port = _SRV_FIXED.unpack_from(wire, pos)
        text, after = read_name(wire, pos + 6, cache)
        if after != end:
            raise WireError("SRV rdata length does not match")
        return f"{priority} {weight} {port} {text}"
    if rtype == TYPE_SOA:  # in the authority section of every negative answer
        mname, after = read_name(wire, pos, cache)
        rname, after = read_name(wire, after, cache)
        if after + 20 != end:
            raise WireError("SOA rdata length does not match")
        return f"{mname} {rname} " + " ".join(str(n) for n in _SOA_NUMBERS.unpack_from(wire, after))
    if rtype in (TYPE_TXT, TYPE_SPF):
        return _txt_text(wire, pos, end)
    if rtype in _NAME_FREE_TYPES:
        key = (rtype, wire[pos:end])
        text = _VALUE_CACHE.get(key)
        if text is None:
            if len(_VALUE_CACHE) > 100_000:
                _VALUE_CACHE.clear()
            text = _VALUE_CACHE[key] = _generic_text(wire, pos, rdlen, rtype)
        return text
    return _generic_text(wire, pos, rdlen, rtype)


def _generic_text(wire: bytes, pos: int, rdlen: int, rtype: int) -> str:
    try:
        rdata = dns.rdata.from_wire(dns.rdataclass.IN, rtype, wire, pos, rdlen)
        return canonical_text(rdata)
    except (dns.exception.DNSException, ValueError) as exc:
        raise WireError(f"bad {type_name(rtype)} rdata: {exc}") from None


# --------------------------------------------------------------------------- TSIG


_ALGORITHMS = {
    "hmac-md5": "HMAC-MD5.SIG-ALG.REG.INT.",
    "hmac-sha1": "hmac-sha1.",
    "hmac-sha224": "hmac-sha224.",
    "hmac-sha256": "hmac-sha256.",
    "hmac-sha384": "hmac-sha384.",
    "hmac-sha512": "hmac-sha512.",
}
TSIG_ALGORITHMS = tuple(_ALGORITHMS)


class TsigSigner:
    """A TSIG key: signs requests, and hands out verifiers for their responses.

    The secret lives only inside the dnspython Key object; nothing here prints it (dnspython's
    Key.__repr__ does, so never format the key object into a message).
    """

    def __init__(self, name: str, algorithm: str, secret: bytes, fudge: int = TSIG_FUDGE) -> None:
        algorithm_name = _ALGORITHMS.get(algorithm.lower())
        if algorithm_name is None:
            raise ValueError(f"unsupported TSIG algorithm {algorithm!r}; use one of {', '.join(TSIG_ALGORITHMS)}")
        absolute = name if name.endswith(".") else name + "."
        self.name = absolute.lower()
        self.algorithm = algorithm.lower()
        self._key = dns.tsig.Key(dns.name.from_text(self.name), secret, dns.name.from_text(algorithm_name))
        self._owner_wire = self._key.name.to_wire()
        self.fudge = fudge
        mac_size = dns.tsig.mac_sizes[self._key.algorithm]
        # owner + type/class/ttl/rdlength + algorithm + time(6) fudge(2) maclen(2) mac id(2) error(2) otherlen(2)
        self.overhead = len(self._owner_wire) + 10 + len(self._key.algorithm.to_wire()) + 16 + mac_size

    def __repr__(self) -> str:
        return f"TsigSigner({self.name!r}, {self.algorithm!r})"

    def sign(self, wire: bytes, now: int | None = None) -> tuple[bytes, bytes]:
        """Append a TSIG RR to an unsigned message; returns (signed wire, MAC) - the MAC verifies the reply."""
        (msg_id,) = _U16.unpack_from(wire, 0)
        template = dns.rdtypes.ANY.TSIG.TSIG(
            dns.rdataclass.ANY, dns.rdatatype.TSIG, self._key.algorithm, 0, self.fudge, b"", msg_id, 0, b""
        )
        signed_at = int(time.time()) if now is None else now
        tsig, _ctx = dns.tsig.sign(wire, self._key, template, signed_at)
        rdata = tsig.to_wire()
        (arcount,) = _U16.unpack_from(wire, 10)
        record = self._owner_wire + _RR_FIXED.pack(TYPE_TSIG, CLASS_ANY, 0, len(rdata)) + rdata
        return wire[:10] + _U16.pack(arcount + 1) + wire[12:] + record, tsig.mac

    def verifier(self, request_mac: bytes, multi: bool = False, sent_at: float | None = None) -> TsigVerifier:
        return TsigVerifier(self._key, request_mac, multi, sent_at)


class TsigVerifier:
    """Checks the TSIG of one response, or of every message of a zone transfer (`multi`).

    `sent_at` (epoch seconds) is when the request went out, for an answer that may have waited
    unread since: the server signed it at some moment between then and now, so the clock check
    takes the moment of that span nearest to the signing time instead of now."""

    def __init__(self, key: dns.tsig.Key, request_mac: bytes, multi: bool, sent_at: float | None = None) -> None:
        self._key = key
        self._key_text = key.name.to_text().lower()
        self._request_mac = request_mac
        self._multi = multi
        self._sent_at = sent_at
        self._ctx = None
        self._unsigned_run = 0
        self.signed_messages = 0

    def check(self, wire: bytes, tsig_start: int, owner: str, rdata_pos: int, rdlen: int) -> None:
        """Validate the TSIG RR that starts at `tsig_start` (the last record of the message)."""
        try:
            rdata = dns.rdata.from_wire(dns.rdataclass.ANY, dns.rdatatype.TSIG, wire, rdata_pos, rdlen)
            now = time.time()
            if self._sent_at is not None:
                now = min(max(float(rdata.time_signed), self._sent_at), now)
            self._ctx = dns.tsig.validate(
                wire,
                self._key,
                self._key.name if owner == self._key_text else dns.name.from_text(owner),
                rdata,
                int(now),
                self._request_mac,
                tsig_start,
                self._ctx,
                self._multi,
            )
        except dns.tsig.PeerBadSignature:
            raise TsigError("peer-badsig", "the server rejected our TSIG signature (BADSIG)") from None
        except dns.tsig.PeerBadKey:
            raise TsigError("peer-badkey", "the server does not know our TSIG key (BADKEY)") from None
        except dns.tsig.PeerBadTime:
            raise TsigError("peer-badtime", "the server rejected our TSIG time (BADTIME)") from None
        except dns.tsig.PeerError as exc:
            raise TsigError("peer-other", f"the server rejected our TSIG: {exc}") from None
        except dns.tsig.BadTime:
            raise TsigError("badtime", "the response's TSIG time is outside the allowed clock skew") from None
        except dns.tsig.BadKey:
            raise TsigError("badkey", "the response is signed with another key") from None
        except dns.tsig.BadAlgorithm:
            raise TsigError("badalg", "the response is signed with another TSIG algorithm") from None
        except dns.tsig.BadSignature:
            raise TsigError("badsig", "the response's TSIG signature does not verify") from None
        except (dns.exception.DNSException, ValueError) as exc:
            raise TsigError("badsig", f"the response's TSIG record is malformed ({type(exc).__name__})") from None
        self._unsigned_run = 0
        self.signed_messages += 1

    def unsigned(self, wire: bytes) -> None:
        """A message without TSIG: allowed only inside a zone transfer, after a signed one."""
        if not self._multi or self._ctx is None:
            raise TsigError("unsigned", "the response is not signed with TSIG")
        self._unsigned_run += 1
        if self._unsigned_run > MAX_UNSIGNED_RUN:
            raise TsigError("unsigned", f"more than {MAX_UNSIGNED_RUN} unsigned messages in a row")
        self._ctx.update(wire)

    @property
    def last_was_signed(self) -> bool:
        return self._unsigned_run == 0 and self.signed_messages > 0


# --------------------------------------------------------------------------- decoding messages


RR = tuple[str, int, int, int, str]  # (owner name, type, class, ttl, canonical value text; "" when empty)


@dataclass
class Reply:
    """A decoded response. `rcode` includes no EDNS extension (fleetdns sends no OPT)."""

    id: int
    flags: int
    question: list[tuple[str, int]] = field(default_factory=list)
    answer: list[RR] = field(default_factory=list)
    authority: list[RR] = field(default_factory=list)
    additional: list[RR] = field(default_factory=list)
    signed: bool = False

    @property
    def rcode(self) -> int:
        return self.flags & 0xF

    @property
    def opcode(self) -> int:
        return (self.flags >> 11) & 0xF

    @property
    def authoritative(self) -> bool:
        return bool(self.flags & 0x0400)

    @property
    def is_response(self) -> bool:
        return bool(self.flags & 0x8000)


def parse_reply(wire: bytes, verifier: TsigVerifier | None = None) -> Reply:
    """Decode a response and, with a verifier, check its TSIG.

    Without a TSIG record an error response (rcode != NOERROR) is returned with signed=False (a
    server may refuse an unsigned query, or not know the zone, without signing); a NOERROR reply
    without TSIG raises TsigError unless it is an unsigned message inside a zone transfer.
    """
    if len(wire) < 12:
        raise WireError("message shorter than its 12-byte header")
    msg_id, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(wire, 0)
    reply = Reply(msg_id, flags)
    cache: dict[int, str] = {}
    pos = 12
    try:
        for _question in range(qdcount):
            name, pos = read_name(wire, pos, cache)
            qtype, _qclass = struct.unpack_from(">HH", wire, pos)
            pos += 4
            reply.question.append((name, qtype))
        total = ancount + nscount + arcount
        sections = (reply.answer, reply.authority, reply.additional)
        bounds = (ancount, ancount + nscount)
        unpack_rr = _RR_FIXED.unpack_from
        for index in range(total):
            rr_start = pos
            name, pos = read_name(wire, pos, cache)
            rtype, rclass, ttl, rdlen = unpack_rr(wire, pos)
            pos += 10
            if pos + rdlen > len(wire):
                raise WireError("rdata runs past the end of the message")
            if rtype == TYPE_TSIG:
                if index != total - 1:
                    raise WireError("TSIG is not the last record of the message")
                if verifier is not None:
                    verifier.check(wire, rr_start, name, pos, rdlen)
                    reply.signed = True
                pos += rdlen
                continue
            if rtype == TYPE_OPT:
                pos += rdlen
                continue
            if rdlen == 0:
                value = ""
            elif rclass in (CLASS_IN, CLASS_NONE):
                value = rdata_text(wire, pos, rdlen, rtype, cache)
            else:
                value = wire[pos : pos + rdlen].hex()
            section = 0 if index < bounds[0] else (1 if index < bounds[1] else 2)
            sections[section].append((name, rtype, rclass, ttl, value))
            pos += rdlen
    except struct.error:
        raise WireError("message is truncated") from None
    if verifier is not None and not reply.signed:
        if reply.rcode != 0 and not (verifier._multi and verifier.signed_messages):
            return reply
        verifier.unsigned(wire)
    return reply


# --------------------------------------------------------------------------- encoding messages


def make_query(msg_id: int, name: str, rtype: int, signer: TsigSigner | None = None) -> tuple[bytes, bytes]:
    """A query (RD clear) for `name` `rtype`, signed when a signer is given: (wire, request MAC)."""
    wire = _HEADER.pack(msg_id, 0, 1, 0, 0, 0) + name_to_wire(name) + struct.pack(">HH", rtype, CLASS_IN)
    if signer is None:
        return wire, b""
    return signer.sign(wire)


class UpdateMessage:
    """One RFC 2136 UPDATE under construction, compressed as it grows.

    Prerequisite and update records go to two buffers; names in the prerequisite section become
    compression targets (their offsets are final once written), names in the update section point
    at them. Every name fleetdns updates is pinned by a prerequisite on the same name, so nearly
    every update owner compresses to two bytes. `mark()`/`rollback()` undo a group of records that
    turned out not to fit, so callers can pack groups into as few messages as the size limit allows.
    """

    def __init__(self, zone: str, msg_id: int = 0) -> None:
        self.zone = zone
        self.msg_id = msg_id
        zone_wire = name_to_wire(zone)
        self._head_len = 12 + len(zone_wire) + 4
        self._zone_section = zone_wire + struct.pack(">HH", TYPE_SOA, CLASS_IN)
        self._prereq = bytearray()
        self._update = bytearray()
        self.prereq_count = 0
        self.update_count = 0
        self._table: dict[str, int] = {}
        self._added: list[str] = []
        # Every suffix of the zone name in the zone section is a compression target.
        offset, suffix = 12, zone
        while suffix and suffix != ".":
            self._table[suffix] = offset
            label, _dot, suffix = suffix.partition(".")
            offset += 1 + len(label.encode("ascii"))

    @property
    def size(self) -> int:
        """Bytes of the message without TSIG."""
        return self._head_len + len(self._prereq) + len(self._update)

    @property
    def empty(self) -> bool:
        return not (self.prereq_count or self.update_count)

    def mark(self) -> tuple[int, int, int, int, int]:
        return (len(self._prereq), len(self._update), self.prereq_count, self.update_count, len(self._added))

    def rollback(self, mark: tuple[int, int, int, int, int]) -> None:
        prereq_len, update_len, self.prereq_count, self.update_count, added = mark
        del self._prereq[prereq_len:]
        del self._update[update_len:]
        for suffix in self._added[added:]:
            del self._table[suffix]
        del self._added[added:]

    def _name(self, buf: bytearray, text: str, base: int) -> None:
        """Append `text` compressed; record new targets when `base` (buf's offset) is known."""
        if "\\" in text or text == ".":
            buf += name_to_wire(text)
            return
        table = self._table
        suffix = text
        while suffix:
            pointer = table.get(suffix)
            if pointer is not None:
                buf += _U16.pack(0xC000 | pointer)
                return
            if base >= 0:
                here = base + len(buf)
                if here < _POINTER_LIMIT:
                    table[suffix] = here
                    self._added.append(suffix)
            label, _dot, suffix = suffix.partition(".")
            data = label.encode("ascii")
            if not 0 < len(data) <= 63:
                raise WireError(f"bad label in name {shorten(repr(text))}")
            buf.append(len(data))
            buf += data
        buf.append(0)

    def _prereq_rr(self, name: str, rtype: int, rclass: int, rdata: bytes = b"") -> None:
        self._name(self._prereq, name, self._head_len)
        self._prereq += _RR_FIXED.pack(rtype, rclass, 0, len(rdata))
        self._prereq += rdata
        self.prereq_count += 1

    def _update_rr(self, name: str, rtype: int, rclass: int, ttl: int, rdata: bytes = b"") -> None:
        if not 0 <= ttl <= MAX_TTL:
            raise WireError(f"TTL {ttl} is outside 0..{MAX_TTL}")
        self._name(self._update, name, -1)
        self._update += _RR_FIXED.pack(rtype, rclass, ttl, len(rdata))
        self._update += rdata
        self.update_count += 1

    # Prerequisites (RFC 2136 §2.4)
    def require_rrset_values(self, name: str, rtype: int, rdatas: list[bytes]) -> None:
        """The RRset exists with exactly these values (value-dependent; TTL is not compared)."""
        for rdata in rdatas:
            self._prereq_rr(name, rtype, CLASS_IN, rdata)

    def require_rrset(self, name: str, rtype: int) -> None:
        """The RRset exists with any values."""
        self._prereq_rr(name, rtype, CLASS_ANY)

    def require_no_rrset(self, name: str, rtype: int) -> None:
        """The RRset does not exist."""
        self._prereq_rr(name, rtype, CLASS_NONE)

    def require_name(self, name: str) -> None:
        """The name owns at least one RR."""
        self._prereq_rr(name, TYPE_ANY, CLASS_ANY)

    def require_no_name(self, name: str) -> None:
        """The name owns no RR."""
        self._prereq_rr(name, TYPE_ANY, CLASS_NONE)

    # Updates (RFC 2136 §2.5)
    def add(self, name: str, rtype: int, ttl: int, rdata: bytes) -> None:
        self._update_rr(name, rtype, CLASS_IN, ttl, rdata)

    def delete_rrset(self, name: str, rtype: int) -> None:
        self._update_rr(name, rtype, CLASS_ANY, 0)

    def delete_name(self, name: str) -> None:
        self._update_rr(name, TYPE_ANY, CLASS_ANY, 0)

    def delete_rr(self, name: str, rtype: int, rdata: bytes) -> None:
        self._update_rr(name, rtype, CLASS_NONE, 0, rdata)

    def to_wire(self) -> bytes:
        """The unsigned message (sign it with TsigSigner.sign)."""
        header = _HEADER.pack(self.msg_id, OPCODE_UPDATE << 11, 1, self.prereq_count, self.update_count, 0)
        return header + self._zone_section + bytes(self._prereq) + bytes(self._update)
