"""The `rfc2136` zone provider: reads a zone by AXFR, changes it with DNS UPDATE, both over TCP + TSIG.

Reading: one AXFR (RFC 5936) with the TSIG of every message verified. When the server refuses the
transfer, the provider asks for each record set the plan needs (and its ownership marker) instead,
pipelined over one TCP connection, and says so: such a read is incomplete (ZoneState.complete is
False), because owned record sets that left the inventory cannot be found.

Writing: every Change becomes RFC 2136 operations with prerequisites that pin what was read:
"RRset does not exist" where nothing was read, "RRset exists with exactly these values" otherwise,
and the same for the ownership marker (ownership.py). All changes at one owner name travel in one
message, whole-RRset deletions first (so A -> CNAME at one name works), then in-place updates (new
values added before old ones are removed: a server ignores the removal of the last NS or of the
SOA at the apex, so replacing the apex NS set must add first), then creations, then the markers.
Groups are packed into as few messages as fit 65,535 bytes including the TSIG record, sent one
after the other over one TCP connection; each message is atomic on the server, and the apply stops
at the first message the server rejects.

Marker TTL: the marker takes the TTL of the record set it marks (after the change, else before),
or 300 s when the record set has no data yet (a registered device name). Markers are read only by
fleetdns, so their TTL just keeps caches of the _fleetdns subtree consistent with the data.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, ClassVar

from .. import dnswire
from ..deadline import DEFAULT_DEADLINE, Deadline, DeadlineExceeded, check_deadline
from ..errors import ChangedSinceReadError, FleetDNSError, ProviderError, shorten
from ..gcpause import paused_gc
from ..names import relative_name
from ..ownership import ZoneState, marker_name, marker_value, split_markers
from ..plan import Change
from ..rdata import MANAGED_TYPES
from ..records import RecordKey, RecordSet
from .base import MARKER_STORE, Capabilities, Meanwhile, Option, Progress, ZoneProvider

DEFAULT_MARKER_TTL = 300
PIPELINE_WINDOW = 64  # queries in flight on one connection during a fallback read
# Why a follow-up query that explains a rejected update may fail; the explanation is then left out.
# (The server may have closed the connection: it sat idle while another zone was applied.)
_EXPLAINING_FAILED = (ProviderError, dnswire.WireError, OSError, EOFError, DeadlineExceeded)

RCODE_NOERROR = 0
RCODE_FORMERR = 1
RCODE_SERVFAIL = 2
RCODE_NXDOMAIN = 3
RCODE_NOTIMP = 4
RCODE_REFUSED = 5
RCODE_YXDOMAIN = 6
RCODE_YXRRSET = 7
RCODE_NXRRSET = 8
RCODE_NOTAUTH = 9
RCODE_NOTZONE = 10
_RCODE_NAMES = {
    0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
    6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE",
}  # fmt: skip
_PREREQUISITE_FAILED = (RCODE_NXDOMAIN, RCODE_YXDOMAIN, RCODE_YXRRSET, RCODE_NXRRSET)


SIG0_REFUSED = (
    "SIG(0) cannot be used: BIND 9.18.28 and later, 9.20 included (Debian's BIND among them), removed "
    "SIG(0) verification (CVE-2024-1975) and refuse SIG(0)-signed updates; sign with TSIG instead: "
    "remove this option and set tsig_key_name and tsig_secret (make the key with tsig-keygen)"
)


def refuse_sig0(value: Any) -> str | None:
    """Any SIG(0) setting is an error at its own line: a user who reaches for SIG(0) learns why it
    cannot work with current servers and what to use, instead of an 'unknown key'."""
    return None if value is None else SIG0_REFUSED


def _rcode_name(rcode: int) -> str:
    return _RCODE_NAMES.get(rcode, f"RCODE{rcode}")


class Rfc2136Provider(ZoneProvider):
    """A primary server that accepts AXFR and DNS UPDATE (BIND, Knot, PowerDNS, ...)."""

    CONCURRENT_READS: ClassVar[bool] = True  # nothing is kept between read and apply
    TYPE: ClassVar[str] = "rfc2136"
    CAPABILITIES: ClassVar[Capabilities] = Capabilities(
        record_types=MANAGED_TYPES,
        lists_zone=True,
        ownership_store=MARKER_STORE,
        zone_ownership=True,
        checks_targets=True,  # BIND: "MX '...' has no address records"
    )
    OPTIONS: ClassVar[dict[str, Option]] = {
        "server": Option(str, required=True, description="host name or IP address of the primary server"),
        "port": Option(int, default=53, description="TCP port of the server"),
        "tsig_key_name": Option(str, description="name of the TSIG key (as in the server's key statement)"),
        "tsig_algorithm": Option(
            str, default="hmac-sha256", choices=dnswire.TSIG_ALGORITHMS, description="TSIG algorithm of the key"
        ),
        "tsig_secret": Option(str, secret=True, description="base64 secret of the TSIG key (from tsig-keygen)"),
        "timeout": Option((int, float), default=10, description="seconds to wait for the server at each step"),
        "deadline": Option(
            (int, float),
            default=int(DEFAULT_DEADLINE),
            description="seconds one zone read or one apply may take in all, however slowly the server answers",
            check=check_deadline,
        ),
        "sig0_key": Option((str, dict), description="SIG(0) key: refused, servers no longer verify SIG(0)",
                           check=refuse_sig0),
        "sig0_private_key": Option((str, dict), secret=True, check=refuse_sig0,
                                   description="SIG(0) private key: refused, servers no longer verify SIG(0)"),
    }  # fmt: skip

    def __init__(self, name: str, options: dict[str, Any], base_dir: str = ".") -> None:
        super().__init__(name, options, base_dir)
        self.server = str(options.get("server") or "")
        self.port = 53 if options.get("port") is None else options["port"]
        self.timeout = 10 if options.get("timeout") is None else options["timeout"]
        self.deadline = DEFAULT_DEADLINE if options.get("deadline") is None else options["deadline"]
        self.key_name = options.get("tsig_key_name") or None
        self.algorithm = options.get("tsig_algorithm") or "hmac-sha256"
        self._signer_cache: dnswire.TsigSigner | None = None
        self._prepared: tuple[Any, ...] | None = None  # prepare(): (zone, changes, owner, messages, first)
        # Sizes of the UPDATE messages of the last apply, for tests and benchmarks.
        self.sent_message_sizes: list[int] = []

    # ------------------------------------------------------------------ options

    def check_options(self) -> list[str]:
        problems = []
        secret = self.options.get("tsig_secret")
        if bool(self.key_name) != bool(secret):
            problems.append(
                "tsig_key_name and tsig_secret go together: set both to sign with TSIG, or neither for unsigned updates"
            )
        if secret and _decode_secret(secret) is None:
            problems.append('tsig_secret is not valid base64; copy the secret "..." from the tsig-keygen key file')
        if self.key_name:
            try:
                dnswire.name_to_wire(self.key_name if self.key_name.endswith(".") else self.key_name + ".")
            except (dnswire.WireError, UnicodeError):
                problems.append(f"tsig_key_name {shorten(repr(self.key_name))} is not a valid key name")
        if isinstance(self.port, int) and not 0 < self.port < 65536:
            problems.append(f"port {self.port} is outside 1..65535")
        timeout = self.options.get("timeout")
        if isinstance(timeout, bool) or (isinstance(timeout, (int, float)) and timeout <= 0):
            problems.append(f"timeout {shorten(repr(timeout))} must be a positive number of seconds")
        if self.server and (any(c.isspace() for c in self.server) or "/" in self.server):
            problems.append(
                f"server {shorten(repr(self.server))} must be a host name or IP address (no URL, no spaces)"
            )
        problems += self.declared_problems(self.options)
        return problems  # hmac-md5 is accepted; read() adds a warning to the plan

    def _signer(self) -> dnswire.TsigSigner | None:
        if not self.key_name:
            return None
        if self._signer_cache is None:
            secret = _decode_secret(self.options.get("tsig_secret") or "")
            if secret is None:
                raise ProviderError(f"{self._where()}: tsig_secret is not valid base64", "check the provider options")
            self._signer_cache = dnswire.TsigSigner(self.key_name, self.algorithm, secret)
        return self._signer_cache

    def _where(self) -> str:
        return f"rfc2136 provider '{self.name}' ({self.server}:{self.port})"

    def _key_label(self) -> str:
        return f"TSIG key '{self.key_name}'" if self.key_name else "unsigned requests (no TSIG key)"

    # ------------------------------------------------------------------ reading

    def read(self, zone: str, wanted: set[RecordKey]) -> ZoneState:
        # A transfer creates a few objects per record that all survive: with the cyclic GC on, its
        # rescans would take a quarter of the decode time of a large zone.
        with self._connection(_Step("reading the zone")) as conn, paused_gc():
            rrsets = self._axfr(conn, zone)
            if rrsets is None:
                self._check_zone_served(conn, zone)
                state = split_markers(zone, self._query_keys(conn, zone, wanted))
                state.complete = False
            else:
                state = split_markers(zone, rrsets)
        if self.key_name and self.algorithm == "hmac-md5":
            state.warnings.append(
                f"TSIG key '{self.key_name}' uses hmac-md5, which is weak and deprecated (RFC 8945); "
                "make a hmac-sha256 key with tsig-keygen"
            )
        return state

    def _axfr(self, conn: _Connection, zone: str) -> dict[RecordKey, RecordSet] | None:
        """The zone's record sets (SOA left out), or None when the server refuses the transfer."""
        signer = self._signer()
        msg_id = random.getrandbits(16)
        wire, mac = dnswire.make_query(msg_id, zone, dnswire.TYPE_AXFR, signer)
        verifier = signer.verifier(mac, multi=True) if signer else None
        conn.send(wire)
        collected: dict[RecordKey, list] = {}
        soa_seen = 0
        first = True
        type_name = dnswire.type_name
        while soa_seen < 2:
            reply = dnswire.parse_reply(conn.recv(), verifier)
            if reply.id != msg_id or not reply.is_response:
                raise dnswire.WireError("the transfer answer does not match the request")
            if reply.rcode != RCODE_NOERROR:
                if first and reply.rcode in (RCODE_REFUSED, RCODE_NOTAUTH):
                    return None
                raise ProviderError(
                    f"{self._where()}: zone transfer of {zone} failed ({_rcode_name(reply.rcode)})",
                    "check the server's log",
                )
            answer = reply.answer
            if first and (not answer or answer[0][1] != dnswire.TYPE_SOA or answer[0][0] != zone):
                raise ProviderError(f"{self._where()}: the zone transfer of {zone} does not start with its SOA")
            first = False
            for name, rtype, rclass, ttl, value in answer:
                if rtype == dnswire.TYPE_SOA and name == zone:
                    soa_seen += 1
                    continue
                if soa_seen >= 2:
                    raise dnswire.WireError("records after the closing SOA of the transfer")
                if rclass != dnswire.CLASS_IN:
                    continue
                key = (name, type_name(rtype))
                values = collected.get(key)
                if values is None:
                    collected[key] = [ttl, value]
                else:
                    values.append(value)
        if verifier is not None and not verifier.last_was_signed:
            raise dnswire.TsigError("unsigned", "the last message of the zone transfer is not signed")
        return {key: RecordSet(key[0], key[1], v[0], frozenset(v[1:])) for key, v in collected.items()}

    def _check_zone_served(self, conn: _Connection, zone: str) -> None:
        """After a refused transfer: tell 'transfer not allowed' from 'zone not served here'."""
        reply = self._pipelined(conn, [(zone, dnswire.TYPE_SOA)])[0]
        served = reply.rcode == RCODE_NOERROR and reply.authoritative
        if not served or not any(rr[1] == dnswire.TYPE_SOA and rr[0] == zone for rr in reply.answer):
            raise ProviderError(
                f"{self._where()}: the server does not serve zone {zone} (SOA query answered "
                f"{_rcode_name(reply.rcode)}{'' if reply.authoritative else ', not authoritative'})",
                "check the zone name and that this server is its primary",
            )

    def _query_keys(self, conn: _Connection, zone: str, wanted: set[RecordKey]) -> dict[RecordKey, RecordSet]:
        """Record sets of `wanted` and their markers, asked one by one (the fallback read)."""
        questions: list[tuple[str, int]] = []
        seen: set[tuple[str, int]] = set()
        for key in sorted(wanted):
            for name, rtype in ((key[0], key[1]), (marker_name(key, zone), "TXT")):
                question = (name, dnswire.type_code(rtype))
                if question not in seen:
                    seen.add(question)
                    questions.append(question)
        result: dict[RecordKey, RecordSet] = {}
        for (qname, qtype), reply in zip(questions, self._pipelined(conn, questions), strict=True):
            if reply.rcode not in (RCODE_NOERROR, RCODE_NXDOMAIN):
                raise ProviderError(
                    f"{self._where()}: query for {qname} {dnswire.type_name(qtype)} failed "
                    f"({_rcode_name(reply.rcode)})",
                    "check the server's allow-query for this client",
                )
            records = list(reply.answer)
            if qtype == dnswire.TYPE_NS and not reply.authoritative:
                records += reply.authority  # a delegation below the apex answers with a referral
            _collect(result, records, qname, qtype)
        return result

    def _pipelined(self, conn: _Connection, questions: list[tuple[str, int]]) -> list[dnswire.Reply]:
        """Send the questions over one connection, up to PIPELINE_WINDOW in flight; replies in order."""
        signer = self._signer()
        replies: list[dnswire.Reply | None] = [None] * len(questions)
        pending: dict[int, tuple[int, dnswire.TsigVerifier | None]] = {}
        next_id = random.getrandbits(16)
        sent = 0
        while sent < len(questions) or pending:
            if sent < len(questions) and len(pending) <= PIPELINE_WINDOW // 2:
                burst = []  # one write per burst: fewer packets and wake-ups than one per query
                while sent < len(questions) and len(pending) < PIPELINE_WINDOW:
                    msg_id = next_id
                    next_id = (next_id + 1) & 0xFFFF
                    wire, mac = dnswire.make_query(msg_id, *questions[sent], signer)
                    pending[msg_id] = (sent, signer.verifier(mac) if signer else None)
                    burst.append(wire)
                    sent += 1
                conn.send(*burst)
            data = conn.recv()
            if len(data) < 2:
                raise dnswire.WireError("short answer")
            msg_id = int.from_bytes(data[:2], "big")
            if msg_id not in pending:
                raise dnswire.WireError("an answer to a question that was not asked")
            index, verifier = pending.pop(msg_id)
            reply = dnswire.parse_reply(data, verifier)
            if verifier is not None and not reply.signed and reply.rcode == RCODE_NOERROR:
                raise dnswire.TsigError("unsigned", "the response is not signed with TSIG")
            replies[index] = reply
        return replies  # type: ignore[return-value]

    # ------------------------------------------------------------------ writing

    def prepare(self, zone: str, changes: list[Change], owner: str | None) -> None:
        self._prepared = None
        if changes:
            with suppress(FleetDNSError, dnswire.WireError):  # apply() meets it again and reports it
                self._prepared = (zone, changes, owner, *self._first_message(zone, changes, owner))

    def apply(
        self,
        zone: str,
        changes: list[Change],
        owner: str | None,
        progress: Progress | None = None,
        meanwhile: Meanwhile | None = None,
    ) -> None:
        self.sent_message_sizes = []
        prepared, self._prepared = self._prepared, None
        if not changes:
            return
        signer = self._signer()
        if prepared is not None and prepared[0] == zone and prepared[1] is changes and prepared[2] == owner:
            messages, upcoming = prepared[3:]
        else:
            messages, upcoming = self._first_message(zone, changes, owner)
        total = len(changes)
        done = 0
        step = _Step("applying changes")
        with self._connection(step) as conn:
            index = 0
            while upcoming is not None:
                message, batch = upcoming
                if index:
                    step.text = (
                        f"sending update message {index + 1} (the {index} before it, {done} of {total} "
                        "change(s), were applied; whether this one was is unknown: re-run plan)"
                    )
                wire, mac = signer.sign(message.to_wire()) if signer else (message.to_wire(), b"")
                conn.send(wire)
                sent_at = time.time()
                self.sent_message_sizes.append(len(wire))
                upcoming = next(messages, None)
                if upcoming is None and meanwhile is not None:
                    conn.aside(meanwhile)  # the server is busy with the last message: the caller's turn
                    meanwhile = None
                # The answer may have waited while the caller's work ran (another zone, maybe minutes).
                reply = dnswire.parse_reply(conn.recv(), signer.verifier(mac, sent_at=sent_at) if signer else None)
                if reply.id != message.msg_id or not reply.is_response:
                    raise dnswire.WireError("the answer does not match the update")
                if reply.rcode != RCODE_NOERROR:
                    self._update_failed(conn, zone, owner, reply, batch, index, done, total)
                if signer is not None and not reply.signed:
                    raise dnswire.TsigError("unsigned", "the response is not signed with TSIG")
                done += len(batch)
                index += 1
                if progress:
                    progress(done, total)

    def _first_message(
        self, zone: str, changes: list[Change], owner: str | None
    ) -> tuple[Iterator[tuple[dnswire.UpdateMessage, list[Change]]], tuple[dnswire.UpdateMessage, list[Change]] | None]:
        """The messages of an apply and the first of them, encoded. Every group is checked to fit one
        message before anything is sent; the later messages are encoded one ahead, while the server
        applies the previous one (about 0.1 s of a 10,000-record apply), and each is sent only after
        the one before it succeeded."""
        signer = self._signer()
        messages = self._pack(zone, changes, owner, dnswire.MAX_MESSAGE - (signer.overhead if signer else 0))
        return messages, next(messages, None)

    def _pack(
        self, zone: str, changes: list[Change], owner: str | None, limit: int
    ) -> Iterator[tuple[dnswire.UpdateMessage, list[Change]]]:
        """Group changes by owner name and pack the groups into as few messages as fit `limit` bytes.

        Raises ProviderError, before yielding anything, when a name or value cannot be encoded or
        one group alone cannot fit a message: the lazy encoding of the messages then cannot fail."""
        groups: dict[str, list[Change]] = {}
        for change in changes:
            groups.setdefault(change.name, []).append(change)
        ordered = sorted(groups.items(), key=lambda item: _address_order(item[1]))
        marker_rdata = dnswire.encode_rdata("TXT", marker_value(owner)) if owner is not None else None
        for name, group in ordered:
            try:
                bound = _size_bound(zone, group, marker_rdata)
            except dnswire.WireError as exc:
                raise ProviderError(
                    f"zone {zone}: {shorten(relative_name(name, zone))}: {exc}; nothing was sent",
                    "fix or remove this record in the inventory",
                ) from None
            if bound > limit:  # rare: only large record sets get here
                probe = dnswire.UpdateMessage(zone)
                _encode_group(probe, zone, group, marker_rdata)
                if probe.size > limit:
                    raise ProviderError(
                        f"zone {zone}: the changes at {relative_name(name, zone)} need {probe.size} bytes, more "
                        f"than one UPDATE message can carry ({limit} bytes with TSIG)",
                        "split the record set into fewer or shorter values",
                    )
        return self._messages(zone, ordered, marker_rdata, limit)

    @staticmethod
    def _messages(
        zone: str, ordered: list[tuple[str, list[Change]]], marker_rdata: bytes | None, limit: int
    ) -> Iterator[tuple[dnswire.UpdateMessage, list[Change]]]:
        next_id = random.getrandbits(16)
        message = dnswire.UpdateMessage(zone, next_id)
        batch: list[Change] = []
        for _name, group in ordered:
            mark = message.mark()
            _encode_group(message, zone, group, marker_rdata)
            if message.size > limit:
                message.rollback(mark)
                yield (message, batch)  # not empty: _pack checked that every group fits on its own
                next_id = (next_id + 1) & 0xFFFF
                message, batch = dnswire.UpdateMessage(zone, next_id), []
                _encode_group(message, zone, group, marker_rdata)
            batch.extend(group)
        if not message.empty:
            yield (message, batch)

    def _update_failed(
        self,
        conn: _Connection,
        zone: str,
        owner: str | None,
        reply: dnswire.Reply,
        batch: list[Change],
        index: int,
        done: int,
        total: int,
    ) -> None:
        rcode = reply.rcode
        name = _rcode_name(rcode)
        progress = (
            f"{index} update message(s) before it ({done} of {total} change(s)) had been applied; "
            "this one and the rest were not"
            if index
            else "nothing was changed"
        )
        if rcode in _PREREQUISITE_FAILED:
            changed = self._find_changed(conn, zone, owner, batch) or [_label(c.key, zone) for c in batch]
            raise ChangedSinceReadError(
                f"zone {zone}: {_listing(changed)} changed since plan (server answered {name}); {progress}",
                "re-run plan",
            )
        if rcode == RCODE_REFUSED:
            raise self._refused(conn, zone, owner, batch, progress)
        if rcode == RCODE_NOTAUTH:
            raise ProviderError(
                f"{self._where()}: the server answered NOTAUTH to the update of zone {zone}: it is not "
                f"authoritative for that zone (it does not serve it, or serves it as a secondary that does not "
                f"forward updates); {progress}",
                "point the provider's server at the zone's primary, and check the zone name",
            )
        if rcode == RCODE_NOTZONE:
            raise ProviderError(f"{self._where()}: a name in the update is outside zone {zone} (NOTZONE); {progress}")
        if rcode == RCODE_SERVFAIL:
            raise ProviderError(
                f"{self._where()}: the server failed to apply the update to zone {zone} (SERVFAIL); {progress}",
                "see the server's log (zone not loaded, journal not writable, ...)",
            )
        if rcode == RCODE_NOTIMP:
            raise ProviderError(f"{self._where()}: the server does not implement DNS UPDATE (NOTIMP)")
        raise ProviderError(f"{self._where()}: the server rejected the update of zone {zone} ({name}); {progress}")

    def _refused(
        self, conn: _Connection, zone: str, owner: str | None, batch: list[Change], progress: str
    ) -> ProviderError:
        """A REFUSED update, with its cause. The answer carries no reason (BIND only logs one), and BIND
        refuses an update for two reasons: an MX or NS target inside the zone left without an address
        (its integrity check) or a change its update-policy / allow-update does not grant. The first
        is asked of the server itself; what remains is the second."""
        labels = _listing([_label(c.key, zone) for c in batch])
        missing = self._targets_without_address(conn, zone, batch)
        if missing:
            return ProviderError(
                f"{self._where()}: the server refused the update of zone {zone} (REFUSED) because "
                f"{'; '.join(missing)}: BIND refuses a whole update that leaves an MX or NS target in the zone "
                f'without an A or AAAA record (its log: "has no address records (A or AAAA)"); {progress}',
                "add an address for the target in the same apply, or point the record elsewhere",
            )
        markers = " and their _fleetdns markers" if owner is not None else ""
        return ProviderError(
            f"{self._where()}: the server refused the update of zone {zone} (REFUSED) for {labels}: its "
            f"update-policy (or allow-update) does not grant {self._key_label()} these changes{markers} (BIND "
            f'logs it as "rejected by secure update"); {progress}',
            "grant the key these names and types in the zone's update-policy (or use a key that has them)",
        )

    def _targets_without_address(self, conn: _Connection, zone: str, batch: list[Change]) -> list[str]:
        """'@ MX points at backup-mx, which has no address record' for each MX/NS the batch writes whose
        target in the zone has no A/AAAA on the server and gets none from the batch ([] when unsure)."""
        given = {c.name for c in batch if c.type in ("A", "AAAA") and c.after is not None and c.after.values}
        pointing: dict[str, list[str]] = {}
        for change in batch:
            if change.type not in ("MX", "NS") or change.after is None:
                continue
            for value in change.after.values:
                target = value.split()[-1]
                inside = target == zone or target.endswith("." + zone)
                if inside and target not in given and (change.type == "MX" or change.name == zone):
                    pointing.setdefault(target, []).append(_label(change.key, zone))
        if not pointing:
            return []
        try:
            held = self._query_keys(conn, zone, {(t, rtype) for t in pointing for rtype in ("A", "AAAA")})
        except _EXPLAINING_FAILED:
            return []
        return [
            f"{', '.join(sorted(set(labels)))} points at {relative_name(target, zone)}, which has no address record"
            for target, labels in sorted(pointing.items())
            if not held.get((target, "A")) and not held.get((target, "AAAA"))
        ]

    def _find_changed(self, conn: _Connection, zone: str, owner: str | None, batch: list[Change]) -> list[str]:
        """Which pinned record sets of a rejected batch differ now (best effort: [] when unsure)."""
        keys = {c.key for c in batch}
        try:
            now = split_markers(zone, self._query_keys(conn, zone, keys))
        except _EXPLAINING_FAILED:
            return []
        changed = []
        for change in batch:
            have = now.records.get(change.key)
            data_moved = change.changes_data and (
                (have.values if have else None) != (change.before.values if change.before else None)
            )
            holder = now.owners.get(change.key)
            marker_moved = (
                owner is not None
                and (change.owned_before or change.owned_after)
                and ((holder == owner) != change.owned_before or (not change.owned_before and holder is not None))
            )
            if data_moved or marker_moved:
                changed.append(_label(change.key, zone))
        return changed

    # ------------------------------------------------------------------ transport and errors

    @contextmanager
    def _connection(self, step: _Step) -> Iterator[_Connection]:
        """One TCP connection; every network, protocol and TSIG failure becomes one ProviderError line
        saying what was under way (`step.text`, updated as the work goes on)."""
        where = self._where()
        conn = None
        try:
            conn = _Connection(self.server, self.port, float(self.timeout), Deadline(float(self.deadline)))
            yield conn
        except DeadlineExceeded:
            raise ProviderError(
                f"{where}: gave up after {self.deadline:g} s (the provider's deadline) while {step.text}: "
                "the server answers, but too slowly",
                "check the server and the network; for a very large zone or a slow link raise the option 'deadline'",
            ) from None
        except TimeoutError:
            raise ProviderError(
                f"{where}: no answer within {self.timeout} s while {step.text}",
                "check server and port, and that the server answers DNS over TCP",
            ) from None
        except ConnectionRefusedError:
            raise ProviderError(
                f"{where}: connection refused while {step.text}",
                "check server and port, and that the DNS server is running and listens on TCP",
            ) from None
        except (ConnectionResetError, BrokenPipeError, EOFError):
            raise ProviderError(
                f"{where}: the server closed the connection while {step.text}",
                "see the server's log (a too large message or a TCP client limit)",
            ) from None
        except socket.gaierror as exc:
            raise ProviderError(
                f"{where}: cannot resolve the server name ({exc.strerror})", "check the server option"
            ) from None
        except dnswire.TsigError as exc:
            raise self._tsig_error(exc, step.text) from None
        except dnswire.WireError as exc:
            raise ProviderError(f"{where}: malformed answer while {step.text} ({exc})") from None
        except OSError as exc:
            raise ProviderError(f"{where}: network error while {step.text}: {exc.strerror or exc}") from None
        finally:
            if conn is not None:
                conn.close()

    def _tsig_error(self, exc: dnswire.TsigError, action: str) -> ProviderError:
        where, key = self._where(), self._key_label()
        if exc.code == "peer-badsig":
            return ProviderError(
                f"{where}: the server rejected the signature of {key} while {action} (BADSIG): the secret does "
                "not match the server's",
                "check tsig_secret",
            )
        if exc.code == "peer-badkey":
            return ProviderError(
                f"{where}: the server does not know {key} with algorithm {self.algorithm} while {action} (BADKEY)",
                "check tsig_key_name and tsig_algorithm against the server's key statement",
            )
        if exc.code in ("peer-badtime", "badtime"):
            return ProviderError(
                f"{where}: TSIG time check failed while {action} (BADTIME): this machine's clock and the "
                "server's differ by more than 5 minutes",
                "synchronise the clocks (NTP)",
            )
        if exc.code == "unsigned":
            return ProviderError(f"{where}: {exc} while {action}; the answer cannot be trusted", "check the server")
        return ProviderError(
            f"{where}: {exc} while {action}; the secret of {key} may be wrong or the answer was tampered with",
            "check tsig_secret",
        )


