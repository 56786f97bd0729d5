"""Validate the fleetdns part of an inventory and turn it into the desired state.

Input is plain data (what a YAML loader or Ansible hands over) plus an optional `locate`
callback that maps (container, key) to a file position, so every problem can say where it is.
All problems are collected and raised together as one ConfigError.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError, Location, Problem, ProblemList, shorten
from .limits import NO_LIMITS, ProviderLimits, marker_problem, record_set_problems
from .names import InvalidNameError, normalize_name, normalize_zone, relative_name, zone_for_name
from .ownership import MARKER_LABEL, MARKER_OWNERSHIP, OWNERSHIP_MODES, ZONE_OWNERSHIP
from .plan import ZoneDesired
from .providers import provider_class, provider_type_names, zone_provider_class, zone_provider_type_names
from .providers.base import MARKER_STORE, Capabilities, Option
from .rdata import VALUE_EXAMPLES, InvalidValueError, check_ttl, check_type, normalize_values
from .records import RecordKey, RecordSet, cname_conflicts
from .redact import Redactor

Locate = Callable[[Any, Any], "Location | None"]  # quoted: a runtime `|` fails pylint's Python 3.9 check

DEFAULT_PROVIDER = "default"
DEFAULT_PROVIDER_OPTIONS = {"type": "zonefile", "directory": "zones"}
DEFAULT_OWNER = "fleetdns"
DEFAULT_TTL = 3600
AGENTS = ("fleetdns", "ddclient")
GLOBAL_VARS = ("fleetdns_owner", "fleetdns_providers", "fleetdns_zones")
HOST_VARS = ("fleetdns_names", "fleetdns_agent", "fleetdns_acme")
ZONE_KEYS = ("provider", "default_ttl", "ownership", "records", "strict_checks", "name_servers")
RECORD_KEYS = ("name", "type", "value", "values", "ttl")
# Matched whole (fullmatch): `$` would also match before a final newline.
_OWNER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


@dataclass(frozen=True)
class RecordRules:
    """What a zone's backend declares beyond DNS's own rules: the record types it can manage (None:
    any), its limits, its name in messages about them, whether each declared record set gets a
    TXT marker record whose name must fit as well, and the types the service keeps at the apex."""

    limits: ProviderLimits = NO_LIMITS
    provider: str = ""
    marker_records: bool = True
    record_types: tuple[str, ...] | None = None
    apex_types_kept: tuple[str, ...] = ()


DNS_RULES = RecordRules()  # DNS's own limits, a marker record per record set


def record_rules(provider: ProviderConfig | None, ownership: str) -> RecordRules:
    """The rules for the records of a zone behind `provider` (None: not known) with this ownership."""
    capabilities = _capabilities(provider)
    if provider is None or capabilities is None:
        return RecordRules(marker_records=ownership == MARKER_OWNERSHIP)
    label = f"the {provider.type} provider '{provider.name}'"
    marked = ownership == MARKER_OWNERSHIP and capabilities.ownership_store == MARKER_STORE
    return RecordRules(capabilities.limits, label, marked, capabilities.record_types, capabilities.apex_types_kept)


@dataclass
class ProviderConfig:
    """A named backend from `fleetdns_providers`, options validated and defaults filled in."""

    name: str
    type: str
    options: dict[str, Any]
    secret_keys: frozenset[str] = frozenset()

    def redacted(self) -> dict[str, Any]:
        return {k: ("********" if k in self.secret_keys and v else v) for k, v in self.options.items()}


@dataclass
class ZoneConfig:
    zone: str
    provider: str
    default_ttl: int
    records: dict[RecordKey, RecordSet] = field(default_factory=dict)
    ownership: str = MARKER_OWNERSHIP
    strict_checks: bool = False  # integrity findings about what a plan writes are errors, not warnings
    name_servers: list[tuple[str, int]] | None = None  # what `status` asks; None: the zone's NS


@dataclass
class HostConfig:
    name: str
    names: list[str]
    agent: str = "fleetdns"
    acme: bool = False


@dataclass
class FleetConfig:
    owner: str
    providers: dict[str, ProviderConfig]
    zones: dict[str, ZoneConfig]
    hosts: dict[str, HostConfig]
    notes: list[str] = field(default_factory=list)

    def desired(self, zone: str) -> ZoneDesired:
        """Declared record sets of the zone plus the A/AAAA of device names that fall in it."""
        config = self.zones[zone]
        desired = ZoneDesired(zone, dict(config.records))
        for host in self.hosts.values():
            for name in host.names:
                if zone_for_name(name, list(self.zones)) == zone:
                    desired.registered.update({(name, "A"), (name, "AAAA")})
        return desired

    def secrets(self) -> list[str]:
        """Every secret value, so output can be scrubbed of them."""
        return [str(p.options[k]) for p in self.providers.values() for k in p.secret_keys if p.options.get(k)]


class _Checker:
    """Walks the data, collecting problems with their path and location.

    `locate(container, key)` gives where a value is written. A richer locator (the CLI's inventory
    loader) may also offer `locate.key(container, key)` (where the key itself is, for problems
    about keys), `locate.unset_env(container, key)` (environment variables that were unset when the
    value was templated, named in the hint) and `locate.secrets` (values scrubbed from messages).
    """

    def __init__(self, locate: Locate | None) -> None:
        self.problems = ProblemList()
        self._locate = locate
        self._locate_key = getattr(locate, "key", None)
        self._unset_env = getattr(locate, "unset_env", None)
        self.secrets = getattr(locate, "secrets", ())

    def sub(self) -> _Checker:
        """A checker with the same locator whose problems the caller handles separately."""
        return _Checker(self._locate)

    def add(self, container: Any, key: Any, path: str, message: str, hint: str = "", at_key: bool = False) -> None:
        locate = self._locate_key if at_key and self._locate_key else self._locate
        location: Location | None = locate(container, key) if locate else None
        unset = self._unset_names(container, key)
        if unset:
            names = ", ".join(unset)
            verb = "is" if len(unset) == 1 else "are"
            note = f"environment variable {names} {verb} not set (lookup('env') gave '')"
            hint = f"{note}; {hint}" if hint else note
        self.problems.add(message, path, hint, location)

    def where(self, container: Any, key: Any, at_key: bool = False) -> str:
        """'file:line:column' of a value (or its key) for a message that points at a second place, or ''."""
        locate = self._locate_key if at_key and self._locate_key else self._locate
        location = locate(container, key) if locate else None
        return str(location) if location else ""

    def _unset_names(self, container: Any, key: Any) -> list[str]:
        if self._unset_env is None:
            return []
        if key is None and isinstance(container, dict):
            return sorted({name for k in container for name in self._unset_env(container, k)})
        return list(self._unset_env(container, key))

    def unknown_keys(self, data: dict, allowed: tuple[str, ...] | list[str], path: str, what: str) -> None:
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"{what} keys are: {', '.join(allowed)}"
                self.add(data, key, f"{path}.{key}", f"unknown key '{key}'", hint, at_key=True)

    def scrub(self, secrets: Any) -> None:
        """Replace every secret value in the messages by ********."""
        scrub = Redactor(v for v in secrets or () if v).scrub
        problems = self.problems.problems
        for index, problem in enumerate(problems):
            problems[index] = Problem(scrub(problem.message), problem.path, scrub(problem.hint), problem.location)


def validate(all_vars: dict[str, Any], hosts: dict[str, dict[str, Any]], locate: Locate | None = None) -> FleetConfig:
    """Check the fleetdns variables; return the FleetConfig or raise ConfigError with every problem."""
    check = _Checker(locate)
    _unknown_vars(all_vars, all_vars, "", check)
    notes: list[str] = []
    owner = _owner(all_vars, check)
    providers = _providers(all_vars, _used_providers(all_vars), check, notes)
    zones = _zones(all_vars, providers, check)
    host_configs = _hosts(hosts, zones, check)
    check.scrub(check.secrets)
    check.problems.raise_if_any()
    config = FleetConfig(owner, providers, zones, host_configs, notes)
    config.notes.extend(_default_provider_notes(all_vars, check))
    used = {z.provider for z in zones.values()}
    for name in providers:
        if name not in used and name != DEFAULT_PROVIDER:
            config.notes.append(f"provider '{name}' is not used by any zone")
    return config


def _default_provider_notes(all_vars: dict, check: _Checker) -> list[str]:
    """A zone that names no provider while fleetdns_providers defines some is kept in zone files by
    the built-in provider: valid, but worth saying where it is (it may be a forgotten `provider:`)."""
    declared, zones = all_vars.get("fleetdns_providers"), all_vars.get("fleetdns_zones")
    if not isinstance(declared, dict) or not isinstance(zones, dict):
        return []
    defined = sorted(str(name) for name in declared if name != DEFAULT_PROVIDER)
    notes = []
    for name, settings in zones.items() if defined else ():
        if settings is None or (isinstance(settings, dict) and "provider" not in settings):
            where = check.where(zones, name, at_key=True)
            notes.append(
                f"{where + ': ' if where else ''}zone {name} names no provider, so the built-in provider "
                f"'{DEFAULT_PROVIDER}' keeps it in a zone file under {DEFAULT_PROVIDER_OPTIONS['directory']}/ "
                f"(to serve it elsewhere, set provider: to one of {', '.join(defined)})"
            )
    return notes


# ---- the same checks for a front that takes one provider and one zone's records (dns_record module)


def validate_provider(
    settings: Any,
    path: str = "provider",
    name: str = "",
    update_only: bool = False,
    locate: Locate | None = None,
) -> ProviderConfig:
    """One provider entry, checked exactly as an entry of fleetdns_providers; problems name `path`
    (and the position `locate` gives), the provider's own messages call it `name` (default: `path`).
    An update-only provider is refused unless the front can use one (`update_only`: dns_record can,
    for one name's addresses; so can the agent)."""
    check = _Checker(locate)
    config = _provider(path, settings, path, check)
    if config is not None and not update_only and zone_provider_class(config.type) is None:
        check.add(
            settings, "type", f"{path}.type",
            f"the {config.type} provider can only set the addresses of single names; this needs a zone provider",
            f"use one of: {', '.join(zone_provider_type_names())}; a name served by {config.type} is kept "
            "current by the fleetdns agent of its host (fleetdns_names in the inventory)",
        )  # fmt: skip
        config = None
    if config is not None and name:
        config.name = name
    check.scrub(provider_secrets(settings))
    if check.problems or config is None:  # (no problems means a config was made)
        raise ConfigError(check.problems.problems)
    return config


def provider_secrets(settings: Any) -> list[str]:
    """The secret option values of a raw provider entry, known before it is validated."""
    if not isinstance(settings, dict) or not isinstance(settings.get("type"), str):
        return []
    cls = provider_class(settings["type"])
    if cls is None:
        return []
    return [str(settings[k]) for k, spec in cls.OPTIONS.items() if spec.secret and settings.get(k)]


def validate_records(
    raw: Any, zone: str, default_ttl: int = DEFAULT_TTL, values_required: bool = True, rules: RecordRules | None = None
) -> dict[RecordKey, RecordSet]:
    """A list of record entries of one zone, checked as fleetdns_zones.<zone>.records is (problems
    name `records[N]`), within `rules` (record_rules of the zone's provider; default: DNS's own
    limits and markers). Without `values_required`, an entry without values gives an empty set."""
    check = _Checker(None)
    records = _records(raw, {"records": raw}, zone, default_ttl, "", check, values_required, rules or DNS_RULES)
    check.problems.raise_if_any()
    return records


def validate_owner(owner: Any, path: str = "owner") -> str:
    """An owner id, checked as fleetdns_owner is."""
    if not isinstance(owner, str) or not _OWNER_RE.fullmatch(owner):
        ProblemList([Problem(f"owner id {owner!r} is not valid", path, _OWNER_HINT)]).raise_if_any()
    return owner


def _unknown_vars(variables: dict, container: Any, prefix: str, check: _Checker) -> None:
    """A fleetdns_ variable close to a known one is a typo that would silently do nothing."""
    for var in variables:
        if isinstance(var, str) and var.startswith("fleetdns_") and var not in GLOBAL_VARS + HOST_VARS:
            close = difflib.get_close_matches(var, GLOBAL_VARS + HOST_VARS, n=1, cutoff=0.85)
            if close:
                check.add(
                    container, var, f"{prefix}{var}", f"unknown variable '{var}'", f"did you mean '{close[0]}'?", True
                )


def _used_providers(all_vars: dict) -> set[Any]:
    """Provider names the zones refer to (problems of providers no zone uses are only notes)."""
    zones = all_vars.get("fleetdns_zones")
    if not isinstance(zones, dict):
        return set()
    return {s.get("provider", DEFAULT_PROVIDER) if isinstance(s, dict) else DEFAULT_PROVIDER for s in zones.values()}


def _owner(all_vars: dict, check: _Checker) -> str:
    owner = all_vars.get("fleetdns_owner", DEFAULT_OWNER)
    if not isinstance(owner, str) or not _OWNER_RE.fullmatch(owner):
        check.add(all_vars, "fleetdns_owner", "fleetdns_owner", f"owner id {owner!r} is not valid", _OWNER_HINT)
        return DEFAULT_OWNER
    return owner


_OWNER_HINT = "use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"


def _providers(all_vars: dict, used: set[Any], check: _Checker, notes: list[str]) -> dict[str, ProviderConfig]:
    raw = all_vars.get("fleetdns_providers", {})
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        check.add(
            all_vars, "fleetdns_providers", "fleetdns_providers", "must be a mapping of provider name to settings",
            "write it like: fleetdns_providers: {lab: {type: rfc2136, server: 192.0.2.53}}",
        )  # fmt: skip
        return {}
    result: dict[str, ProviderConfig] = {}
    if DEFAULT_PROVIDER not in raw:
        result[DEFAULT_PROVIDER] = ProviderConfig(
            DEFAULT_PROVIDER, "zonefile", _defaults_for("zonefile", DEFAULT_PROVIDER_OPTIONS)
        )
    for name, settings in raw.items():
        path = f"fleetdns_providers.{name}"
        if not isinstance(name, str) or not name:
            check.add(raw, name, path, f"provider name {name!r} must be a non-empty string", "name it like: lab", True)
            continue
        if name not in used:
            # Nothing will be read or written through it: report its problems, don't fail on them.
            unused = check.sub()
            config = _provider(name, settings, path, unused)
            unused.scrub(check.secrets)
            notes.extend(
                f"{p.location or path}: provider '{name}' is not used by any zone (so this is no error): {p.message}"
                + (f" ({p.hint})" if p.hint else "")
                for p in unused.problems.problems
            )
            if unused.problems:
                config = None
        else:
            config = _provider(name, settings, path, check)
        if config:
            result[name] = config
    return result


def _defaults_for(type_name: str, given: dict) -> dict:
    cls = provider_class(type_name)
    options = {k: spec.default for k, spec in cls.OPTIONS.items()} if cls else {}
    options.update({k: v for k, v in given.items() if k != "type"})
    return options


def _provider(name: str, settings: Any, path: str, check: _Checker) -> ProviderConfig | None:
    if not isinstance(settings, dict):
        check.add(
            settings, None, path, "provider settings must be a mapping with at least 'type'",
            f"write it like: {name}: {{type: zonefile, directory: zones}}",
        )  # fmt: skip
        return None
    type_name = settings.get("type")
    cls = provider_class(type_name) if isinstance(type_name, str) else None
    if cls is None:
        known = ", ".join(provider_type_names())
        if "type" not in settings:
            check.add(settings, None, path, "provider has no 'type'", f"set type to one of: {known}")
        else:
            check.add(settings, "type", f"{path}.type", f"unknown provider type {type_name!r}", f"use one of: {known}")
        return None
    specs: dict[str, Option] = cls.OPTIONS
    check.unknown_keys(settings, ["type", *specs], path, f"{type_name} provider")
    options: dict[str, Any] = {}
    for key, spec in specs.items():
        value = settings.get(key, spec.default)
        if key not in settings or value is None:
            if spec.required:
                check.add(settings, None, path, f"missing required option '{key}'", _option_hint(key, spec))
            options[key] = spec.default
            continue
        value = _coerce(value, spec)
        if not isinstance(value, spec.kind) or (isinstance(value, bool) and bool not in _kinds(spec.kind)):
            check.add(
                settings,
                key,
                f"{path}.{key}",
                f"{_shown(value, spec)} is not {_kind_name(spec.kind)}",
                _option_hint(key, spec),
            )
            continue
        if spec.choices and value not in spec.choices:
            check.add(
                settings,
                key,
                f"{path}.{key}",
                f"{_shown(value, spec)} is not one of {', '.join(map(str, spec.choices))}",
                f"set {key} to one of: {', '.join(map(str, spec.choices))}",
            )
            continue
        if spec.required and value == "":
            check.add(settings, key, f"{path}.{key}", f"option '{key}' is empty", _option_hint(key, spec))
            continue
        problem = spec.check(value) if spec.check else None
        if problem:
            check.add(settings, key, f"{path}.{key}", problem, _option_hint(key, spec))
            continue
        options[key] = value
    config = ProviderConfig(name, type_name, options, frozenset(k for k, s in specs.items() if s.secret))
    for message in cls(name, options).check_options():
        check.add(settings, None, path, message)
    return config


def _option_hint(key: str, spec: Option) -> str:
    what = f"{key} is {_kind_name(spec.kind)}"
    return f"{what}: {spec.description}" if spec.description else what


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _coerce(value: Any, spec: Option) -> Any:
    """Templated values arrive as strings; turn digit strings into ints where an int is expected."""
    if isinstance(value, str) and int in _kinds(spec.kind) and str not in _kinds(spec.kind) and value.strip().isdigit():
        return int(value.strip())
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", bool: "true or false", list: "a list", dict: "a mapping"}
    return " or ".join(names.get(k, k.__name__) for k in _kinds(kind))


def _shown(value: Any, spec: Option) -> str:
    return "the value (secret, not shown)" if spec.secret else repr(value)


def _zones(all_vars: dict, providers: dict[str, ProviderConfig], check: _Checker) -> dict[str, ZoneConfig]:
    raw = all_vars.get("fleetdns_zones", {})
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        check.add(
            all_vars, "fleetdns_zones", "fleetdns_zones", "must be a mapping of zone name to settings",
            "write it like: fleetdns_zones: {example.com: {records: [...]}}",
        )  # fmt: skip
        return {}
    zones: dict[str, ZoneConfig] = {}
    for zone_name, settings in raw.items():
        path = f"fleetdns_zones.{zone_name}"
        try:
            zone = normalize_zone(zone_name)
        except InvalidNameError as exc:
            check.add(raw, zone_name, path, str(exc), "a zone is a domain name like example.com", True)
            continue
        if zone in zones:
            check.add(
                raw, zone_name, path, f"zone {zone} is declared twice (names differ only in case or final dot)",
                "merge the two entries into one", True,
            )  # fmt: skip
            continue
        settings = {} if settings is None else settings
        if not isinstance(settings, dict):
            check.add(
                raw, zone_name, path, "zone settings must be a mapping (provider, default_ttl, records)",
                f"write it like: {zone_name}: {{default_ttl: 300, records: [...]}}",
            )  # fmt: skip
            continue
        check.unknown_keys(settings, ZONE_KEYS, path, "zone")
        provider = settings.get("provider", DEFAULT_PROVIDER)
        declared = all_vars.get("fleetdns_providers")
        if provider is None or provider == "":
            check.add(
                settings, "provider", f"{path}.provider", f"zone {zone} has an empty provider",
                f"name one of the defined providers ({', '.join(sorted(providers))}), or remove the provider "
                f"key to keep the zone in a zone file with the built-in provider '{DEFAULT_PROVIDER}'",
            )  # fmt: skip
        elif provider not in providers and not (isinstance(declared, dict) and provider in declared):
            # (a declared provider that failed validation has its own problem already)
            known = ", ".join(sorted(providers)) or "none defined"
            close = difflib.get_close_matches(str(provider), [str(p) for p in providers], n=1)
            check.add(
                settings,
                "provider",
                f"{path}.provider",
                f"unknown provider {provider!r}",
                (f"did you mean '{close[0]}'? " if close else "") + f"defined providers: {known}",
            )
        default_ttl = DEFAULT_TTL
        if "default_ttl" in settings:
            try:
                default_ttl = check_ttl(settings["default_ttl"])
            except InvalidValueError as exc:
                check.add(settings, "default_ttl", f"{path}.default_ttl", str(exc), _TTL_HINT)
        served_by = providers.get(provider) if isinstance(provider, str) else None
        ownership = _ownership(settings, served_by, path, check)
        records: dict[RecordKey, RecordSet] = {}
        capabilities = _capabilities(served_by)
        if served_by and capabilities and not capabilities.lists_zone and settings.get("records"):
            check.add(
                settings, "records", f"{path}.records",
                f"zone {zone} is served by the {served_by.type} provider '{served_by.name}', which can only set "
                "the addresses of single names: it cannot hold records",
                "declare these records in a zone served by a zone provider "
                f"({', '.join(zone_provider_type_names())}); give the names of devices to their hosts as "
                "fleetdns_names", True,
            )  # fmt: skip
        else:
            rules = record_rules(served_by, ownership)
            records = _records(settings.get("records", []), settings, zone, default_ttl, path, check, True, rules)
        strict = settings.get("strict_checks", False)
        if not isinstance(strict, bool):
            check.add(
                settings, "strict_checks", f"{path}.strict_checks", "strict_checks must be true or false",
                "strict_checks: true makes every integrity warning about what a plan writes an error",
            )  # fmt: skip
            strict = False
        servers = _name_servers(settings, path, check)
        zones[zone] = ZoneConfig(
            zone, provider if isinstance(provider, str) else "", default_ttl, records, ownership, strict, servers
        )
    return zones


def _name_servers(settings: dict, path: str, check: _Checker) -> list[tuple[str, int]] | None:
    """`name_servers: [192.0.2.53, "192.0.2.54:5353"]`: the authoritative servers `status` asks."""
    if "name_servers" not in settings:
        return None
    from .providers.ddns_lookup import parse_server

    raw = settings["name_servers"]
    hint = 'write it like: name_servers: ["192.0.2.53", "198.51.100.53:5353"] (an empty list: ask none)'
    if not isinstance(raw, list):
        check.add(settings, "name_servers", f"{path}.name_servers", "name_servers must be a list of addresses", hint)
        return None
    servers = []
    for index, item in enumerate(raw):
        try:
            servers.append(parse_server(str(item)))
        except ValueError as exc:
            check.add(raw, index, f"{path}.name_servers[{index}]", str(exc), hint)
    return servers


def _capabilities(provider: ProviderConfig | None) -> Capabilities | None:
    cls = provider_class(provider.type) if provider is not None else None
    return cls.CAPABILITIES if cls is not None else None


def _ownership(settings: dict, provider: ProviderConfig | None, path: str, check: _Checker) -> str:
    """`ownership: markers` (default: a marker per owned record set) or `zone` (the inventory owns
    the whole zone, no markers); zone ownership needs a provider that can do without markers."""
    ownership = settings.get("ownership", MARKER_OWNERSHIP)
    if ownership not in OWNERSHIP_MODES:
        check.add(
            settings, "ownership", f"{path}.ownership", f"unknown ownership {ownership!r}",
            "use markers (fleetdns owns what it created or adopted; the default) or zone (the inventory "
            "owns the whole zone: what it does not list is deleted)",
        )  # fmt: skip
        return MARKER_OWNERSHIP
    if ownership == ZONE_OWNERSHIP and provider is not None:
        cls = provider_class(provider.type)
        if cls is not None and not cls.CAPABILITIES.zone_ownership:
            check.add(
                settings, "ownership", f"{path}.ownership",
                f"ownership: zone is not available with the {provider.type} provider '{provider.name}'",
                "use ownership: markers (its markers cost no extra records there)",
            )  # fmt: skip
    return ownership


def _records(
    raw: Any,
    parent: dict,
    zone: str,
    default_ttl: int,
    path: str,
    check: _Checker,
    values_required: bool = True,
    rules: RecordRules = DNS_RULES,
) -> dict[RecordKey, RecordSet]:
    path = f"{path}.records" if path else "records"
    if raw is None:
        return {}
    if not isinstance(raw, list):
        check.add(parent, "records", path, "records must be a list of {name, type, value}", _RECORD_HINT)
        return {}
    records: dict[RecordKey, RecordSet] = {}
    first_seen: dict[RecordKey, int] = {}
    for index, item in enumerate(raw):
        item_path = f"{path}[{index}]"
        if not isinstance(item, dict):
            check.add(raw, index, item_path, "a record must be a mapping", _RECORD_HINT)
            continue
        record = _record(item, zone, default_ttl, item_path, check, values_required, rules)
        if record is None:
            continue
        if record.key in records:
            earlier = first_seen[record.key]
            check.add(
                raw, index, item_path,
                f"{relative_name(record.name, zone)} {record.type} is declared twice (also at records[{earlier}])",
                "merge the values into one entry with a list: value: [a, b]",
            )  # fmt: skip
            continue
        records[record.key] = record
        first_seen[record.key] = index
    for name, others in cname_conflicts(records.keys()):
        index = first_seen[(name, "CNAME")]
        check.add(
            raw, index, f"{path}[{index}]",
            f"{relative_name(name, zone)} has a CNAME and also {', '.join(others)}",
            "a CNAME must be the only record set at its name (RFC 1034 §3.6.2)",
        )  # fmt: skip
    for name, rtype in records:
        if rtype == "DS" and (name == zone or (name, "NS") not in records):
            index = first_seen[(name, "DS")]
            check.add(
                raw, index, f"{path}[{index}]",
                f"{relative_name(name, zone)} has a DS record but no delegation (NS) beside it",
                "a DS belongs at a delegated child zone: declare its NS records too; servers hide a DS elsewhere",
            )  # fmt: skip
    return records


def _record(
    item: dict,
    zone: str,
    default_ttl: int,
    path: str,
    check: _Checker,
    values_required: bool = True,
    rules: RecordRules = DNS_RULES,
) -> RecordSet | None:
    """One record entry; without `values_required` an entry may leave out its values (then the
    record set has none: the whole set, for a front that deletes). `rules` (record_rules of the zone's
    provider) refuse a type the provider cannot manage and values beyond its limits."""
    check.unknown_keys(item, RECORD_KEYS, path, "record")
    ok = True
    for key in ("name", "type"):
        if key not in item:
            check.add(item, None, path, f"record has no '{key}'", _RECORD_HINT)
            ok = False
    if "value" in item and "values" in item:
        check.add(item, "values", f"{path}.values", "give either 'value' or 'values', not both", "use value: [a, b]")
        ok = False
    elif "value" not in item and "values" not in item and values_required:
        check.add(item, None, path, "record has no 'value'", _RECORD_HINT)
        ok = False
    if not ok:
        return None
    try:
        name = normalize_name(item["name"], zone)
    except InvalidNameError as exc:
        check.add(item, "name", f"{path}.name", str(exc), _NAME_HINT)
        return None
    if name == f"{MARKER_LABEL}.{zone}" or name.endswith(f".{MARKER_LABEL}.{zone}"):
        check.add(
            item, "name", f"{path}.name",
            f"names under {MARKER_LABEL}.{zone} are reserved for fleetdns ownership markers",
            "choose another name; fleetdns writes these TXT records itself",
        )  # fmt: skip
        return None
    try:
        rtype = check_type(item["type"])
    except InvalidValueError as exc:
        soa = isinstance(item["type"], str) and item["type"].strip().upper() == "SOA"
        hint = "remove this record; the server keeps the SOA" if soa else "write the type in capitals, like A or MX"
        check.add(item, "type", f"{path}.type", str(exc), hint)
        return None
    if rules.record_types is not None and rtype not in rules.record_types:
        check.add(
            item, "type", f"{path}.type",
            f"{rules.provider} cannot manage {rtype} records",
            f"it manages {', '.join(rules.record_types)}; serve this record from a zone with another "
            "provider, or remove it",
        )  # fmt: skip
        return None
    if name == zone and rtype in rules.apex_types_kept:
        check.add(
            item, "type", f"{path}.type",
            f"{rules.provider} cannot manage {rtype} records at the zone apex: the service keeps its own there",
            f"remove this record; the service serves the apex's {rtype} records itself ({rtype} records on "
            "names below the apex are fine)",
        )  # fmt: skip
        return None
    ttl = default_ttl
    if "ttl" in item:
        try:
            ttl = check_ttl(item["ttl"])
        except InvalidValueError as exc:
            check.add(item, "ttl", f"{path}.ttl", str(exc), _TTL_HINT)
            return None
    value_key = "value" if "value" in item else "values"
    if rtype == "CNAME" and name == zone:
        check.add(
            item, "name", f"{path}.name", "a CNAME cannot sit at the zone apex (it holds SOA and NS)",
            "give the apex A/AAAA records instead, or put the CNAME on a name below it (www)",
        )  # fmt: skip
        return None
    marker = marker_problem(name, rtype, zone) if rules.marker_records else None
    if marker:
        check.add(
            item, "name", f"{path}.name", f"{shorten(relative_name(name, zone), 40)} {rtype}: {marker}", _MARKER_HINT
        )
        return None
    if value_key not in item:  # allowed only without values_required
        return RecordSet(name, rtype, ttl, frozenset())
    try:
        values = normalize_values(rtype, item[value_key], zone)
    except InvalidValueError as exc:
        check.add(item, value_key, f"{path}.{value_key}", str(exc), _value_hint(rtype))
        return None
    record = RecordSet(name, rtype, ttl, values)
    too_big = record_set_problems(record, zone, rules.limits, rules.provider)
    for message in too_big:
        check.add(item, value_key, f"{path}.{value_key}", message, _SIZE_HINT)
    return None if too_big else record


_TTL_HINT = "a TTL is a whole number of seconds from 0 to 2147483647, like 300"
_RECORD_HINT = "a record looks like {name: www, type: A, value: 192.0.2.1} (value may be a list)"
_NAME_HINT = "names are relative to the zone (www, '@' for the apex) or absolute with a final dot"
_MARKER_HINT = "fleetdns marks what it owns with a TXT record <type>.<name>._fleetdns.<zone>"
_SIZE_HINT = "use shorter or fewer values: the sizes that fit are in the message"


def _value_hint(rtype: str) -> str:
    example = VALUE_EXAMPLES.get(rtype)
    if example:
        return f"a valid {rtype} value looks like {example}"
    return f"write the {rtype} value in zone-file syntax"


@dataclass(frozen=True)
class _Same:
    """Every item of a list made from one bare value is located where that value is written."""

    container: Any
    key: Any


def _item(items: Any, index: int) -> tuple[Any, Any]:
    return (items.container, items.key) if isinstance(items, _Same) else (items, index)


def _hosts(hosts: dict[str, dict[str, Any]], zones: dict[str, ZoneConfig], check: _Checker) -> dict[str, HostConfig]:
    result: dict[str, HostConfig] = {}
    claimed: dict[str, str] = {}
    claimed_at: dict[str, tuple[Any, Any]] = {}  # where each name was first claimed
    zone_names = list(zones)
    for host, variables in hosts.items():
        _unknown_vars(variables, variables, f"{host}.", check)
        raw_names = variables.get("fleetdns_names")
        if raw_names is None:
            continue
        path = f"{host}.fleetdns_names"
        items: Any = raw_names  # where problems with one name point (the variable itself for a bare name)
        if isinstance(raw_names, str):
            raw_names = [raw_names]
            items = _Same(variables, "fleetdns_names")
        if not isinstance(raw_names, list):
            check.add(
                variables, "fleetdns_names", path, "must be a list of fully qualified names",
                "write it like: fleetdns_names: [gw.example.com]",
            )  # fmt: skip
            continue
        names: list[str] = []
        for index, raw in enumerate(raw_names):
            item_path = f"{path}[{index}]"
            if not isinstance(raw, str) or not raw:
                check.add(*_item(items, index), item_path, f"{raw!r} is not a name", "write a name like gw.example.com")
                continue
            absolute = raw.lower() if raw.endswith(".") else raw.lower() + "."
            zone = zone_for_name(absolute, zone_names)
            if zone is None:
                check.add(
                    *_item(items, index), item_path, f"{raw} is in none of the zones in fleetdns_zones",
                    f"add its zone to fleetdns_zones, or fix the name (zones: {', '.join(zone_names) or 'none'})",
                )  # fmt: skip
                continue
            try:
                name = normalize_name(absolute, zone)
            except InvalidNameError as exc:
                check.add(*_item(items, index), item_path, str(exc), "write a fully qualified name like gw.example.com")
                continue
            if name in claimed:
                first = check.where(*claimed_at[name])
                if claimed[name] == host:
                    message = f"{name} is listed twice in the fleetdns_names of host '{host}'"
                    hint = "remove one of the two entries (names differing only in case or final dot are the same)"
                else:
                    message = f"{name} is already claimed by host '{claimed[name]}'"
                    hint = "a device name belongs to exactly one host; remove it from one of them"
                check.add(*_item(items, index), item_path, message + (f" (at {first})" if first else ""), hint)
                continue
            clash = [t for t in ("A", "AAAA", "CNAME") if (name, t) in zones[zone].records]
            if clash:
                check.add(
                    *_item(items, index), item_path,
                    f"{name} is a device name but fleetdns_zones also declares {'/'.join(clash)} for it",
                    "a device's agent sets its A/AAAA; remove the static record or the device name",
                )  # fmt: skip
                continue
            marker = marker_problem(name, "AAAA", zone) if zones[zone].ownership == MARKER_OWNERSHIP else None
            if marker:
                check.add(*_item(items, index), item_path, f"device name {shorten(name, 40)}: {marker}", _MARKER_HINT)
                continue
            claimed[name] = host
            claimed_at[name] = _item(items, index)
            names.append(name)
        agent = variables.get("fleetdns_agent", "fleetdns")
        if agent not in AGENTS:
            check.add(
                variables,
                "fleetdns_agent",
                f"{host}.fleetdns_agent",
                f"unknown agent {agent!r}",
                f"use one of: {', '.join(AGENTS)}",
            )
        acme = variables.get("fleetdns_acme", False)
        if not isinstance(acme, bool):
            check.add(
                variables, "fleetdns_acme", f"{host}.fleetdns_acme", f"{acme!r} is not true or false",
                "write fleetdns_acme: true or fleetdns_acme: false",
            )  # fmt: skip
        result[host] = HostConfig(host, names, agent if agent in AGENTS else "fleetdns", acme is True)
    return result
