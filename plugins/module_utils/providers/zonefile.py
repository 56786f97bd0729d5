"""The `zonefile` provider: RFC 1035 zone files on disk, the default that needs no server.

One file per zone, `<directory>/<filename>` (default `zones/example.test.zone`, relative to the
inventory's directory). A missing file is an empty zone; the first apply creates it.

Reading understands the master file format as BIND writes and reads it: `$ORIGIN`, `$TTL`,
`$INCLUDE` (a relative file name is taken relative to the including file), `$GENERATE`, relative
and `@` names, a blank owner repeating the previous one, TTL and class in either order, TTL units
(`1h30m`), parentheses, quoted strings and comments. Class IN only. Records outside the zone are
skipped with a note (BIND ignores them too). The parser is our own, because dnspython's zone reader
needs about 1.8 s for 20,000 records; rdata that is not a plain A, AAAA or ASCII TXT is still
parsed by dnspython.

Writing rewrites the whole file, under an exclusive lock (`.<file>.lock` beside it), only when
every change's pins still hold (else ChangedSinceReadError and the file is untouched):

- layout: a header comment, `$ORIGIN`, `$TTL`, the SOA, then one record per line sorted by name
  from the apex down and by type, owner names relative to the zone, values in fleetdns' canonical
  text (names inside values absolute), ownership markers last. The order is stable, so the git diff
  of an apply shows exactly the records that changed plus the SOA serial.
- **comments, blank lines, `$INCLUDE`/`$GENERATE` and the original layout of a hand-edited file are
  not kept**: included and generated records are written into the file itself. Records fleetdns does
  not own keep their names, TTLs and values.
- SOA: fleetdns owns it. An existing SOA keeps its names and timers and gets a new serial: when the
  serial looks like a date (YYYYMMDDnn) it becomes max(serial + 1, today's YYYYMMDD00, UTC);
  otherwise serial + 1, wrapping at 2**32 (RFC 1982). A new file gets SOA and apex NS from the
  provider options (`nameservers`, `soa_*`) and a serial of today's YYYYMMDD00. An apex NS set is
  added only to a new file, and only when the plan does not create one.
- checked: the new text is read back with the same parser (it must hold exactly the records meant)
  and, when BIND's `named-checkzone` is installed, checked by it (`-i local`: in-zone integrity, no
  lookups) before it replaces anything. A file that would not load is never installed: the old file
  stays as it was and the error says why.
- atomic: a temporary file beside the file, fsync, rename over the old file, fsync of the directory.
  The file keeps its mode (and owner, when permitted); a new file is 0644.
- links: a zone file that is a symbolic link stays one; the file it points to is updated (the
  temporary file goes beside that target). The lock file is never followed through a link: a link
  in its place is refused.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import os
import re
import shutil
import socket
import stat
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

try:  # POSIX: flock; Windows has no fcntl, and locks a byte of the lock file with msvcrt instead
    import fcntl

    msvcrt = None
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt  # type: ignore[no-redef]

try:
    import dns.exception
    import dns.name
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
    import dns.ttl
    import dns.zone

    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()

from .. import process_runner
from ..errors import ChangedSinceReadError, ProviderError, shorten
from ..names import relative_name
from ..ownership import MARKER_LABEL, ZoneState, marker_name, marker_value, split_markers
from ..plan import Change
from ..rdata import MANAGED_TYPES, canonical_text, ipv6_text
from ..records import RecordKey, RecordSet, sort_key
from .base import MARKER_STORE, Capabilities, Meanwhile, Option, Progress, ZoneProvider

MARKER_TTL = 3600
NEW_FILE_MODE = 0o644
LOCK_TIMEOUT = 30.0
CHECKZONE_TIMEOUT = 120.0
CHECKZONE_PATHS = ("/usr/sbin/named-checkzone", "/usr/bin/named-checkzone", "/usr/local/sbin/named-checkzone")
MAX_INCLUDE_DEPTH = 16
SERIAL_MODULO = 2**32

_HARD = re.compile(r"[();\\]")  # a line without these (and with balanced quotes) splits with a regex
_SIMPLE_TOKEN = re.compile(r'(?:"[^"]*"|[^\s"])+')
_PLAIN_NAME = re.compile(r"^(?:[A-Za-z0-9_*-]{1,63}\.)*[A-Za-z0-9_*-]{1,63}\.?$")
_PLAIN_TXT = re.compile(r'^"[ !#-\[\]-~]{0,255}"$')  # printable ASCII, no quote or backslash inside
_DATE_SERIAL_YEARS = range(1970, 2430)
# The local part of an e-mail address becomes one label of the SOA RNAME: dot-atom text (RFC 5322),
# so nothing in it reads as zone-file syntax (; ( ) " are not allowed) and every dot is escaped.
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def check_filename(pattern: Any) -> str | None:
    """Problem with the `filename` option, or None."""
    if not isinstance(pattern, str) or "{zone}" not in pattern:
        return "must contain {zone}, like '{zone}.zone' or 'db.{zone}'"
    rest = pattern.replace("{zone}", "")
    if "/" in pattern or "{" in rest or "}" in rest or any(not c.isprintable() for c in pattern):
        return "must be a plain file name with {zone}; put folders in 'directory'"
    return None


def check_nameservers(servers: Any) -> str | None:
    """Problem with the `nameservers` option, or None."""
    if not isinstance(servers, list) or not servers:
        return "must list at least one name server, like ['ns1.example.net.']"
    for server in servers:
        if not isinstance(server, str) or not _PLAIN_NAME.fullmatch(server) or not _fits_name(server):
            return f"{shorten(repr(server))} is not a host name like ns1.example.net."
        if not server.endswith("."):
            return f"{shorten(repr(server))} is not an absolute host name (end it with a dot)"
    return None


def check_soa_email(email: Any) -> str | None:
    """Problem with the `soa_email` option, or None ('' means hostmaster@<zone>)."""
    if email == "":
        return None
    if not isinstance(email, str):
        return "must be an e-mail address like hostmaster@example.test"
    local, at, domain = email.partition("@")
    shown = shorten(repr(email))
    if not at or not local or not domain:
        return f"{shown} is not an e-mail address like hostmaster@example.test"
    if not _EMAIL_LOCAL.fullmatch(local):
        return (
            f"{shown}: the part before @ may hold only letters, digits, dots and !#$%&'*+-/=?^_`{{|}}~ "
            "(no spaces, line breaks, quotes, ; or parentheses, which a zone file reads as syntax)"
        )
    if len(local) > 63:
        return f"{shown}: the part before @ is longer than 63 characters, the most a DNS label holds"
    if not _PLAIN_NAME.fullmatch(domain) or "*" in domain or not _fits_name(local + "." + domain):
        return f"{shown}: {shorten(repr(domain))} after @ is not a domain name like example.test"
    return None


def check_seconds(value: Any) -> str | None:
    """Problem with an SOA timer option, or None."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < SERIAL_MODULO:
        return f"must be a number of seconds, 0..{SERIAL_MODULO - 1}"
    return None