class _Step:
    """What a connection is doing, for the error message if it fails."""

    def __init__(self, text: str) -> None:
        self.text = text


class _Connection:
    """A TCP connection carrying length-prefixed DNS messages (RFC 1035 §4.2.2). `timeout` bounds
    each wait; `deadline` the whole connection (DeadlineExceeded when it passes)."""

    def __init__(self, server: str, port: int, timeout: float, deadline: Deadline) -> None:
        self._timeout = timeout
        self._deadline = deadline
        self._wait = deadline.wait(timeout)
        try:
            self._sock = socket.create_connection((server, port), timeout=self._wait)
        except TimeoutError:
            self._check_deadline()
            raise
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = bytearray()

    def aside(self, work: Callable[[], None]) -> None:
        """Run the caller's `work` while the server answers; its time does not count against the
        deadline (the answer waits in the socket, and the work may be another server's apply)."""
        started = time.monotonic()
        try:
            work()
        finally:
            self._deadline.extend(time.monotonic() - started)

    def _ready(self) -> None:
        """The socket timeout for the next wait: the per-step timeout, or what is left of the deadline."""
        wait = self._deadline.wait(self._timeout)
        if wait != self._wait:
            self._sock.settimeout(wait)
            self._wait = wait

    def _check_deadline(self) -> None:
        """After a timed-out wait: it was the deadline when the deadline has passed."""
        if self._deadline.expired:
            raise DeadlineExceeded from None

    def send(self, *wires: bytes) -> None:
        self._ready()
        try:
            self._sock.sendall(b"".join(len(wire).to_bytes(2, "big") + wire for wire in wires))
        except TimeoutError:
            self._check_deadline()
            raise

    def recv(self) -> bytes:
        buffer = self._buffer
        while len(buffer) < 2:
            self._fill()
        length = (buffer[0] << 8) | buffer[1]
        while len(buffer) < 2 + length:
            self._fill()
        message = bytes(buffer[2 : 2 + length])
        del buffer[: 2 + length]
        return message

    def _fill(self) -> None:
        self._ready()
        try:
            chunk = self._sock.recv(262144)
        except TimeoutError:
            self._check_deadline()
            raise
        if not chunk:
            raise EOFError
        self._buffer += chunk

    def close(self) -> None:
        self._sock.close()


