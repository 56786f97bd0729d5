"""The fleet model: which host owns which names, in which zone, behind which provider, with which key.

Computed once, in Python, from a loaded inventory, for every front that needs it: the bind_server
role and the client role (through the fleet_model action plugin), playbooks/records.yml and the CLI.
Names come from config.validate, so every front spells a name exactly as the CLI's plan does
(lower-case, absolute, IDNA).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config import DEFAULT_PROVIDER_OPTIONS, FleetConfig, ProviderConfig, provider_secrets, validate
from .errors import Problem
from .names import InvalidNameError, normalize_zone, zone_for_name
from .providers import zone_provider_class
from .tsig import TsigKeyError, check_key_name, key_name_id

RFC2136 = "rfc2136"
# sig0_key is never valid (validation refuses SIG(0)); it is listed so its empty slot is not passed on.
_ADMIN_KEY_OPTIONS = frozenset({"tsig_key_name", "tsig_algorithm", "sig0_key"})
# Stands for the secret of an admin key the bind_server role makes itself, only while the inventory
# is validated (valid base64, never used to sign and never shown: it is removed right after).
_KEY_TO_MAKE = "A" * 43 + "="


@dataclass(frozen=True)
class DeviceName:
    """A name in fleetdns_names: its host's agent keeps the address current."""

    host: str
    name: str  # absolute, lower-case, IDNA, with the final dot
    zone: str


@dataclass
class ClientZone:
    """One zone a client host has names in, and how it reaches the zone's provider (no secrets)."""

    zone: str
    provider: str
    provider_type: str
    settings: dict[str, Any]
    names: list[str] = field(default_factory=list)
    update_only: bool = False  # a DDNS service that sets one name's addresses, not a zone provider

    def to_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone.rstrip("."),
            "provider": self.provider,
            "provider_type": self.provider_type,
            "update_only": self.update_only,
            "settings": self.settings,
            "names": list(self.names),
        }


@dataclass
class Client:
    """A host with fleetdns_names: its names grouped by zone and the TSIG key it signs updates with."""

    host: str
    key_name: str
    agent: str
    acme: bool
    names: list[DeviceName]
    zones: list[ClientZone]

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "key_name": self.key_name,
            "agent": self.agent,
            "acme": self.acme,
            "signs_with_key": any(zone.provider_type == RFC2136 for zone in self.zones),
            "zones": [zone.to_dict() for zone in self.zones],
        }


@dataclass(frozen=True)
class AdminKey:
    """The TSIG key of an rfc2136 provider (`tsig_key_name`): the CLI's and the modules' key.

    `inline` is true when the inventory carries its secret; otherwise the bind_server role makes it.
    """

    name: str
    provider: str
    algorithm: str
    inline: bool

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "provider": self.provider, "algorithm": self.algorithm, "inline": self.inline}


@dataclass
class FleetModel:
    """The validated inventory plus what follows from it for every host. `problems` are key names
    that cannot work (a front that uses keys refuses them; the rest of the model is still right)."""

    config: FleetConfig
    clients: dict[str, Client]
    admin_keys: dict[str, AdminKey]
    zone_keys: dict[str, Any] = field(default_factory=dict)  # zone -> its key as written in fleetdns_zones
    declared_providers: frozenset[str] = frozenset()  # provider names fleetdns_providers defines
    problems: list[Problem] = field(default_factory=list)

    def device_names(self, zone: str) -> list[DeviceName]:
        """The device names of a zone, in inventory order."""
        return [name for client in self.clients.values() for name in client.names if name.zone == zone]

    def admin_key(self, provider: str) -> AdminKey | None:
        return self.admin_keys.get(provider)

    def zone_dict(self, zone: str) -> dict[str, Any]:
        """One zone as a playbook applies it: the provider by name (or the built-in default's
        settings, which have no secret), whether that provider is update-only (such a zone is not
        applied: its device names are set by their hosts' agents), the zone's own settings and its
        device names."""
        config = self.config.zones[zone]
        provider = self.config.providers[config.provider]
        return {
            "name": zone.rstrip("."),
            "key": self.zone_keys.get(zone, zone.rstrip(".")),
            "provider": config.provider,
            "provider_type": provider.type,
            "update_only": zone_provider_class(provider.type) is None,
            "builtin_provider": None if config.provider in self.declared_providers else dict(DEFAULT_PROVIDER_OPTIONS),
            "default_ttl": config.default_ttl,
            "ownership": config.ownership,
            "device_names": [name.name for name in self.device_names(zone)],
        }


