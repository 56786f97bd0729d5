"""The agent's memory between passes and across reboots: per name and provider, what was last
published and confirmed, when, the last error, and how long to hold back.

One small JSON file, replaced atomically (files.write_text) after every decision, mode 0600. A
missing file is a first start; an unreadable or corrupt one is set aside (renamed *.corrupt) and the
agent starts afresh: DNS itself says what is published, so losing the state costs one query per
name, never a wrong update.

Each entry carries a digest of the configuration it was made under (HMAC-SHA256 keyed with a random
salt kept in the file, so a weak password cannot be tested against it offline); when the digest
changes, a provider that had refused for good (bad credentials, abuse) is tried again.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .files import write_text

STATE_FORMAT = 1


@dataclass
class EntryState:
    """One name through one provider. Times are Unix seconds (wall clock: they must survive reboots)."""

    addresses: dict[str, str] = field(default_factory=dict)  # A/AAAA -> last address confirmed in DNS
    last_checked: float | None = None  # DNS last answered the wanted addresses (unchanged or verified)
    last_attempt: float | None = None  # an update was last sent (or about to be: written before sending)
    last_update: float | None = None  # the provider last accepted an update
    last_verified: float | None = None  # the authoritative servers last answered an update's addresses
    last_error: str | None = None
    last_error_at: float | None = None
    failures: int = 0  # failures in a row
    retry_after: float | None = None  # backing off until then
    stopped: str | None = None  # the provider refused for good; retried only after a config change
    updates: int = 0
    failures_total: int = 0  # every failure so far (the metrics' counter; `failures` restarts at a success)
    config_hash: str = ""

    @classmethod
    def from_dict(cls, data: Any) -> EntryState:
        if not isinstance(data, dict):
            return cls()
        known = {f.name for f in fields(cls)}
        entry = cls(**{k: v for k, v in data.items() if k in known})
        if not isinstance(entry.addresses, dict):
            entry.addresses = {}
        return entry

    def failed(self, message: str, now: float, retry_after: float | None, stop: bool) -> None:
        self.last_error, self.last_error_at = message, now
        self.failures += 1
        self.failures_total += 1
        self.retry_after = retry_after
        self.stopped = message if stop else None

    def confirmed(self, addresses: dict[str, str], now: float, verified: bool) -> None:
        self.addresses = dict(addresses)
        self.last_checked = now
        if verified:
            self.last_verified = now
        self.last_error = self.last_error_at = self.retry_after = self.stopped = None
        self.failures = 0


@dataclass
class AgentState:
    salt: str = field(default_factory=lambda: secrets.token_hex(16))
    entries: dict[str, EntryState] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what loading had to say (a corrupt file set aside)

    def entry(self, name: str, provider: str) -> EntryState:
        return self.entries.setdefault(entry_key(name, provider), EntryState())

    def digest(self, settings: Any) -> str:
        text = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
        return hmac.new(self.salt.encode(), text.encode(), hashlib.sha256).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "salt": self.salt,
            "entries": {key: asdict(entry) for key, entry in sorted(self.entries.items())},
        }


def entry_key(name: str, provider: str) -> str:
    return f"{name} {provider}"


def load_state(path: str) -> AgentState:
    """The state at `path`; a fresh one when the file is missing, corrupt or of another format."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return AgentState()
    except (OSError, ValueError) as exc:
        return _set_aside(path, f"could not read it ({exc})")
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT or not isinstance(data.get("salt"), str):
        return _set_aside(path, "it is not a state file of this version")
    raw = data.get("entries") if isinstance(data.get("entries"), dict) else {}
    return AgentState(data["salt"], {str(k): EntryState.from_dict(v) for k, v in raw.items()})


def _set_aside(path: str, why: str) -> AgentState:
    state = AgentState()
    aside = path + ".corrupt"
    with contextlib.suppress(OSError):
        os.replace(path, aside)
    state.notes.append(f"state file {path}: {why}; set aside as {aside}, starting afresh")
    return state


def save_state(path: str, state: AgentState) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    write_text(path, json.dumps(state.to_dict(), indent=1, sort_keys=True) + "\n", mode=0o600)


def backoff_delay(failures: int, initial: float, maximum: float, rand: Callable[[], float]) -> float:
    """Seconds to wait after `failures` failures in a row: doubling from `initial`, at most
    `maximum`, and jittered down to half so that a fleet that failed together does not retry together."""
    exponent = min(max(failures - 1, 0), 32)
    delay = min(maximum, initial * (2**exponent))
    return delay * (0.5 + rand() / 2)