def _decode_secret(secret: str) -> bytes | None:
    try:
        decoded = base64.b64decode("".join(str(secret).split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded or None


def _encode_group(message: dnswire.UpdateMessage, zone: str, group: list[Change], marker_rdata: bytes | None) -> None:
    """The prerequisites and updates of all changes at one owner name (see the module docstring);
    without `marker_rdata` (a zone owned whole) no marker is pinned or written."""
    txt = dnswire.TYPE_TXT
    encode = dnswire.encode_rdata
    # (change, type code, data changes, marker name or None): worked out once, used by every pass.
    facts = [
        (
            change,
            dnswire.type_code(change.type),
            change.changes_data,
            marker_name(change.key, zone)
            if marker_rdata is not None and (change.owned_before or change.owned_after)
            else None,
        )
        for change in group
    ]
    for change, code, data, marker in facts:
        if data:
            if change.before is None:
                message.require_no_rrset(change.name, code)
            else:
                message.require_rrset_values(
                    change.name, code, [encode(change.type, v) for v in change.before.sorted_values()]
                )
        if marker is None:
            continue
        if change.owned_before:
            message.require_rrset_values(marker, txt, [marker_rdata])
        elif change.owned_after:
            message.require_no_rrset(marker, txt)
    for change, code, data, _marker in facts:
        if data and change.before is not None and change.after is None:
            message.delete_rrset(change.name, code)
    for change, code, data, _marker in facts:
        before, after = change.before, change.after
        if data and before is not None and after is not None:
            retimed = before.ttl != after.ttl
            for value in after.sorted_values():
                if retimed or value not in before.values:
                    message.add(change.name, code, after.ttl, encode(change.type, value))
            for value in sorted(before.values - after.values):
                message.delete_rr(change.name, code, encode(change.type, value))
    for change, code, data, _marker in facts:
        after = change.after
        if data and change.before is None and after is not None:
            for value in after.sorted_values():
                message.add(change.name, code, after.ttl, encode(change.type, value))
    for change, _code, _data, marker in facts:
        if marker is not None and change.changes_owner:
            if change.owned_after:
                message.add(marker, txt, _marker_ttl(change), marker_rdata)
            else:
                message.delete_rrset(marker, txt)


# Absolute names of letters, digits, '-', '_' and '*' in labels of 1-63 characters, which
# dnswire.name_to_wire always encodes: checked by one regular expression instead of label by label.
_PLAIN_NAME = re.compile(r"(?:[A-Za-z0-9_*-]{1,63}\.)+").fullmatch


def _size_bound(zone: str, group: list[Change], marker_rdata: bytes | None) -> int:
    """More bytes than _encode_group can add for `group`, cheaply: every name counted uncompressed
    and every record _encode_group might write counted, so only a group above the bound needs the
    exact check. Every name, value and TTL is encoded or checked on the way (WireError if one is
    not valid), so the messages built later cannot fail half-way through an apply."""
    total = 12 + len(zone) + 6  # header and zone section
    encode = dnswire.encode_rdata
    names: set[str] = set()
    for change in group:
        if change.name not in names:
            if not _PLAIN_NAME(change.name):  # a plain name encodes; any other is checked in full
                dnswire.name_to_wire(change.name)
            names.add(change.name)
        if change.after is not None and not 0 <= change.after.ttl <= dnswire.MAX_TTL:
            raise dnswire.WireError(f"{change.type} TTL {change.after.ttl} is outside 0..{dnswire.MAX_TTL}")
        record = len(change.name) + 12  # owner name (text length + 1 covers its wire form) + fixed fields
        marker = record + len(change.type) + 20 + len(marker_rdata or b"")  # "<t>.", "_fleetdns.", "wildcard-"
        before = change.before.values if change.before else ()
        after = change.after.values if change.after else ()
        rdata = 2 * sum(len(encode(change.type, v)) for v in before) + sum(len(encode(change.type, v)) for v in after)
        total += record * (2 * len(before) + len(after) + 2) + rdata + 2 * marker
    return total


def _address_order(group: list[Change]) -> int:
    """Groups that add addresses go first and groups that remove them last (a stable sort keeps the
    plan's order otherwise): BIND refuses a message that leaves an in-zone MX or NS target without
    an address, so when a large apply spans several messages the addresses must lead."""
    adds = removes = False
    for change in group:
        if change.type in ("A", "AAAA") and change.changes_data:
            adds = adds or change.after is not None
            removes = removes or change.after is None
    return 0 if adds else (2 if removes else 1)


def _marker_ttl(change: Change) -> int:
    rrset = change.after or change.before
    return rrset.ttl if rrset else DEFAULT_MARKER_TTL


def _collect(result: dict[RecordKey, RecordSet], records: list[dnswire.RR], qname: str, qtype: int) -> None:
    """Add the answer records owned by `qname` of type `qtype` (or a CNAME standing there)."""
    found: dict[int, tuple[int, set[str]]] = {}
    for name, rtype, rclass, ttl, value in records:
        if name != qname or rclass != dnswire.CLASS_IN or rtype not in (qtype, dnswire.TYPE_CNAME):
            continue
        entry = found.setdefault(rtype, (ttl, set()))
        entry[1].add(value)
    for rtype, (ttl, values) in found.items():
        type_name = dnswire.type_name(rtype)
        result[(qname, type_name)] = RecordSet(qname, type_name, ttl, frozenset(values))


def _label(key: RecordKey, zone: str) -> str:
    return f"{relative_name(key[0], zone)} {key[1]}"


def _listing(labels: list[str], shown: int = 5) -> str:
    if len(labels) <= shown:
        return ", ".join(labels)
    return f"{', '.join(labels[:shown])} and {len(labels) - shown} more"