def build_fleet(
    all_vars: dict[str, Any], hosts: dict[str, dict[str, Any]], locate: Any = None, make_missing_keys: bool = False
) -> FleetModel:
    """The fleet model of an inventory (the effective variables of `all` and of each host).

    Raises ConfigError with every problem when the inventory is invalid, as the CLI would. With
    `make_missing_keys` (the bind_server role), an rfc2136 provider with `tsig_key_name` and no
    `tsig_secret` is valid: its key is made by the role.
    """
    raw_providers = all_vars.get("fleetdns_providers")
    to_make = _keys_to_make(raw_providers) if make_missing_keys else set()
    if to_make:
        raw_providers = {
            name: ({**settings, "tsig_secret": _KEY_TO_MAKE} if name in to_make else settings)
            for name, settings in raw_providers.items()
        }
        all_vars = {**all_vars, "fleetdns_providers": raw_providers}
    config = validate(all_vars, hosts, locate or _Unlocated(raw_providers))
    for name in to_make:
        config.providers[name].options["tsig_secret"] = None
    declared = frozenset(raw_providers) if isinstance(raw_providers, dict) else frozenset()
    model = FleetModel(config, {}, _admin_keys(config, to_make), _zone_keys(all_vars.get("fleetdns_zones")), declared)
    _add_clients(model)
    return model


class _Unlocated:
    """A locator that knows no positions but knows the secrets, so no message can show one."""

    def __init__(self, raw_providers: Any) -> None:
        values = raw_providers.values() if isinstance(raw_providers, dict) else ()
        self.secrets = [secret for settings in values for secret in provider_secrets(settings)]

    def __call__(self, container: Any, key: Any) -> None:
        return None


def _keys_to_make(raw_providers: Any) -> set[str]:
    """rfc2136 providers that name a TSIG key but carry no secret for it."""
    if not isinstance(raw_providers, dict):
        return set()
    return {
        name
        for name, settings in raw_providers.items()
        if isinstance(settings, dict)
        and settings.get("type") == RFC2136
        and settings.get("tsig_key_name")
        and not settings.get("tsig_secret")
    }


def _admin_keys(config: FleetConfig, to_make: set[str]) -> dict[str, AdminKey]:
    keys = {}
    for provider in config.providers.values():
        name = provider.options.get("tsig_key_name") if provider.type == RFC2136 else None
        if name:
            algorithm = provider.options.get("tsig_algorithm") or "hmac-sha256"
            keys[provider.name] = AdminKey(key_name_id(name), provider.name, algorithm, provider.name not in to_make)
    return keys


def _zone_keys(raw_zones: Any) -> dict[str, Any]:
    """Normalised zone name -> the key it has in fleetdns_zones (validated already)."""
    if not isinstance(raw_zones, dict):
        return {}
    found = {}
    for key in raw_zones:
        try:
            found[normalize_zone(key)] = key
        except InvalidNameError:
            continue
    return found


def _add_clients(model: FleetModel) -> None:
    """Every host with names gets a client entry; its key is named after it, so host names must be
    valid key names and distinct from each other and from the admin keys."""
    config = model.config
    zones = list(config.zones)
    key_holders: dict[str, str] = {}
    admin_by_key = {key.name: key for key in model.admin_keys.values()}
    for host in config.hosts.values():
        if not host.names:
            continue
        key_name = _key_name(host.name, model.problems)
        admin = admin_by_key.get(key_name)
        if admin is not None:
            model.problems.append(
                Problem(
                    f"host {host.name} would get the TSIG key name '{key_name}', which is already the admin key "
                    f"of provider '{admin.provider}'",
                    hint="rename the host or the provider's tsig_key_name",
                )
            )
        elif key_name in key_holders:
            model.problems.append(
                Problem(
                    f"hosts {key_holders[key_name]} and {host.name} would share the TSIG key name '{key_name}'",
                    hint="key names ignore case: rename one of the hosts",
                )
            )
        key_holders.setdefault(key_name, host.name)
        names = [DeviceName(host.name, name, zone_for_name(name, zones) or "") for name in host.names]
        by_zone: dict[str, ClientZone] = {}
        for device in names:
            if device.zone not in by_zone:
                provider = config.providers[config.zones[device.zone].provider]
                update_only = zone_provider_class(provider.type) is None
                by_zone[device.zone] = ClientZone(
                    device.zone, provider.name, provider.type, _public(provider), update_only=update_only
                )
            by_zone[device.zone].names.append(device.name)
        model.clients[host.name] = Client(host.name, key_name, host.agent, host.acme, names, list(by_zone.values()))


def _key_name(host: str, problems: list[Problem]) -> str:
    try:
        return key_name_id(check_key_name(host))
    except TsigKeyError as exc:
        problems.append(Problem(f"host {host}: its TSIG key is named after it, and {exc.message}", hint=exc.hint))
        return key_name_id(host)


def _public(provider: ProviderConfig) -> dict[str, Any]:
    """What a device may be told of its zone's provider: the settings without the secrets, and for
    rfc2136 without the provider's own key (a device signs with its own key, Client.key_name)."""
    hidden = provider.secret_keys | (_ADMIN_KEY_OPTIONS if provider.type == RFC2136 else frozenset())
    return {key: value for key, value in provider.options.items() if key not in hidden}
