"""The agent's work: one pass (detect -> ask DNS -> update where it differs -> verify), the
long-running loop around it, and the status report.

A pass treats every name through every provider on its own: one failing does not stop the
others. For each, the authoritative servers are asked first and nothing is sent when they already
hold the address. A zone provider (rfc2136 with the device's own key, ...) is updated through the
one planner (plan.plan_zone) with the name's record set of that family as the only wanted one, so
the other family and every record set fleetdns does not own stay as they are; an update-only
service through its `set_addresses`. Then the authoritative servers are asked until they answer
the new address or `verify_deadline` passes.

Every decision is one log line (detected, unchanged, updated, verified, failed, backing off,
stopped), scrubbed of every secret of the config file.
"""

from __future__ import annotations

import random
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .agent_config import OWNERSHIP_KEY, RTYPES, AgentConfig, AgentName, AgentProvider
from .agent_detect import Detected, detect_all
from .agent_lookup import AuthoritativeLookup, zone_servers
from .agent_notify import NotifyError, post_json
from .agent_schedule import Timing, serve
from .agent_state import AgentState, EntryState, backoff_delay, entry_key, load_state, save_state
from .errors import FleetDNSError, ProviderError, shorten
from .ownership import ZoneState
from .plan import Intent, Wording, plan_zone
from .providers import provider_class
from .providers.base import UpdateOnlyProvider, ZoneProvider
from .records import RecordKey, RecordSet
from .redact import Redactor

Log = Callable[[str], None]
Lookup = Callable[[str, str], frozenset[str]]

# Outcomes of one name through one provider.
UNCHANGED, UPDATED, FAILED, BACKING_OFF, STOPPED, SKIPPED = (
    "unchanged", "updated", "failed", "backing-off", "stopped", "skipped",
)  # fmt: skip
GOOD_OUTCOMES = (UNCHANGED, UPDATED)

# Words in a refusal that mean retrying cannot help until the configuration changes: DDNS
# services' answers (dyndns2 `badauth`, `abuse`, `nohost`, `!donator`, `badagent`, `notfqdn`),
# HTTP's authentication statuses and a DNS server's refusal or unknown key.
FORBID_RETRY = (
    "badauth", "abuse", "nohost", "!donator", "badagent", "notfqdn", "numhost",
    "(refused)", "(badsig)", "(badkey)", "http 401", "http 403", "unauthorized", "forbidden",
)  # fmt: skip

AGENT_WORDING = Wording(
    adopt="fleetdns apply --adopt",
    set_adopt="register the name with `fleetdns apply --adopt` on the inventory that lists it",
    other_ways="",
    wanted="the agent's",
    incomplete="",
)


class NotRegisteredError(FleetDNSError):
    """The name's record set is not marked as the owner's: the agent would have to take it over."""


class VerifyError(FleetDNSError):
    """The update was accepted, but the authoritative servers did not answer it in time."""


@dataclass
class Outcome:
    name: str
    provider: str
    status: str
    message: str = ""
    due: float | None = None  # backing off: when (clock time) the entry may be tried again


@dataclass
class PassResult:
    detected: dict[int, Detected] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.outcomes) and all(o.status in GOOD_OUTCOMES for o in self.outcomes)

    @property
    def due(self) -> float | None:
        """The earliest time an entry that is backing off may be tried again (None: none is)."""
        return min((o.due for o in self.outcomes if o.due is not None), default=None)


def forbids_retry(exc: BaseException) -> bool:
    """Whether a provider's refusal means: do not ask again until the configuration changes.

    A provider may say so itself with a `retry` attribute on its error (False: never retry);
    otherwise the words of the refusal decide (FORBID_RETRY)."""
    flag = getattr(exc, "retry", None)
    if flag is not None:
        return not flag
    if not isinstance(exc, ProviderError):
        return False
    text = str(exc).lower()
    return any(word in text for word in FORBID_RETRY)


