"""DNSPod's record formats <-> fleetdns canonical values, and ownership in the record's Remark.

DNSPod keeps one record per value, named by its host label relative to the domain (`@` for the
apex, `www`, `a.b`). `Value` is the address, the target host (CNAME, NS: written absolute, with the
final dot; read either way), the text of a TXT record, `priority weight port target` of an SRV and
`flags tag "value"` of a CAA. An MX keeps its exchange in `Value` and its preference in the separate
`MX` field. TXT text that cannot round-trip as plain text (several strings, a leading quote) is
written in zone-file syntax, which reads back the same.

Ownership: a record carries `fleetdns-owner=<owner id>` as a word of its Remark, as on Cloudflare's
comment; fleetdns adds or removes only that word.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..rdata import InvalidValueError, normalize_value, rdata_from_canonical
from .cloudflare_records import comment_owner
from .record_per_value import ApiRecord

WRITABLE_TYPES = ("A", "AAAA", "CAA", "CNAME", "MX", "NS", "SRV", "TXT")
DEFAULT_LINE = "默认"


@dataclass
class DnspodRecord(ApiRecord):
    """One DNSPod record: canonical value plus what fleetdns must keep as it is (line, remark,
    weight, status); its owner comes from the remark."""

    line: str = DEFAULT_LINE
    remark: str | None = None
    weight: int | None = None
    status: str = "ENABLE"

    def __post_init__(self) -> None:
        self.owner = comment_owner(self.remark)


def absolute_name(host: str, zone: str) -> str:
    """`www` -> `www.example.com.`, `@` (or empty) -> the zone itself."""
    host = host.strip().rstrip(".").lower()
    return zone if host in ("", "@") else f"{host}.{zone}"


def sub_domain(name: str, zone: str) -> str:
    """The host label DNSPod names a record by: `@` for the apex."""
    if name == zone:
        return "@"
    return name[: -len(zone) - 1]


def _absolute(host: str) -> str:
    host = host.strip()
    return host if host.endswith(".") else host + "."


def canonical_value(item: dict, zone: str) -> str:
    """Canonical text of a listed record's value; InvalidValueError (or KeyError/ValueError) when it
    cannot be understood."""
    rtype = str(item.get("Type", ""))
    value = item.get("Value")
    if not isinstance(value, str):
        raise InvalidValueError(f"{rtype} record without a value")
    if rtype in ("CNAME", "NS", "PTR"):
        return normalize_value(rtype, _absolute(value), zone)
    if rtype == "MX":
        return normalize_value("MX", f"{int(item.get('MX') or 0)} {_absolute(value)}", zone)
    if rtype == "SRV":
        parts = value.split()
        if len(parts) == 4:
            parts[3] = _absolute(parts[3])
        return normalize_value("SRV", " ".join(parts), zone)
    return normalize_value(rtype, value, zone)


def api_fields(rtype: str, value: str) -> dict:
    """`Value` (and `MX`) that write canonical `value` of type `rtype`."""
    if rtype in ("A", "AAAA"):
        return {"Value": value}
    rdata = rdata_from_canonical(rtype, value)
    if rtype in ("CNAME", "NS"):
        return {"Value": rdata.target.to_text()}
    if rtype == "MX":
        return {"Value": rdata.exchange.to_text(), "MX": rdata.preference}
    if rtype == "SRV":
        return {"Value": f"{rdata.priority} {rdata.weight} {rdata.port} {rdata.target.to_text()}"}
    if rtype == "CAA":
        return {"Value": value}
    if rtype == "TXT":
        return {"Value": _txt_value(rdata.strings, value)}
    raise InvalidValueError(f"the dnspod provider cannot write {rtype} records (it writes {', '.join(WRITABLE_TYPES)})")


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
