"""The two kinds of backend, what each declares it can do, and the option specs the inventory is
validated against.

A *zone provider* lists a whole zone and applies pinned changes to it (rfc2136, zonefile,
cloudflare). An *update-only provider* can only set the addresses of one name, the way DDNS
services work (dyndns2, DuckDNS, FreeDNS, Namecheap): it reads nothing through its API, so whether an
update is needed comes from a DNS query before it and whether it took from one after.

Every provider class declares its `Capabilities`; validation checks an inventory against them
before any network traffic, and the generated documentation is written from them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..limits import NO_LIMITS, ProviderLimits
from ..ownership import ZoneState
from ..plan import Change
from ..records import RecordKey

Progress = Callable[[int, int], None]  # (changes done, changes total)
# The caller's own work (preparing its next zone) for the time an apply waits on its server.
Meanwhile = Callable[[], None]

ZONE_KIND = "zone"
UPDATE_ONLY_KIND = "update-only"

# Where a provider keeps the mark that a record set is fleetdns's.
MARKER_STORE = "markers"  # a companion TXT record under _fleetdns.<zone>
COMMENT_STORE = "comments"  # a word in the API record's comment (a TXT marker only while a set is empty)
NO_STORE = "none"  # nothing: the provider only ever touches the names it is given
OWNERSHIP_STORES = (MARKER_STORE, COMMENT_STORE, NO_STORE)


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


@dataclass(frozen=True)
class Capabilities:
    """What one provider type can do, declared once on its class.

    `lists_zone`: it can read a whole zone, so a zone it serves may hold `records:`.
    `ownership_store`: one of OWNERSHIP_STORES. `zone_ownership`: it can apply a plan for a zone the
    inventory owns whole, reading and writing no marker. `libraries`: Python packages it imports
    besides dnspython (which every provider needs), by import name. `checks_targets`: its server
    refuses an MX or NS record whose target in the zone has no address (a plan refuses it first;
    elsewhere it is a warning). `apex_types_kept`: record types the service keeps at the zone apex
    itself (DNSPod's default NS records): its read leaves them out of the zone, and an inventory may
    not declare them at the apex.
    """

    record_types: tuple[str, ...]
    lists_zone: bool
    ownership_store: str
    zone_ownership: bool
    libraries: tuple[str, ...] = ()
    limits: ProviderLimits = NO_LIMITS  # below DNS's own; limits.py checks them at validation
    checks_targets: bool = False
    apex_types_kept: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.ownership_store not in OWNERSHIP_STORES:
            raise ValueError(f"ownership_store {self.ownership_store!r} is not one of {', '.join(OWNERSHIP_STORES)}")
        if self.zone_ownership and not self.lists_zone:
            raise ValueError("zone_ownership needs lists_zone: owning a zone whole means reading all of it")

    def supports(self, rtype: str) -> bool:
        return rtype in self.record_types


class Provider(ABC):
    """What both kinds share: a name, validated options, declared capabilities, a lifetime.

    `options` have been validated against OPTIONS (defaults filled in). `base_dir` is the directory
    of the inventory, for options that are relative paths.
    """

    TYPE: ClassVar[str]
    KIND: ClassVar[str]
    OPTIONS: ClassVar[dict[str, Option]]
    CAPABILITIES: ClassVar[Capabilities]

    def __init__(self, name: str, options: dict[str, Any], base_dir: str = ".") -> None:
        self.name = name
        self.options = options
        self.base_dir = base_dir

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

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ZoneProvider(Provider):
    """A backend that can list a whole zone and change it (rfc2136, zonefile, cloudflare, ...)."""

    KIND: ClassVar[str] = ZONE_KIND
    # True when instances keep nothing between read and apply, so several zones can be read at once,
    # each thread with its own instance. False: one instance reads (and applies) one zone at a time.
    CONCURRENT_READS: ClassVar[bool] = False

    @abstractmethod
    def read(self, zone: str, wanted: set[RecordKey]) -> ZoneState:
        """Current record sets and owners of `zone`. `wanted` lists the keys the plan needs, for
        backends that cannot list a zone and must ask name by name."""

    @abstractmethod
    def apply(
        self,
        zone: str,
        changes: list[Change],
        owner: str | None,
        progress: Progress | None = None,
        meanwhile: Meanwhile | None = None,
    ) -> None:
        """Make the changes, each only if its `before` still holds; raise ChangedSinceReadError
        (having changed nothing in the failing batch) when it does not. `owner` is the id the
        ownership markers carry; None for a zone owned whole, where no marker is read or written.
        A provider that waits on a server calls `meanwhile` once, while it waits; others may not."""

    def prepare(self, zone: str, changes: list[Change], owner: str | None) -> None:
        """Do the work of a coming `apply` of exactly these arguments now, while another apply waits
        on its server. Never raises: what fails here fails again in `apply`, where it is reported."""

    def __enter__(self) -> ZoneProvider:
        return self


# ---- update-only providers ----------------------------------------------------------------------------

Addresses = Mapping[str, frozenset[str]]  # record type (A, AAAA) -> addresses
Lookup = Callable[[str, str], frozenset[str]]  # (absolute name, record type) -> what DNS answers now


@dataclass(frozen=True)
class UpdateAnswer:
    """What the service answered to one update: whether it says it changed something (None when its
    answer does not tell), the addresses it reports for the name (empty when it reports none), and
    its answer as text for messages (already scrubbed of secrets)."""

    changed: bool | None
    addresses: Mapping[str, frozenset[str]]
    text: str


@dataclass(frozen=True)
class UpdateResult:
    """One `set_addresses`: what DNS had before, whether the service was asked (not when DNS already
    had the wanted addresses), its answer, and whether DNS gave the wanted addresses afterwards (None
    when not asked)."""

    name: str
    wanted: Mapping[str, frozenset[str]]
    before: Mapping[str, frozenset[str]]
    sent: bool
    answer: UpdateAnswer | None = None
    verified: bool | None = None

    @property
    def changed(self) -> bool:
        return self.sent and (self.answer is None or self.answer.changed is not False)


class UpdateOnlyProvider(Provider):
    """A DDNS service that sets the addresses of one name and can read nothing back through its API.

    Subclasses implement `update` (one request to the service); the query before and after goes
    through the `lookup` the caller gives (a DNS query against the
    service's authoritative servers, so a resolver cache does not answer for them).
    """

    KIND: ClassVar[str] = UPDATE_ONLY_KIND

    @abstractmethod
    def update(self, name: str, addresses: Addresses) -> UpdateAnswer:
        """Ask the service to give `name` exactly `addresses` (a type left out stays as it is);
        raise ProviderError with the service's answer when it refuses."""

    def set_addresses(self, name: str, addresses: Addresses, lookup: Lookup) -> UpdateResult:
        """Idempotent update: ask DNS first and the service only when DNS differs, then ask DNS again."""
        wanted = {rtype: frozenset(values) for rtype, values in addresses.items()}
        before = {rtype: lookup(name, rtype) for rtype in wanted}
        if before == wanted:
            return UpdateResult(name, wanted, before, sent=False)
        answer = self.update(name, wanted)
        after = {rtype: lookup(name, rtype) for rtype in wanted}
        return UpdateResult(name, wanted, before, sent=True, answer=answer, verified=after == wanted)