class Agent:
    """One device's agent over a validated config. `clock`, `sleep`, `rand` and `lookup_for` are
    there so tests can run passes without waiting or touching the internet."""

    def __init__(
        self,
        config: AgentConfig,
        log: Log,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        lookup_for: Callable[[AgentProvider, AgentName], Lookup] | None = None,
        base_dir: str = ".",
    ) -> None:
        self.config = config
        self.redactor = Redactor(config.secrets)
        self._log = log
        self.clock = clock
        self.sleep = sleep
        self.rand = rand
        self.lookup_for = lookup_for or self._default_lookup
        self.base_dir = base_dir
        self.state = load_state(config.state_file)
        for note in self.state.notes:
            self.log(f"note: {note}")

    def log(self, line: str) -> None:
        self._log(self.redactor.scrub(line))

    # ---- one pass

    def run_once(self) -> PassResult:
        result = PassResult(detect_all(self.config.detect, self.config.allow_non_global))
        for family, found in result.detected.items():
            if found.address:
                self.log(f"detected IPv{family} {found.address} ({found.how})")
            else:
                self.log(f"failed: IPv{family} not detected ({found.how}): {shorten(found.error, 300)}")
        for name in self.config.names:
            wanted = {
                RTYPES[f]: result.detected[f].address
                for f in name.families
                if f in result.detected and result.detected[f].address
            }
            for provider_name in name.providers:
                provider = self.config.providers[provider_name]
                outcome = self._one(name, provider, wanted)
                result.outcomes.append(outcome)
                save_state(self.config.state_file, self.state)
        return result

    def _one(self, name: AgentName, provider: AgentProvider, wanted: dict[str, str]) -> Outcome:
        entry = self.state.entry(name.name, provider.name)
        digest = self.state.digest(self.config.entry_settings(name, provider))
        if entry.config_hash != digest:
            entry.config_hash, entry.stopped, entry.retry_after, entry.failures = digest, None, None, 0
        where = f"{name.name.rstrip('.')} via {provider.name}"
        if entry.stopped:
            self.log(f"stopped: {where}: {entry.stopped}; change the config file to try again")
            return Outcome(name.name, provider.name, STOPPED, entry.stopped)
        if not wanted:
            message = "no address detected for its families; nothing to publish"
            self.log(f"skipped: {where}: {message}")
            return Outcome(name.name, provider.name, SKIPPED, message)
        now = self.clock()
        try:
            lookup = self.lookup_for(provider, name)
            before = {rtype: lookup(name.name, rtype) for rtype in wanted}
        except FleetDNSError as exc:
            return self._failed(entry, where, name, provider, exc, now)
        if all(before[rtype] == {address} for rtype, address in wanted.items()):
            entry.confirmed(wanted, now, verified=False)
            self.log(f"unchanged: {where}: already published: {_shown(wanted)}")
            return Outcome(name.name, provider.name, UNCHANGED)
        if entry.retry_after is not None and now < entry.retry_after:
            message = f"{entry.failures} failure(s) in a row; next try in {entry.retry_after - now:.0f} s"
            self.log(f"backing off: {where}: {message} (last error: {entry.last_error})")
            return Outcome(name.name, provider.name, BACKING_OFF, message, entry.retry_after)
        least = self.config.settings["min_update_interval"]
        if entry.last_attempt is not None and now - entry.last_attempt < least:
            message = f"last update {now - entry.last_attempt:.0f} s ago; at most one every {least:g} s"
            self.log(f"backing off: {where}: {message}")
            return Outcome(name.name, provider.name, BACKING_OFF, message, entry.last_attempt + least)
        entry.last_attempt = now
        save_state(self.config.state_file, self.state)  # a restart mid-update does not send again at once
        try:
            sent = self._update(name, provider, wanted, lookup)
            if sent:
                entry.last_update = self.clock()
                entry.updates += 1
                self.log(f"updated: {where}: {_shown(wanted)} (was {_shown_sets(before)})")
                self._notify("updated", name, provider, wanted, None)
            else:
                self.log(f"unchanged: {where}: the provider already holds {_shown(wanted)}; verifying")
            self._verify(name, wanted, lookup, where)
        except FleetDNSError as exc:
            return self._failed(entry, where, name, provider, exc, self.clock())
        except OSError as exc:  # a local file (zone file, key) or the network, outside a provider's own errors
            failure = ProviderError(f"provider '{provider.name}': {exc.strerror or exc}")
            return self._failed(entry, where, name, provider, failure, self.clock())
        entry.confirmed(wanted, self.clock(), verified=True)
        self.log(f"verified: {where}: the authoritative servers answer {_shown(wanted)}")
        return Outcome(name.name, provider.name, UPDATED)

    def _failed(
        self, entry: EntryState, where: str, name: AgentName, provider: AgentProvider, exc: FleetDNSError, now: float
    ) -> Outcome:
        message = self.redactor.scrub(" ".join(str(exc).split()))
        if forbids_retry(exc):
            entry.failed(message, now, None, stop=True)
            self.log(f"failed: {where}: {message}")
            self.log(f"stopped: {where}: the answer forbids retrying; change the config file to try again")
            self._notify("failed", name, provider, {}, message)
            return Outcome(name.name, provider.name, STOPPED, message)
        settings = self.config.settings
        delay = backoff_delay(entry.failures + 1, settings["backoff_initial"], settings["backoff_max"], self.rand)
        entry.failed(message, now, now + delay, stop=False)
        self.log(f"failed: {where}: {message}")
        self.log(f"backing off: {where}: next try in {delay:.0f} s ({entry.failures} failure(s) in a row)")
        self._notify("failed", name, provider, {}, message)
        return Outcome(name.name, provider.name, FAILED, message, entry.retry_after)

    def _update(self, name: AgentName, provider: AgentProvider, wanted: dict[str, str], lookup: Lookup) -> bool:
        """Send the update; False when the provider found nothing to change after all."""
        cls = provider_class(provider.config.type)
        if cls is None:  # validation rules this out
            raise FleetDNSError(f"unknown provider type {provider.config.type!r}")
        with cls(provider.name, provider.config.options, self.base_dir) as backend:
            if isinstance(backend, UpdateOnlyProvider):
                addresses = {rtype: frozenset({address}) for rtype, address in wanted.items()}
                return backend.set_addresses(name.name, addresses, lookup).sent
            if isinstance(backend, ZoneProvider):
                return self._zone_update(backend, name, provider, wanted)
        raise FleetDNSError(f"provider type {provider.config.type!r} is of no kind the agent knows")

    def _zone_update(
        self, backend: ZoneProvider, name: AgentName, provider: AgentProvider, wanted: dict[str, str]
    ) -> bool:
        zone = provider.zone or ""
        ttl = self.config.ttl_for(name, provider)
        keys: set[RecordKey] = {(name.name, rtype) for rtype in wanted}
        records = {(name.name, rtype): RecordSet(name.name, rtype, ttl, frozenset({a})) for rtype, a in wanted.items()}
        whole = provider.ownership == OWNERSHIP_KEY
        current: ZoneState = backend.read(zone, keys)
        intent = Intent(records, frozenset(keys), prune=False, whole_zone=whole)
        planned = plan_zone(intent, current, zone, provider.owner, AGENT_WORDING)
        taking = [c for c in planned.changes if c.changes_owner]
        if taking and not whole:
            labels = ", ".join(f"{c.name} {c.type}" for c in taking)
            raise NotRegisteredError(
                f"{labels} is not registered to owner '{provider.owner}' (no ownership marker), so the agent "
                "does not write it",
                "list the name in fleetdns_names and run `fleetdns apply`, or set the provider's ownership to "
                "'key' when the device's key alone decides what it may change",
            )
        changes = [c for c in planned.changes if c.changes_data]
        if not changes:
            return False
        backend.apply(zone, changes, None if whole else provider.owner)
        return True

    def _verify(self, name: AgentName, wanted: dict[str, str], lookup: Lookup, where: str) -> None:
        settings = self.config.settings
        ends = time.monotonic() + settings["verify_deadline"]
        while True:
            now = {rtype: lookup(name.name, rtype) for rtype in wanted}
            if all(now[rtype] == {address} for rtype, address in wanted.items()):
                return
            if time.monotonic() >= ends:
                raise VerifyError(
                    f"the authoritative servers still answer {_shown_sets(now)} instead of {_shown(wanted)} "
                    f"{settings['verify_deadline']:g} s after the update",
                    "check that the provider serves this name and that the zone's servers are in sync",
                )
            self.sleep(settings["verify_interval"])

    def _default_lookup(self, provider: AgentProvider, name: AgentName) -> Lookup:
        if provider.verify_servers:
            return AuthoritativeLookup(provider.verify_servers)
        cls = provider_class(provider.config.type)
        if cls is not None and issubclass(cls, ZoneProvider):
            return _ProviderLookup(cls(provider.name, provider.config.options, self.base_dir), provider.zone or "")
        return AuthoritativeLookup(zone_servers(name.name, provider.zone))

    # ---- notifications

    def _notify(
        self, event: str, name: AgentName, provider: AgentProvider, addresses: dict[str, str], error: str | None
    ) -> None:
        """POST one JSON event to the webhook; a failure to deliver is logged, never fatal."""
        url = self.config.webhook
        if not url:
            return
        body = {"event": event, "name": name.name, "provider": provider.name, "addresses": addresses}
        if error:
            body["error"] = error
        try:
            post_json(url, body)
        except NotifyError as exc:  # the URL may hold a token: only its host is named
            what = self.redactor.scrub(str(exc))
            self.log(f"failed: webhook to {urllib.parse.urlsplit(url).hostname}: {what}")

    # ---- the long-running mode

    def run_forever(self, stop: threading.Event, trigger: threading.Event | None = None) -> None:
        """Pass after pass until `stop` is set, scheduled by agent_schedule.serve: every `interval`
        (+/- `jitter`) seconds, sooner when an update held back (backoff, min_update_interval)
        becomes due or `trigger` is set (an address change), but never two passes within `debounce`."""
        serve(self.timed_pass, stop, trigger or threading.Event(), self.log, self.clock, self.rand)

    def timed_pass(self) -> Timing:
        """One pass that never raises (a service outlives one bad pass), and when to run the next."""
        try:
            result = self.run_once()
        except Exception as exc:
            what = f"{type(exc).__name__}: {shorten(self.redactor.scrub(str(exc)))}"
            self.log(f"failed: the pass ended early ({what})")
            result = PassResult()
        return self.timing(result.due)

    def timing(self, due: float | None = None) -> Timing:
        settings = self.config.settings
        return Timing(settings["interval"], settings["jitter"], settings["debounce"], due)


