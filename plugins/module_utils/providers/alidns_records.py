"""Alibaba Cloud DNS record formats <-> fleetdns canonical values, and ownership in record remarks.

The API keeps one record per value. A record's name is `RR`, relative to the zone (`@` for the apex,
`*` for a wildcard); hostnames in `Value` (CNAME, NS, MX) carry no final dot. MX keeps its
preference in `Priority`; SRV writes all four fields in `Value` (`priority weight port target`);
CAA writes `flags tag "value"`; TXT `Value` is the text itself, and text that cannot round-trip
that way (several strings, a leading quote) is sent in zone-file syntax.

Ownership: a record carries `fleetdns-owner=<owner id>` as a word of its remark (the same word a
Cloudflare comment carries); fleetdns changes only that word and keeps the rest of the remark.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..names import relative_name
from ..rdata import InvalidValueError, normalize_value, rdata_from_canonical
from .cloudflare_records import comment_owner, with_owner
from .record_per_value import ApiRecord

# Types this provider writes (PTR and the URL-forwarding pseudo types are not public-zone records here).
WRITABLE_TYPES = ("A", "AAAA", "CAA", "CNAME", "MX", "NS", "SRV", "TXT")
DEFAULT_LINE = "default"

__all__ = ["WRITABLE_TYPES", "AliRecord", "api_fields", "canonical_value", "rr_of", "with_owner"]


@dataclass
class AliRecord(ApiRecord):
    """One Alibaba Cloud DNS record: canonical value plus what fleetdns keeps as it found it (line,
    remark); its owner comes from the remark."""

    rr: str = "@"
    line: str = DEFAULT_LINE
    remark: str | None = None

    def __post_init__(self) -> None:
        self.owner = comment_owner(self.remark)


def rr_of(name: str, zone: str) -> str:
    """The API's RR of an absolute name in `zone`: `@` for the apex."""
    return relative_name(name, zone)


def name_of(rr: str, zone: str) -> str:
    """The absolute, lower-case name of an RR."""
    rr = rr.strip().rstrip(".").lower()
    return zone if rr in ("", "@") else f"{rr}.{zone}"


def _absolute(host: str) -> str:
    host = host.strip()
    return host if host.endswith(".") else host + "."


def canonical_value(record: dict, zone: str) -> str:
    """Canonical text of an API record's value; InvalidValueError (or KeyError/ValueError) when it
    cannot be understood."""
    rtype = str(record.get("Type", ""))
    value = record.get("Value")
    if not isinstance(value, str):
        raise InvalidValueError(f"{rtype} record without Value")
    if rtype in ("CNAME", "NS"):
        return normalize_value(rtype, _absolute(value), zone)
    if rtype == "MX":
        return normalize_value("MX", f"{int(record.get('Priority', 0))} {_absolute(value)}", zone)
    if rtype == "SRV":
        parts = value.split()
        if len(parts) != 4:
            raise InvalidValueError(f"SRV Value {value!r} is not 'priority weight port target'")
        return normalize_value("SRV", " ".join([*parts[:3], _absolute(parts[3])]), zone)
    return normalize_value(rtype, value, zone)


def api_fields(rtype: str, value: str) -> dict:
    """The `Value` (and `Priority`) parameters that write canonical `value` of type `rtype`."""
    if rtype in ("A", "AAAA"):
        return {"Value": value}
    if rtype not in WRITABLE_TYPES:
        raise InvalidValueError(
            f"the alidns provider cannot write {rtype} records (it writes {', '.join(WRITABLE_TYPES)})"
        )
    rdata = rdata_from_canonical(rtype, value)
    if rtype in ("CNAME", "NS"):
        return {"Value": _host(rdata.target)}
    if rtype == "MX":
        return {"Value": _host(rdata.exchange), "Priority": str(rdata.preference)}
    if rtype == "SRV":
        return {"Value": f"{rdata.priority} {rdata.weight} {rdata.port} {_host(rdata.target)}"}
    if rtype == "CAA":
        return {"Value": value}
    return {"Value": _txt_value(rdata.strings, value)}


def _host(name: object) -> str:
    text = name.to_text()  # type: ignore[attr-defined]
    return text if text == "." else text.rstrip(".")


def _txt_value(strings: tuple[bytes, ...], canonical: str) -> str:
    """The literal text when it reads back identically, else the zone-file form."""
    if len(strings) == 1:
        try:
            text = strings[0].decode("utf-8")
        except UnicodeDecodeError:
            return canonical
        if text and not text.startswith('"') and text == text.strip():
            return text
    return canonical
