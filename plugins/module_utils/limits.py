"""DNS size limits, checked while the inventory is validated, so nothing is sent that cannot fit.

The wire format fixes them for every backend (RFC 1035 §2.3.4, §3.2.1, §4.2.2): a name holds at
most 255 octets and a label 63; a record's rdata carries a 16-bit length, so at most 65,535 bytes;
a DNS message over TCP carries a 16-bit length too, so a record set must fit 65,535 bytes together
with the header, the question or zone section and a signature. Providers with tighter limits
declare them in their Capabilities (`limits`, a ProviderLimits), and they are checked here as well, once,
for every front.

Values are the canonical texts of rdata.normalize_value, names the absolute texts of names.py.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

try:
    import dns.exception
    import dns.name

    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()

from .errors import shorten
from .ownership import marker_name
from .rdata import rdata_from_canonical
from .records import RecordSet

MAX_NAME = 255  # octets of a name on the wire, its length bytes and the root label included
MAX_LABEL = 63
MAX_RDATA = 65535
MAX_MESSAGE = 65535
# Bytes of a message that are not the record set: header, zone or question section, an UPDATE's
# delete of the old set and the ownership marker records, and a TSIG signature (a long key name
# and a SHA-512 MAC need about 200).
MESSAGE_RESERVE = 1024
_RR_FIXED = 10  # type, class, TTL and rdata length of one record
_POINTER = 2  # a compressed owner name


@dataclass(frozen=True)
class ProviderLimits:
    """Limits a provider sets below what DNS allows (None: no limit beyond DNS's own).

    `record_wire`: bytes of one record in wire format (owner name, type, class, TTL, length, rdata);
    `rrset_content`: characters of all values of one record set together (their presentation text).
    """

    record_wire: int | None = None
    rrset_content: int | None = None


NO_LIMITS = ProviderLimits()


def name_wire_length(name: str) -> int:
    """Octets of an absolute name on the wire; MAX_NAME + 1 when dnspython cannot make it a name."""
    if "\\" not in name and name.isascii():
        return len(name) + 1 if name != "." else 1  # each label's length byte stands where its dot was
    try:
        return len(dns.name.from_text(name).to_wire())
    except (dns.exception.DNSException, UnicodeError):
        return MAX_NAME + 1


def name_problem(name: str, what: str = "the name") -> str | None:
    """Why `name` (absolute) cannot be a DNS name, or None."""
    if len(name) <= MAX_LABEL and name.isascii() and "\\" not in name:
        return None  # too short to break either limit (most names)
    length = name_wire_length(name)
    if length > MAX_NAME:
        return (
            f"{what} {shorten(name)} is {length} octets on the wire, more than the {MAX_NAME} a DNS name "
            f"can hold; shorten it by {length - MAX_NAME} characters"
        )
    long_label = next((label for label in name.split(".") if len(label) > MAX_LABEL), None)
    if long_label is not None:
        return f"{what} {shorten(name)} has a label of {len(long_label)} characters, more than the {MAX_LABEL} allowed"
    return None


def marker_problem(name: str, rtype: str, zone: str) -> str | None:
    """Why the ownership marker of (name, type) could not be written, or None: the marker's name is
    longer than the record's (ownership.marker_name), so a name near the limit leaves no room."""
    marker = marker_name((name, rtype), zone)
    length = name_wire_length(marker)
    if length <= MAX_NAME:
        return None
    return (
        f"its ownership marker {shorten(marker, 40)} would be {length} octets, more than the {MAX_NAME} a DNS "
        f"name can hold; shorten the name by {length - MAX_NAME} characters"
    )


def record_set_problems(rrset: RecordSet, zone: str, limits: ProviderLimits, provider: str = "") -> list[str]:
    """What in `rrset` cannot be sent or stored: one message per limit, each saying the sizes.

    `provider` names the backend in messages about its own limits."""
    problems = []
    name_issue = name_problem(rrset.name)
    if name_issue:
        return [name_issue]
    if rrset.type in _FIXED_RDATA and len(rrset.values) <= _FEW:
        return []  # a few addresses fit every limit once the name does (most of a fleet's records)
    owner_wire = name_wire_length(rrset.name)
    sizes = {value: _rdata_length(rrset.type, value) for value in rrset.values}
    for value, size in sorted(sizes.items()):
        if size > MAX_RDATA:
            problems.append(
                f"the value {shorten(value)} is {size:,} bytes on the wire, more than the {MAX_RDATA:,} one "
                "record can hold; split it over several records"
            )
        elif limits.record_wire is not None and owner_wire + _RR_FIXED + size > limits.record_wire:
            problems.append(
                f"the value {shorten(value)} makes a record of {owner_wire + _RR_FIXED + size:,} bytes on the wire; "
                f"{provider or 'this provider'} takes at most {limits.record_wire:,}"
            )
    if problems:
        return problems
    message = owner_wire + sum(_POINTER + _RR_FIXED + size for size in sizes.values())
    if message + MESSAGE_RESERVE > MAX_MESSAGE:
        problems.append(
            f"the record set takes {message:,} bytes on the wire; with a message's header and signature "
            f"({MESSAGE_RESERVE:,} bytes kept for them) a record set must fit one DNS message of {MAX_MESSAGE:,} "
            "bytes; use fewer or shorter values"
        )
    content = sum(len(value) for value in rrset.values)
    if limits.rrset_content is not None and content > limits.rrset_content:
        problems.append(
            f"the values hold {content:,} characters together; {provider or 'this provider'} takes at most "
            f"{limits.rrset_content:,} per record set"
        )
    return problems


# Address records have fixed-size rdata; up to _FEW of them take at most 100 * 39 characters and
# 100 * 28 bytes: within one message and every provider's declared limits.
_FIXED_RDATA = {"A": 4, "AAAA": 16}
_FEW = 100


def _rdata_length(rtype: str, value: str) -> int:
    fixed = _FIXED_RDATA.get(rtype)
    return fixed if fixed is not None else len(rdata_from_canonical(rtype, value).to_wire())