class _ProviderLookup:
    """For a zone provider with no servers to ask (a zone file): what the provider holds."""

    def __init__(self, backend: ZoneProvider, zone: str) -> None:
        self.backend = backend
        self.zone = zone

    def __call__(self, name: str, rtype: str) -> frozenset[str]:
        current = self.backend.read(self.zone, {(name, rtype)})
        rrset = current.records.get((name, rtype))
        return rrset.values if rrset else frozenset()


# ---- status --------------------------------------------------------------------------------------

STATUS_OK, STATUS_ERROR, STATUS_FAILING, STATUS_STALE = 0, 1, 2, 3


@dataclass
class StatusLine:
    name: str
    provider: str
    state: str  # ok | stale | failing | stopped | never
    entry: EntryState

    def to_dict(self) -> dict[str, Any]:
        e = self.entry
        return {
            "name": self.name,
            "provider": self.provider,
            "state": self.state,
            "addresses": e.addresses,
            "last_checked": e.last_checked,
            "last_update": e.last_update,
            "last_verified": e.last_verified,
            "last_error": e.last_error,
            "last_error_at": e.last_error_at,
            "retry_after": e.retry_after,
            "updates": e.updates,
        }


def status(config: AgentConfig, now: float) -> tuple[list[StatusLine], int]:
    """Per name and provider, what the state file says, and the exit code: 0 all current, 2 one is
    failing or stopped, 3 one is stale (not confirmed within stale_after, or never)."""
    state: AgentState = load_state(config.state_file)
    settings = config.settings
    stale_after = settings["stale_after"] or 3 * settings["interval"] + settings["verify_deadline"]
    lines = []
    for name in config.names:
        for provider in name.providers:
            entry = state.entries.get(entry_key(name.name, provider)) or EntryState()
            if entry.stopped:
                kind = "stopped"
            elif entry.last_error_at is not None and (entry.last_checked or 0) < entry.last_error_at:
                kind = "failing"
            elif entry.last_checked is None:
                kind = "never"
            elif now - entry.last_checked > stale_after:
                kind = "stale"
            else:
                kind = "ok"
            lines.append(StatusLine(name.name, provider, kind, entry))
    kinds = {line.state for line in lines}
    if kinds & {"stopped", "failing"}:
        return lines, STATUS_FAILING
    if kinds & {"stale", "never"}:
        return lines, STATUS_STALE
    return lines, STATUS_OK


def _shown(addresses: dict[str, str]) -> str:
    return ", ".join(f"{rtype} {address}" for rtype, address in sorted(addresses.items()))


def _shown_sets(answers: dict[str, frozenset[str]]) -> str:
    return ", ".join(f"{rtype} {' '.join(sorted(v)) or 'nothing'}" for rtype, v in sorted(answers.items()))
