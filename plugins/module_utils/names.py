"""Owner names: absolute, lower-case, IDNA (A-labels), with a trailing dot, so comparing is exact."""

from __future__ import annotations

import re
import traceback

try:
    import dns.exception
    import dns.name

    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()

_LABEL = r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)"
# Both are matched whole (fullmatch): `$` would also match before a final newline.
_PLAIN_NAME = re.compile(rf"(?:\*|{_LABEL})(?:\.{_LABEL})*")
_ANY_LABEL = re.compile(r"[a-z0-9_*-]+")


class InvalidNameError(ValueError):
    """A name that cannot be a DNS owner name; the message says why."""


def _to_ascii(name: str) -> str:
    """Lower-cased A-label form of a possibly Unicode name; a final dot (absolute) is kept."""
    lowered = name.lower()
    if lowered.isascii():
        return lowered
    try:
        return dns.name.from_unicode(lowered).to_text(omit_final_dot=not lowered.endswith(".")).lower()
    except (dns.exception.DNSException, UnicodeError) as exc:
        raise InvalidNameError(f"{name!r} is not a valid internationalised name ({exc})") from None


def normalize_zone(zone: str) -> str:
    """Canonical zone name: 'Example.TEST' -> 'example.test.'."""
    if not isinstance(zone, str) or not zone.strip(". "):
        raise InvalidNameError(f"{zone!r} is not a zone name")
    text = _to_ascii(zone.strip())
    text = text[:-1] if text.endswith(".") else text
    _check_labels(text, allow_wildcard=False)
    return text + "."


def normalize_name(name: str, zone: str) -> str:
    """Absolute owner name for `name` in `zone` ('@' is the apex, a trailing dot means absolute).

    Raises InvalidNameError when the name is malformed or outside the zone.
    """
    if not isinstance(name, str) or name == "":
        raise InvalidNameError(f"{name!r} is not a name; use '@' for the zone apex")
    if name == "@":
        return zone
    text = _to_ascii(name.strip())
    absolute = text if text.endswith(".") else f"{text}.{zone}"
    if absolute != zone and not absolute.endswith("." + zone):
        raise InvalidNameError(f"{name!r} is outside the zone {zone}")
    _check_labels(absolute[:-1], allow_wildcard=True)
    return absolute


def _check_labels(text: str, allow_wildcard: bool) -> None:
    if len(text) + 1 > 254:
        raise InvalidNameError(f"{text!r} is longer than 253 characters")
    if _PLAIN_NAME.fullmatch(text) and ("*" not in text or allow_wildcard):
        return
    for index, label in enumerate(text.split(".")):
        if label == "":
            raise InvalidNameError(f"{text!r} has an empty label (two dots in a row?)")
        if len(label) > 63:
            raise InvalidNameError(f"{text!r}: label {label[:20]!r}... is longer than 63 characters")
        if "*" in label:
            if label != "*" or index != 0 or not allow_wildcard:
                raise InvalidNameError(f"{text!r}: '*' is only allowed as the whole leftmost label (a wildcard)")
            continue
        if not _ANY_LABEL.fullmatch(label):
            bad = sorted({c for c in label if not re.match(r"[a-z0-9_-]", c)})
            raise InvalidNameError(
                f"{text!r}: label {label!r} contains {''.join(bad)!r}; use letters, digits, '-' and '_'"
            )
        if label.startswith("-") or label.endswith("-"):
            raise InvalidNameError(f"{text!r}: label {label!r} starts or ends with '-'")


def relative_name(name: str, zone: str) -> str:
    """Zone-relative form for display: 'www.example.test.' -> 'www', the apex -> '@'."""
    if name == zone:
        return "@"
    if name.endswith("." + zone):
        return name[: -len(zone) - 1]
    return name


def zone_for_name(name: str, zones: list[str]) -> str | None:
    """Longest zone that contains the absolute name, or None."""
    best = None
    for zone in zones:
        if (name == zone or name.endswith("." + zone)) and (best is None or len(zone) > len(best)):
            best = zone
    return best
