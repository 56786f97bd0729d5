"""Error types the engine raises; every front turns them into one clear message, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass, field

# Values longer than this are shown as a head, their length and an ellipsis in every message.
SHORT_VALUE_LIMIT = 80


def shorten(value: object, limit: int = SHORT_VALUE_LIMIT) -> str:
    """A value as a message may quote it: one line, and never more than `limit` characters of it.

    Messages echo user input; a 100,000-character value must not become a 100 KB line.
    """
    text = " ".join(str(value).split())
    if len(text) <= limit:
        return text
    suffix = f"... ({len(str(value))} characters)"
    return text[: max(limit - len(suffix), 8)] + suffix


@dataclass(frozen=True)
class Location:
    """Where a value came from, so an error can point at it (1-based line and column)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: what, where, and how to fix it."""

    message: str
    path: str = ""
    hint: str = ""
    location: Location | None = None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        what = f"{self.path}: " if self.path else ""
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}{what}{self.message}{hint}"


class FleetDNSError(Exception):
    """Base class: an error a user can cause or fix, carrying a hint."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class ConfigError(FleetDNSError):
    """The inventory or the module arguments are invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        summary = f"{count} problem{'s' if count != 1 else ''} in the configuration"
        super().__init__(summary)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class ProviderError(FleetDNSError):
    """A backend refused, failed or could not be reached."""


class ChangedSinceReadError(ProviderError):
    """The zone changed between plan and apply; the apply stopped without overwriting it."""


class PlanConflictError(FleetDNSError):
    """The desired state cannot be reached as asked: it would change records fleetdns does not own,
    or leave the zone in a state its server refuses."""

    def __init__(self, zone: str, conflicts: list[str], hint: str = "") -> None:
        self.zone = zone
        self.conflicts = list(conflicts)
        lines = "\n".join(f"  - {c}" for c in self.conflicts)
        count = f"{len(self.conflicts)} problem{'s' if len(self.conflicts) != 1 else ''}"
        super().__init__(
            f"zone {zone}: the plan is blocked ({count}):\n{lines}",
            hint,
        )


class SafetyError(FleetDNSError):
    """A plan exceeds a safety threshold (for example: deletes too much) and needs an explicit flag."""


@dataclass
class ProblemList:
    """Collects problems during validation so the user sees all of them at once."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, message: str, path: str = "", hint: str = "", location: Location | None = None) -> None:
        self.problems.append(Problem(message, path, hint, location))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)

    def __bool__(self) -> bool:
        return bool(self.problems)
