"""What every backend implements, and the option specs the inventory is validated against."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from ..limits import NO_LIMITS, ProviderLimits
from ..ownership import ZoneState
from ..plan import Change
from ..records import RecordKey

Progress = Callable[[int, int], None]  # (changes done, changes total)


@dataclass(frozen=True)
class Option:
    """One provider option: its type, whether it is required, its default and whether it is secret.

    `check`, when given, sees a value of the right type and returns what is wrong with it (or None),
    so validation can point at the option's line instead of at the provider as a whole.
    """

    kind: type | tuple[type, ...]
    required: bool = False
    default: Any = None
    secret: bool = False
    choices: tuple[Any, ...] = ()
    description: str = ""
    check: Callable[[Any], str | None] | None = None


class ZoneProvider(ABC):
    """A backend that can list a whole zone and change it (rfc2136, zonefile, cloudflare, ...).

    `options` have been validated against OPTIONS (defaults filled in). `base_dir` is the directory
    of the inventory, for options that are relative paths.
    """

    TYPE: ClassVar[str]
    OPTIONS: ClassVar[dict[str, Option]]
    SUPPORTS_ZONE_OWNERSHIP: ClassVar[bool] = True  # can apply a plan without markers (owner None)
    # Limits below DNS's own (limits.py checks them at validation, for every front, before anything is sent).
    LIMITS: ClassVar[ProviderLimits] = NO_LIMITS
    # Whether a declared record set's ownership is a TXT marker record (ownership.marker_name), whose
    # name must fit DNS's limits too. (A device name without an address is marked that way everywhere.)
    MARKER_RECORDS: ClassVar[bool] = True

    def __init__(self, name: str, options: dict[str, Any], base_dir: str = ".") -> None:
        self.name = name
        self.options = options
        self.base_dir = base_dir

    @abstractmethod
    def read(self, zone: str, wanted: set[RecordKey]) -> ZoneState:
        """Current record sets and owners of `zone`. `wanted` lists the keys the plan needs, for
        backends that cannot list a zone and must ask name by name."""

    @abstractmethod
    def apply(self, zone: str, changes: list[Change], owner: str | None, progress: Progress | None = None) -> None:
        """Make the changes, each only if its `before` still holds; raise ChangedSinceReadError
        (having changed nothing in the failing batch) when it does not. `owner` is the id the
        ownership markers carry; None for a zone owned whole, where no marker is read or written."""

    def check_options(self) -> list[str]:
        """Problems with option combinations that per-option validation cannot see."""
        return []

    @classmethod
    def declared_problems(cls, options: dict[str, Any]) -> list[str]:
        """What the options' own `check`s find in `options`, for a provider built without the
        inventory's validation (which runs the same checks and reports them at the option's line).
        After that validation every value passes, so nothing is reported twice."""
        problems = []
        for key, spec in cls.OPTIONS.items():
            problem = spec.check(options.get(key, spec.default)) if spec.check else None
            if problem:
                problems.append(f"option '{key}': {problem}")
        return problems

    def close(self) -> None:  # noqa: B027 - optional hook, most providers hold nothing open
        """Release connections."""

    def __enter__(self) -> ZoneProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