def _fits_name(text: str) -> bool:
    """Labels of at most 63 bytes, the name at most 255 (the regexes above check the characters)."""
    try:
        dns.name.from_text(text.rstrip(".") + ".")
    except dns.exception.DNSException:
        return False
    return True


@dataclass
class ZoneFile:
    """What a zone file holds: the record sets (markers included), its SOA, and notes for the user."""

    records: dict[RecordKey, RecordSet] = field(default_factory=dict)
    soa: Any = None  # dns.rdtypes.ANY.SOA.SOA
    soa_ttl: int = 0
    exists: bool = False
    mode: int = NEW_FILE_MODE
    owner_ids: tuple[int, int] | None = None
    warnings: list[str] = field(default_factory=list)


class ZoneFileProvider(ZoneProvider):
    """RFC 1035 zone files in a directory, one per zone."""

    CONCURRENT_READS: ClassVar[bool] = True  # nothing is kept between read and apply
    TYPE: ClassVar[str] = "zonefile"
    CAPABILITIES: ClassVar[Capabilities] = Capabilities(
        record_types=MANAGED_TYPES, lists_zone=True, ownership_store=MARKER_STORE, zone_ownership=True
    )
    OPTIONS: ClassVar[dict[str, Option]] = {
        "directory": Option(
            str, default="zones", description="directory of the zone files; relative to the inventory's directory"
        ),
        "filename": Option(
            str,
            default="{zone}.zone",
            description="file name pattern; {zone} is the zone name without the final dot (example.test.zone)",
            check=check_filename,
        ),
        "nameservers": Option(
            list,
            default=["localhost."],
            description="apex NS (and SOA primary) of a newly created file, absolute names; set your real servers",
            check=check_nameservers,
        ),
        "soa_email": Option(
            str,
            default="",
            description="SOA contact of a new file, like hostmaster@example.test (default hostmaster)",
            check=check_soa_email,
        ),
        "soa_refresh": Option(int, default=3600, description="SOA refresh of a new file, seconds", check=check_seconds),
        "soa_retry": Option(int, default=900, description="SOA retry of a new file, seconds", check=check_seconds),
        "soa_expire": Option(
            int, default=1209600, description="SOA expire of a new file, seconds", check=check_seconds
        ),
        "soa_minimum": Option(
            int, default=300, description="SOA minimum (negative caching TTL) of a new file", check=check_seconds
        ),
    }

    def __init__(self, name: str, options: dict[str, Any], base_dir: str = ".") -> None:
        super().__init__(name, options, base_dir)
        self._options = {key: options.get(key, spec.default) for key, spec in self.OPTIONS.items()}

    # ---- options -------------------------------------------------------------------------------

    def check_options(self) -> list[str]:
        return self.declared_problems(self._options)

    def path_for(self, zone: str) -> str:
        """The zone's file: directory (relative to the inventory) joined with the filename pattern."""
        directory = os.path.expanduser(self._options["directory"])
        if not os.path.isabs(directory):
            directory = os.path.join(self.base_dir, directory)
        label = zone[:-1] if zone.endswith(".") and zone != "." else zone
        return os.path.normpath(os.path.join(directory, self._options["filename"].replace("{zone}", label)))

    def _display(self, path: str) -> str:
        """Path as the user thinks of it: relative to the inventory's directory when inside it."""
        base = os.path.abspath(self.base_dir)
        full = os.path.abspath(path)
        return os.path.relpath(full, base) if full.startswith(base + os.sep) else full

    # ---- read ----------------------------------------------------------------------------------

    def read(self, zone: str, wanted: set[RecordKey]) -> ZoneState:
        zone_file = self.load_file(zone, self.path_for(zone))
        state = split_markers(zone, zone_file.records)
        state.warnings[:0] = zone_file.warnings
        return state

    def load_file(self, zone: str, path: str) -> ZoneFile:
        """Parse one zone file (a missing file is an empty, new zone)."""
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return ZoneFile()
        except OSError as exc:
            raise ProviderError(f"cannot read {self._display(path)}: {exc.strerror}") from None
        parser = _Parser(zone, self._display)
        parser.parse_file(path, zone, 0)
        return ZoneFile(
            parser.records,
            parser.soa,
            parser.soa_ttl,
            True,
            info.st_mode & 0o7777,
            (info.st_uid, info.st_gid),
            parser.warnings,
        )

    # ---- apply ---------------------------------------------------------------------------------

    def apply(
        self,
        zone: str,
        changes: list[Change],
        owner: str | None,
        progress: Progress | None = None,
        meanwhile: Meanwhile | None = None,
    ) -> None:
        if not changes:
            return
        path = self.path_for(zone)
        directory = os.path.dirname(path)
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise ProviderError(
                f"cannot create the zone directory {self._display(directory)}: {exc.strerror}"
            ) from None
        target = os.path.realpath(path)  # a link stays a link: its target gets the new text
        with self._locked(target, path):
            current = self.load_file(zone, path)
            self._check_pins(zone, current, changes, owner, path)
            records = dict(current.records)
            for change in changes:
                _apply_change(records, zone, change, owner)
            soa_text, soa_ttl = self._next_soa(zone, current, records.get((zone, "NS")))
            if not current.exists and not any(k == (zone, "NS") for k in records):
                servers = [s.lower() for s in self._options["nameservers"]]
                records[(zone, "NS")] = RecordSet(zone, "NS", soa_ttl, frozenset(servers))
            text = render(zone, soa_text, soa_ttl, records)
            self._write(target, path, text, current, lambda written: self._check_written(zone, written, records, path))
        if progress:
            progress(len(changes), len(changes))

    @contextlib.contextmanager
    def _locked(self, target: str, path: str):
        """Exclusive flock on `.<file>.lock` beside the file written (the target of a link), so two
        applies never interleave, whichever link they write through. The lock file is opened without
        following a link: a link there could make fleetdns create or truncate a file elsewhere."""
        lock_path = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.lock")
        shown = self._display(lock_path)
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, NEW_FILE_MODE)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ProviderError(
                    f"the lock file {shown} is a symbolic link; fleetdns does not follow links for lock files",
                    f"remove the link ({shown}); fleetdns then creates a plain lock file there",
                ) from None
            raise ProviderError(f"cannot create the lock file {shown}: {exc.strerror}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ProviderError(f"the lock file {shown} is not a regular file", f"remove {shown}")
        try:
            deadline = time.monotonic() + LOCK_TIMEOUT
            while True:
                try:
                    lock_nowait(fd)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                        raise ProviderError(
                            f"{self._display(path)} is locked by another process ({shown})",
                            "wait for the other fleetdns apply to finish, then run again",
                        ) from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _check_pins(self, zone: str, current: ZoneFile, changes: list[Change], owner: str | None, path: str) -> None:
        state = split_markers(zone, current.records)
        problems = []
        for change in changes:
            label = f"{relative_name(change.name, zone)} {change.type}"
            have = state.records.get(change.key)
            have_values = have.values if have else None
            want_values = change.before.values if change.before else None
            if have_values != want_values:
                problems.append(f"{label}: expected {_describe(want_values)}, found {_describe(have_values)}")
            if owner is None:  # a zone owned whole: markers are not part of the plan
                continue
            holder = state.owners.get(change.key)
            if change.owned_before and holder != owner:
                problems.append(
                    f"{label}: expected ownership marker of '{owner}', found "
                    + (f"owner '{holder}'" if holder else "no marker")
                )
            elif not change.owned_before and holder is not None:
                problems.append(f"{label}: expected no ownership marker, found owner '{holder}'")
        if problems:
            raise ChangedSinceReadError(
                f"zone {zone}: {self._display(path)} changed since it was read; nothing was written:\n"
                + "\n".join(f"  - {p}" for p in problems),
                "run plan again to see the current state, then apply",
            )

    def _next_soa(self, zone: str, current: ZoneFile, apex_ns: RecordSet | None) -> tuple[str, int]:
        """SOA text with the bumped serial (existing SOA) or a fresh one from the options. A fresh
        SOA names the first `nameservers` entry as primary, unless the plan declares an apex NS set
        without it: then the first of those names."""
        today = int(datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")) * 100
        if current.soa is not None:
            soa = current.soa.replace(serial=next_serial(current.soa.serial, today))
            return canonical_text(soa), current.soa_ttl
        opts = self._options
        mname = opts["nameservers"][0].lower()
        if apex_ns is not None and mname not in apex_ns.values:
            mname = min(apex_ns.values)
        problem = check_soa_email(opts["soa_email"])  # again: a provider may be built without validation
        if problem:
            raise ProviderError(f"option 'soa_email': {problem}", "fix soa_email in the provider's options")
        rname = email_to_rname(opts["soa_email"]) if opts["soa_email"] else f"hostmaster.{zone}"
        timers = " ".join(str(opts[k]) for k in ("soa_refresh", "soa_retry", "soa_expire", "soa_minimum"))
        return f"{mname} {rname} {today} {timers}", 3600

    def _write(self, target: str, path: str, text: str, current: ZoneFile, check: Callable[[str], None]) -> None:
        """Temp file beside `target`, fsync, `check` it, rename over `target`, fsync the directory.
        `path` is the zone file as configured (a link to `target`, or `target` itself)."""
        directory = os.path.dirname(target)
        display = self._display(path)
        if target != os.path.abspath(path):
            display += f" (a link to {target})"
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory)
        except OSError as exc:
            raise ProviderError(
                f"cannot write {display}: {exc.strerror}", "check the directory's permissions"
            ) from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                if hasattr(os, "fchmod"):
                    os.fchmod(handle.fileno(), current.mode)
                else:  # Windows before Python 3.13
                    os.chmod(tmp, current.mode)
                if current.owner_ids and hasattr(os, "geteuid") and current.owner_ids != (os.geteuid(), os.getegid()):
                    with contextlib.suppress(OSError):
                        os.fchown(handle.fileno(), *current.owner_ids)
                os.fsync(handle.fileno())
            check(tmp)
            os.replace(tmp, target)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise ProviderError(f"cannot write {display}: {exc.strerror or exc}") from None
            raise
        with contextlib.suppress(OSError):
            dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def _check_written(self, zone: str, written: str, records: dict[RecordKey, RecordSet], path: str) -> None:
        """The new file must load: our parser reads back exactly `records`, and named-checkzone (when
        installed) accepts it. Raises ProviderError before the old file is replaced."""
        display = self._display(path)
        kept = "the old file was kept as it was"

        def shown(name: str) -> str:
            return f"{display} (as written)" if name == written else self._display(name)

        try:
            parser = _Parser(zone, shown)
            parser.parse_file(written, zone, 0)
        except ProviderError as exc:
            raise ProviderError(
                f"zone {zone}: the new text of {display} does not read back ({exc.message}); {kept}",
                "a value fleetdns cannot write safely; change or remove the record named",
            ) from None
        if parser.records != records or parser.soa is None:
            wrong = sorted(set(parser.records.items()) ^ set(records.items()), key=lambda item: sort_key(item[0]))
            label = f"{relative_name(wrong[0][0][0], zone)} {wrong[0][0][1]}" if wrong else "SOA"
            raise ProviderError(
                f"zone {zone}: the new text of {display} reads back differently at {label}; {kept}",
                "a value fleetdns cannot write safely; change or remove that record",
            )
        problems = named_checkzone(zone, written)
        if problems:
            listing = "\n".join(f"  - {shorten(p.replace(written, display), 200)}" for p in problems)
            raise ProviderError(
                f"zone {zone}: named-checkzone rejects the new text of {display}, BIND would not load it; {kept}:\n"
                + listing,
                "fix the records named (an NS or MX target inside the zone needs an address record)",
            )


# ---- changes, serials, rendering ---------------------------------------------------------------


def _apply_change(records: dict[RecordKey, RecordSet], zone: str, change: Change, owner: str | None) -> None:
    if change.changes_data:
        if change.after is None:
            records.pop(change.key, None)
        else:
            records[change.key] = change.after
    if owner is not None and change.changes_owner:
        mname = marker_name(change.key, zone)
        if change.owned_after:
            records[(mname, "TXT")] = RecordSet(mname, "TXT", MARKER_TTL, frozenset({marker_value(owner)}))
        else:
            records.pop((mname, "TXT"), None)


def _describe(values: frozenset[str] | None) -> str:
    if values is None:
        return "no record set"
    shown = [shorten(value) for value in sorted(values)[:3]]
    return ", ".join(shown) + (f", ... ({len(values)} values)" if len(values) > 3 else "")


def is_date_serial(serial: int) -> bool:
    """True for serials of the form YYYYMMDDnn with a plausible date."""
    if not 1_000_000_000 <= serial < SERIAL_MODULO:
        return False
    year, month, day = serial // 1_000_000, serial // 10_000 % 100, serial // 100 % 100
    return year in _DATE_SERIAL_YEARS and 1 <= month <= 12 and 1 <= day <= 31


def next_serial(serial: int, today: int) -> int:
    """Next SOA serial. `today` is YYYYMMDD00. Date-like serials stay date-like; others count up
    with RFC 1982 wrap-around."""
    if is_date_serial(serial):
        return max(serial + 1, today) % SERIAL_MODULO
    return (serial + 1) % SERIAL_MODULO


def email_to_rname(email: str) -> str:
    """'host.master@example.test' -> 'host\\.master.example.test.' (SOA RNAME, RFC 1035 §8): the
    local part is one label, escaped by dnspython wherever the zone-file syntax needs it."""
    local, _at, domain = email.partition("@")
    labels = [local.encode()] + [label.encode("ascii") for label in domain.lower().rstrip(".").split(".")]
    return dns.name.Name([*labels, b""]).to_text()


def find_checkzone() -> str | None:
    """BIND's named-checkzone: on PATH, else where Debian and source builds put it."""
    for candidate in (shutil.which("named-checkzone"), *CHECKZONE_PATHS):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def named_checkzone(zone: str, path: str) -> list[str]:
    """named-checkzone's errors for the file (empty when it loads, or when BIND is not installed).

    `-i local` checks in-zone integrity (an NS or MX target without an address, ...) as named does
    on load, without lookups of names outside the zone; check-names and CNAME warnings stay warnings."""
    binary = find_checkzone()
    if binary is None:
        return []
    runner = process_runner.command_runner
    if runner is None:
        return []
    try:
        returncode, output = runner([binary, "-i", "local", zone, path], CHECKZONE_TIMEOUT)
    except TimeoutError:
        return [f"named-checkzone did not finish within {CHECKZONE_TIMEOUT:g} s"]
    except OSError as exc:
        return [f"named-checkzone could not run: {exc.strerror or exc}"]
    if returncode == 0:
        return []
    lines = [line.strip() for line in output.splitlines()]
    errors = [line for line in lines if line and "not loaded due to errors" not in line]
    return errors or [f"named-checkzone failed (exit code {returncode})"]


def render(zone: str, soa_text: str, soa_ttl: int, records: dict[RecordKey, RecordSet]) -> str:
    """The whole zone file text: stable order, one record per line, relative owner names."""
    marker_root = f"{MARKER_LABEL}.{zone}"
    marker_suffix = "." + marker_root
    cut = len(zone) + 1
    plain: list[RecordKey] = []
    markers: list[RecordKey] = []
    for key in records:
        name = key[0]
        (markers if name.endswith(marker_suffix) or name == marker_root else plain).append(key)
    lines = [
        f"; zone {zone} written by fleetdns (zonefile provider).",
        "; Edits are fine, but fleetdns rewrites this file on apply: comments and layout are not kept.",
        f"$ORIGIN {zone}",
        f"$TTL {soa_ttl}",
        f"@\t{soa_ttl}\tIN\tSOA\t{soa_text}",
    ]
    for group in (plain, markers):
        if group is markers and markers:
            lines.append(f"; ownership markers: fleetdns owns <type>.<name> ({MARKER_LABEL} records; keep them)")
        for key in sorted(group, key=sort_key):
            rrset = records[key]
            name = key[0]
            if name == zone:
                rel = "@"
            elif name.endswith("." + zone):
                rel = name[:-cut]
            else:
                rel = name
            prefix = f"{rel}\t{rrset.ttl}\tIN\t{rrset.type}\t"
            for value in sorted(rrset.values):
                if "\n" in value or "\r" in value:
                    raise ProviderError(f"{rel} {rrset.type}: value {shorten(repr(value))} contains a line break")
                lines.append(prefix + value)
    lines.append("")
    return "\n".join(lines)


# ---- parsing -----------------------------------------------------------------------------------


class _ParseError(Exception):
    pass


class _Parser:
    """RFC 1035 §5 master file reader producing canonical record sets (see the module docstring)."""

    def __init__(self, zone: str, display: Any) -> None:
        self.zone = zone
        self.zone_name = dns.name.from_text(zone)
        self.display = display
        self.records: dict[RecordKey, RecordSet] = {}
        self._values: dict[RecordKey, tuple[int, set[str]]] = {}
        self.soa: Any = None
        self.soa_ttl = 0
        self.warnings: list[str] = []
        self.default_ttl: int | None = None
        self.last_ttl: int | None = None
        self._names: dict[str, dns.name.Name] = {}
        self._types: dict[str, tuple[int, str]] = {}
        self._active: list[str] = []
        self._outside = 0

    # -- files and logical lines --

    def parse_file(self, path: str, origin: str, depth: int) -> None:
        display = self.display(path)
        real = os.path.realpath(path)
        if real in self._active or depth > MAX_INCLUDE_DEPTH:
            raise ProviderError(f"{display}: $INCLUDE loop or nesting deeper than {MAX_INCLUDE_DEPTH}")
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise ProviderError(f"cannot read {display}: {exc.strerror}") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ProviderError(f"{display}:{line}: not valid UTF-8 text", _HINT) from None
        self._active.append(real)
        try:
            self._parse_text(text, path, display, origin)
        finally:
            self._active.pop()
        if depth == 0:
            self._finish()

    def _parse_text(self, text: str, path: str, display: str, origin: str) -> None:
        state = _FileState(origin)
        tokens: list[str] = []
        start = 0
        indented = False
        depth = 0
        hard = _HARD.search
        for number, line in enumerate(text.split("\n"), 1):
            try:
                if depth == 0:
                    start = number
                    indented = line[:1] in (" ", "\t")
                    if hard(line) is None and '"' not in line:
                        tokens = line.split()
                    elif hard(line) is None and line.count('"') % 2 == 0:
                        tokens = _SIMPLE_TOKEN.findall(line)
                    else:
                        tokens = []
                        depth = _scan(line, tokens, 0)
                else:
                    depth = _scan(line, tokens, depth)
                if depth or not tokens:
                    continue
                self._logical_line(tokens, indented, state, path, display)
            except _ParseError as exc:
                raise ProviderError(f"{display}:{start if depth == 0 else number}: {exc}", _HINT) from None
            except ProviderError:
                raise
            except (dns.exception.DNSException, ValueError, UnicodeError) as exc:
                raise ProviderError(f"{display}:{start}: {_reason(exc)}", _HINT) from None
            tokens = []
        if depth:
            raise ProviderError(f"{display}:{start}: '(' is never closed", _HINT)

    # -- one record or directive --

    def _logical_line(self, toks: list[str], indented: bool, state: _FileState, path: str, display: str) -> None:
        first = toks[0]
        if not indented and first[0] == "$":
            self._directive(first.upper(), toks, state, path)
            return
        if indented:
            if state.last_owner is None:
                raise _ParseError("a record without an owner name and no earlier name to repeat")
            owner, inside = state.last_owner
            k = 0
        else:
            owner, inside = self._owner(first, state.origin)
            state.last_owner = (owner, inside)
            k = 1
        ttl = None
        for _attempt in range(2):
            if k >= len(toks):
                raise _ParseError("record is missing its type and value")
            tok = toks[k]
            if tok[0].isdigit():
                if ttl is not None:
                    break
                ttl = _ttl(tok)
                self.last_ttl = ttl
                k += 1
            elif tok.upper() == "IN":
                k += 1
            elif _is_other_class(tok):
                raise _ParseError(f"class {tok} is not supported; zone files hold class IN records")
            else:
                break
        if k >= len(toks):
            raise _ParseError("record is missing its type")
        rtype_text = toks[k].upper()
        known = self._types.get(rtype_text)
        if known is None:
            try:
                rdtype = dns.rdatatype.from_text(rtype_text)
            except dns.rdatatype.UnknownRdatatype:
                raise _ParseError(f"unknown record type {shorten(repr(toks[k]))}") from None
            known = self._types[rtype_text] = (rdtype, dns.rdatatype.to_text(rdtype))
        rdtype, type_name = known
        rdata = toks[k + 1 :]
        if not rdata:
            raise _ParseError(f"{rtype_text} record has no value")
        if rdtype == dns.rdatatype.SOA:
            self._soa(owner, ttl, rdata, state.origin)
            return
        if ttl is None:
            ttl = self._implicit_ttl()
        if not inside:
            self._outside += 1
            return
        value = self._value(rdtype, rdata, state.origin)
        key = (owner, type_name)
        entry = self._values.get(key)
        if entry is None:
            self._values[key] = (ttl, {value})
        else:
            entry[1].add(value)

    def _directive(self, name: str, toks: list[str], state: _FileState, path: str) -> None:
        if name == "$ORIGIN":
            if len(toks) != 2:
                raise _ParseError("$ORIGIN takes one name")
            state.origin = self._absolute(toks[1], state.origin)
        elif name == "$TTL":
            if len(toks) != 2:
                raise _ParseError("$TTL takes one value")
            self.default_ttl = _ttl(toks[1])
        elif name == "$INCLUDE":
            if len(toks) not in (2, 3):
                raise _ParseError("$INCLUDE takes a file name and an optional origin")
            target = toks[1].strip('"')
            if not os.path.isabs(target):
                target = os.path.join(os.path.dirname(path), target)
            origin = self._absolute(toks[2], state.origin) if len(toks) == 3 else state.origin
            saved_default = self.default_ttl
            self.parse_file(target, origin, len(self._active))
            self.default_ttl = saved_default
            self.warnings.append(
                f"{self.display(path)} uses $INCLUDE {toks[1]}: an apply writes the included records "
                "into the zone file itself"
            )
        elif name == "$GENERATE":
            self._generate(toks, state)
            self.warnings.append(
                f"{self.display(path)} uses $GENERATE: an apply writes the generated records out one by one"
            )
        else:
            raise _ParseError(f"unknown directive {toks[0]}; use $ORIGIN, $TTL, $INCLUDE or $GENERATE")

    def _generate(self, toks: list[str], state: _FileState) -> None:
        """Let dnspython's zone reader expand a BIND $GENERATE line, then file its records."""
        default = self.default_ttl if self.default_ttl is not None else self.last_ttl
        prelude = f"$ORIGIN {state.origin}\n" + (f"$TTL {default}\n" if default is not None else "")
        try:
            zone = dns.zone.from_text(
                prelude + " ".join(toks) + "\n", self.zone_name, relativize=False, check_origin=False
            )
        except dns.exception.DNSException as exc:
            detail = re.sub(r"^<[^>]*>:[0-9]+: ", "", _reason(exc))
            raise _ParseError(f"bad $GENERATE: {detail}") from None
        for name, rdataset in zone.iterate_rdatasets():
            key = (name.canonicalize().to_text(), dns.rdatatype.to_text(rdataset.rdtype))
            entry = self._values.setdefault(key, (rdataset.ttl, set()))
            entry[1].update(canonical_text(rd) for rd in rdataset)

    def _soa(self, owner: str, ttl: int | None, rdata: list[str], origin: str) -> None:
        if owner != self.zone:
            raise _ParseError(f"SOA record at {owner}, but only the zone apex {self.zone} may hold one")
        if self.soa is not None:
            raise _ParseError("a second SOA record; a zone has exactly one")
        self.soa = dns.rdata.from_text(
            dns.rdataclass.IN, dns.rdatatype.SOA, " ".join(rdata), origin=self._name_obj(origin), relativize=False
        )
        if ttl is None:
            ttl = self.default_ttl if self.default_ttl is not None else self.soa.minimum
        self.soa_ttl = ttl
        if self.last_ttl is None:
            self.last_ttl = ttl

    def _implicit_ttl(self) -> int:
        """$TTL, else the last TTL given (RFC 1035 §5.1), else the SOA minimum (as BIND does)."""
        if self.default_ttl is not None:
            return self.default_ttl
        if self.last_ttl is not None:
            return self.last_ttl
        if self.soa is not None:
            return self.soa.minimum
        raise _ParseError("no TTL: give the record a TTL or put a $TTL line at the top of the file")

    # -- names and values --

    def _owner(self, raw: str, origin: str) -> tuple[str, bool]:
        """Absolute lower-case owner name and whether it lies inside the zone."""
        if raw == "@":
            name = origin
        elif _PLAIN_NAME.match(raw):
            name = raw.lower() if raw.endswith(".") else _join(raw.lower(), origin)
            if len(name) > 254:
                raise _ParseError(f"name {shorten(repr(raw))} is longer than 255 bytes")
        else:
            obj = dns.name.from_text(raw, self._name_obj(origin)).canonicalize()
            return obj.to_text(), obj.is_subdomain(self.zone_name)
        return name, name == self.zone or name.endswith("." + self.zone) or self.zone == "."

    def _absolute(self, raw: str, origin: str) -> str:
        if raw == "@":
            return origin
        return dns.name.from_text(raw, self._name_obj(origin)).canonicalize().to_text()

    def _name_obj(self, text: str) -> dns.name.Name:
        obj = self._names.get(text)
        if obj is None:
            obj = self._names[text] = dns.name.from_text(text)
        return obj

    def _value(self, rdtype: int, rdata: list[str], origin: str) -> str:
        if len(rdata) == 1:
            tok = rdata[0]
            if rdtype == dns.rdatatype.A:
                try:
                    return socket.inet_ntop(socket.AF_INET, socket.inet_pton(socket.AF_INET, tok))
                except OSError:
                    raise _ParseError(f"{shorten(repr(tok))} is not an IPv4 address") from None
            if rdtype == dns.rdatatype.AAAA:
                try:
                    return ipv6_text(socket.inet_pton(socket.AF_INET6, tok))
                except OSError:
                    raise _ParseError(f"{shorten(repr(tok))} is not an IPv6 address") from None
        if rdtype == dns.rdatatype.TXT and all(_PLAIN_TXT.match(t) for t in rdata):
            return " ".join(rdata)
        try:
            rd = dns.rdata.from_text(
                dns.rdataclass.IN, rdtype, " ".join(rdata), origin=self._name_obj(origin), relativize=False
            )
        except (dns.exception.DNSException, ValueError, UnicodeError) as exc:
            raise _ParseError(
                f"bad {dns.rdatatype.to_text(rdtype)} value {shorten(repr(' '.join(rdata)))}: {shorten(_reason(exc))}"
            ) from None
        return canonical_text(rd)

    def _finish(self) -> None:
        self.records = {
            key: RecordSet(key[0], key[1], ttl, frozenset(values)) for key, (ttl, values) in self._values.items()
        }
        if self._outside:
            self.warnings.append(
                f"{self._outside} record(s) outside zone {self.zone} were ignored (as BIND does) "
                "and are dropped when fleetdns writes the file"
            )


def lock_nowait(fd: int) -> None:
    """Take the exclusive lock on the open lock file `fd` or raise OSError (EAGAIN/EACCES) at once."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    else:  # pragma: no cover - Windows: the first byte stands for the whole file
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)


@dataclass
class _FileState:
    """Per-file parsing state that $INCLUDE must not leak back to the including file."""

    origin: str
    last_owner: tuple[str, bool] | None = None


_HINT = "fix the zone file at that line (named-checkzone shows BIND's view), or move it away to start afresh"
_OTHER_CLASSES = frozenset(("CH", "CHAOS", "HS", "HESIOD", "NONE", "ANY"))


def _is_other_class(tok: str) -> bool:
    upper = tok.upper()
    return upper in _OTHER_CLASSES or (upper.startswith("CLASS") and upper[5:].isdigit() and upper != "CLASS1")


def _ttl(tok: str) -> int:
    """Seconds, or BIND units like 1h30m; at most 2**32 - 1 as BIND accepts."""
    if tok.isdigit():
        value = int(tok)
    else:
        try:
            value = dns.ttl.from_text(tok)
        except dns.exception.DNSException as exc:
            shown = shorten(repr(tok))
            raise _ParseError(f"bad TTL {shown}: {_reason(exc)}; write seconds or units like 1h30m") from None
    if value >= SERIAL_MODULO:
        raise _ParseError(f"TTL {tok} is larger than {SERIAL_MODULO - 1}")
    return value


def _join(relative: str, origin: str) -> str:
    return f"{relative}." if origin == "." else f"{relative}.{origin}"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__


def _scan(line: str, tokens: list[str], depth: int) -> int:
    """Split one physical line into raw tokens (quotes and escapes kept, so dnspython can re-read
    them), dropping the comment and tracking parentheses. Returns the new parenthesis depth."""
    i = 0
    n = len(line)
    while i < n:
        c = line[i]
        if c in " \t\r":
            i += 1
        elif c == ";":
            break
        elif c == "(":
            depth += 1
            i += 1
        elif c == ")":
            if depth == 0:
                raise _ParseError("')' without a matching '('")
            depth -= 1
            i += 1
        else:
            # A token runs to whitespace; a quoted part (with ; ( ) and blanks inside) belongs to it,
            # so `alpn="h2,h3"` stays one token as dnspython and BIND expect.
            j = i
            while j < n and line[j] not in " \t\r;()":
                if line[j] == "\\":
                    j += 2
                elif line[j] == '"':
                    j += 1
                    while j < n and line[j] != '"':
                        j += 2 if line[j] == "\\" else 1
                    if j >= n:
                        raise _ParseError("quoted string is not closed on its line")
                    j += 1
                else:
                    j += 1
            tokens.append(line[i : min(j, n)])
            i = j
    return depth
