"""Cloudflare's record formats <-> fleetdns canonical values, and ownership in record comments.

Cloudflare keeps one API record per value. Names are FQDNs without the final dot; hostnames in
`content` (CNAME, NS, PTR, MX) too. MX carries its preference in `priority`; SRV and CAA are written as
`data` objects ({priority, weight, port, target} / {flags, tag, value}). TXT `content` is the text
itself; text that cannot round-trip that way (several strings, a leading quote) is sent in zone-file
syntax, which Cloudflare also accepts and which `rdata.normalize_value` reads back the same.

Ownership: a record carries `fleetdns-owner=<owner id>` as a word of its comment. fleetdns adds or removes
only that word and keeps the rest of the comment as the user wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..rdata import InvalidValueError, normalize_value, rdata_from_canonical
from .record_per_value import ApiRecord

# Types this provider reads and writes; other types in a zone are read where possible and left alone.
WRITABLE_TYPES = ("A", "AAAA", "CAA", "CNAME", "MX", "NS", "PTR", "SRV", "TXT")
OWNER_WORD = "fleetdns-owner="
_OWNER_RE = re.compile(r"(?:(?<=\s)|^)fleetdns-owner=([A-Za-z0-9][A-Za-z0-9._-]{0,62})(?=\s|$)")


@dataclass
class CfRecord(ApiRecord):
    """One Cloudflare record as fleetdns sees it: canonical value plus what it must preserve; its
    owner comes from the comment, parsed once."""

    proxied: bool = False
    comment: str | None = None
    tags: list[str] = field(default_factory=list)
    modified: str | None = field(default=None, compare=False)  # the API's modified_on

    def __post_init__(self) -> None:
        self.owner = comment_owner(self.comment)


def comment_owner(comment: str | None) -> str | None:
    """The owner id in a comment, or None."""
    match = _OWNER_RE.search(comment or "")
    return match.group(1) if match else None


def with_owner(comment: str | None, owner: str | None) -> str | None:
    """The comment with fleetdns's word set to `owner` (None removes it); the user's text is kept."""
    text = _OWNER_RE.sub("", comment or "")
    text = re.sub(r"\s{2,}", " ", text).strip()
    if owner:
        text = f"{text} {OWNER_WORD}{owner}".strip()
    return text or None


def api_name(name: str) -> str:
    return name[:-1] if name.endswith(".") and name != "." else name


def _absolute(host: str) -> str:
    host = host.strip()
    return host if host.endswith(".") else host + "."


def _caa_text(data: dict) -> str:
    value = str(data.get("value", "")).replace("\\", "\\\\").replace('"', '\\"')
    return f'{int(data.get("flags", 0))} {data.get("tag", "")} "{value}"'


def canonical_value(record: dict, zone: str) -> str:
    """Canonical text of an API record's value; InvalidValueError when it cannot be understood."""
    rtype = record.get("type")
    content = record.get("content")
    data = record.get("data") if isinstance(record.get("data"), dict) else None
    if rtype in ("CNAME", "NS", "PTR"):
        return normalize_value(rtype, _absolute(str(content)), zone)
    if rtype == "MX":
        return normalize_value("MX", f"{int(record.get('priority', 0))} {_absolute(str(content))}", zone)
    if rtype == "SRV" and data:
        text = f"{data['priority']} {data['weight']} {data['port']} {_absolute(str(data['target']))}"
        return normalize_value("SRV", text, zone)
    if rtype == "SRV" and isinstance(content, str) and len(content.split()) == 3:  # "weight port target"
        weight, port, target = content.split()
        return normalize_value("SRV", f"{int(record.get('priority', 0))} {weight} {port} {_absolute(target)}", zone)
    if rtype == "CAA" and data:
        return normalize_value("CAA", _caa_text(data), zone)
    if not isinstance(content, str):
        raise InvalidValueError(f"{rtype} record without content")
    return normalize_value(str(rtype), content, zone)


def api_fields(rtype: str, value: str) -> dict:
    """The `content` / `priority` / `data` fields that write canonical `value` of type `rtype`."""
    if rtype in ("A", "AAAA"):
        return {"content": value}
    rdata = rdata_from_canonical(rtype, value)
    if rtype in ("CNAME", "NS", "PTR"):
        return {"content": _host(rdata.target)}
    if rtype == "MX":
        return {"content": _host(rdata.exchange), "priority": rdata.preference}
    if rtype == "SRV":
        return {
            "data": {
                "priority": rdata.priority,
                "weight": rdata.weight,
                "port": rdata.port,
                "target": _host(rdata.target),
            }
        }
    if rtype == "CAA":
        return {
            "data": {
                "flags": rdata.flags,
                "tag": rdata.tag.decode("ascii"),
                "value": rdata.value.decode("utf-8", errors="surrogateescape"),
            }
        }
    if rtype == "TXT":
        return {"content": _txt_content(rdata.strings, value)}
    raise InvalidValueError(
        f"the cloudflare provider cannot write {rtype} records (it writes {', '.join(WRITABLE_TYPES)})"
    )


def _host(name: object) -> str:
    text = name.to_text()  # type: ignore[attr-defined]
    return text if text == "." else text.rstrip(".")


def _txt_content(strings: tuple[bytes, ...], canonical: str) -> str:
    """The literal text when it reads back identically, else the zone-file form."""
    if len(strings) == 1:
        try:
            text = strings[0].decode("utf-8")
        except UnicodeDecodeError:
            return canonical
        if text and not text.startswith('"') and text == text.strip():
            return text
    return canonical
