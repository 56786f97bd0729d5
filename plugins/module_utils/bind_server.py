"""What one BIND primary serves, from the fleet model and the bind_server role's settings: its
zones with their update-policy grants, apex NS, glue and SOA, and the TSIG keys it needs.

The role's templates only render this; every rule about the server lives here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from .errors import Problem, shorten
from .fleet import RFC2136, AdminKey, FleetModel
from .names import InvalidNameError, normalize_zone
from .rdata import InvalidValueError, normalize_value, normalize_values

ZONE_OPTION_KEYS = ("allow_update", "allow_transfer", "nameservers", "extra_grants")


@dataclass
class ServerSettings:
    """One server host and its bind_server_* settings. `identities` are the names and addresses a
    provider's `server` may use for it (its inventory name is always one)."""

    host: str
    identities: list[str] = field(default_factory=list)
    zones: list[str] | None = None
    port: int = 53
    clients: list[str] = field(default_factory=list)
    tsig_algorithm: str = "hmac-sha256"
    zone_options: dict[str, Any] = field(default_factory=dict)
    nameservers: list[str] = field(default_factory=list)
    nameserver_address: str = ""
    soa_contact: str = "hostmaster"
    soa_refresh: int = 3600
    soa_retry: int = 900
    soa_expire: int = 1209600
    soa_negative_ttl: int = 300
    zone_dir: str = "/var/lib/bind"


def glue_address(given: str, ansible_host: Any, default_ipv4: Any) -> str:
    """The address of an in-zone name server without an A/AAAA record: the one given, else the
    host's ansible_host when that is an address, else its default IPv4 address."""
    if isinstance(given, str) and given.strip():
        return given.strip()  # (server_model reports one that is no address)
    if isinstance(ansible_host, str) and _is_address(ansible_host.strip()):
        return ansible_host.strip()
    return default_ipv4 if isinstance(default_ipv4, str) else ""


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def server_model(fleet: FleetModel, settings: ServerSettings) -> tuple[dict[str, Any], list[Problem]]:
    """The server's model as the role uses it (plain data, no secrets) and every problem found."""
    problems: list[Problem] = []
    served = _served_zones(fleet, settings, problems)
    options = _zone_options(settings.zone_options, problems)
    grants: dict[str, list[tuple[str, str]]] = {}
    device_keys = []
    for host in settings.clients:
        client = fleet.clients.get(host)
        if client is None:
            continue
        lines = [(device.zone, device.name) for device in client.names if device.zone in served]
        for zone, name in lines:
            grants.setdefault(zone, []).append((host, f"grant {client.key_name} name {name} A AAAA;"))
            if client.acme:
                grants[zone].append((host, f"grant {client.key_name} name _acme-challenge.{name} TXT;"))
        if lines:
            device_keys.append({"name": client.key_name, "host": host, "algorithm": settings.tsig_algorithm})
    admin_keys: dict[str, AdminKey] = {}
    zones = []
    for zone in served:
        admin = _admin_key(fleet, zone, settings, problems)
        if admin is not None:
            admin_keys[admin.name] = admin
        zones.append(_zone(fleet, zone, settings, options.get(zone, {}), admin, grants.get(zone, []), problems))
    model = {
        "zones": zones,
        "device_keys": device_keys,
        "admin_keys": [key.to_dict() for key in admin_keys.values()],
        "controller_keys": controller_keys(fleet, settings.clients),
    }
    return model, problems


def controller_keys(fleet: FleetModel, clients: list[str]) -> list[str]:
    """Names of every key kept on the controller across the fleet (not only this server's): the
    keys of these clients that have names, and the admin keys the role makes."""
    names = [fleet.clients[host].key_name for host in clients if host in fleet.clients]
    names += [key.name for key in fleet.admin_keys.values() if not key.inline]
    return sorted(set(names))


def _served_zones(fleet: FleetModel, settings: ServerSettings, problems: list[Problem]) -> list[str]:
    """bind_server_zones when set, else every zone whose rfc2136 provider's server is this host."""
    config = fleet.config
    if settings.zones is None:
        identities = {str(item).strip().lower() for item in [settings.host, *settings.identities]}
        served = []
        for zone, zone_config in config.zones.items():
            provider = config.providers.get(zone_config.provider)
            if provider and provider.type == RFC2136 and str(provider.options["server"]).lower() in identities:
                served.append(zone)
        return served
    served = []
    for raw in settings.zones:
        try:
            zone = normalize_zone(raw)
        except InvalidNameError as exc:
            problems.append(Problem(str(exc), "bind_server_zones", "list zones of fleetdns_zones, like example.com"))
            continue
        if zone in config.zones:
            served.append(zone)
        else:
            problems.append(
                Problem(
                    f"bind_server_zones lists {zone.rstrip('.')}, which is not in fleetdns_zones",
                    hint="add it there or remove it from bind_server_zones",
                )
            )
    return served


def _zone_options(raw: Any, problems: list[Problem]) -> dict[str, dict[str, Any]]:
    """bind_server_zone_options keyed by normalised zone name, with their keys checked."""
    if not isinstance(raw, dict):
        problems.append(Problem("must be a mapping of zone name to settings", "bind_server_zone_options"))
        return {}
    result = {}
    for key, value in raw.items():
        path = f"bind_server_zone_options.{shorten(key)}"
        try:
            zone = normalize_zone(key)
        except InvalidNameError as exc:
            problems.append(Problem(str(exc), path, "key it by a zone of fleetdns_zones"))
            continue
        if not isinstance(value, dict):
            problems.append(Problem("must be a mapping", path, f"its keys are: {', '.join(ZONE_OPTION_KEYS)}"))
            continue
        unknown = [str(k) for k in value if k not in ZONE_OPTION_KEYS]
        if unknown:
            problems.append(
                Problem(f"unknown key '{shorten(unknown[0])}'", path, f"its keys are: {', '.join(ZONE_OPTION_KEYS)}")
            )
        result[zone] = value
    return result


def _admin_key(fleet: FleetModel, zone: str, settings: ServerSettings, problems: list[Problem]) -> AdminKey | None:
    """The zone's provider key (zonesub over the zone); its port must be the server's."""
    name = fleet.config.zones[zone].provider
    provider = fleet.config.providers[name]
    if provider.type != RFC2136:
        return None
    port = provider.options["port"]
    if port != settings.port:
        problems.append(
            Problem(
                f"zone {zone.rstrip('.')}: provider '{name}' uses port {port} but named on {settings.host} "
                f"listens on bind_server_port {settings.port}",
                hint="make them equal",
            )
        )
    return fleet.admin_key(name)


def _zone(
    fleet: FleetModel,
    zone: str,
    settings: ServerSettings,
    options: dict[str, Any],
    admin: AdminKey | None,
    grants: list[tuple[str, str]],
    problems: list[Problem],
) -> dict[str, Any]:
    name = zone.rstrip(".")
    extra = [str(line).strip().rstrip(";") + ";" for line in options.get("extra_grants") or []]
    allow_update = [str(item) for item in options.get("allow_update") or []]
    if allow_update and (grants or extra):
        hosts = list(dict.fromkeys(host for host, _unused in grants))
        who = f"{', '.join(hosts)} {'has' if len(hosts) == 1 else 'have'} fleetdns_names in it" if hosts else None
        problems.append(
            Problem(
                f"zone {name}: bind_server_zone_options sets allow_update, but {who or 'extra_grants are set'}; "
                "per-device keys need update-policy, and BIND refuses allow-update and update-policy in one zone",
                hint=f"remove allow_update for {name}, or move those names to a zone without it",
            )
        )
    policy = []
    if not allow_update:
        policy = ([f"grant {admin.name} zonesub ANY;"] if admin else []) + [line for _unused, line in grants] + extra
    nameservers = _nameservers(fleet, zone, settings, options, problems)
    own = _own_name(settings.host, zone)
    transfer = options.get("allow_transfer") or ([f"key {admin.name}"] if admin else ["none"])
    return {
        "name": name,
        "file": f"{settings.zone_dir}/db.{name}",
        "ttl": fleet.config.zones[zone].default_ttl,
        "allow_update": allow_update,
        "update_policy": policy,
        "allow_transfer": [str(item) for item in transfer],
        "nameservers": nameservers,
        "glue": _glue(fleet, zone, nameservers, settings, problems),
        "soa": {
            "mname": own if own in nameservers else nameservers[0],
            "rname": _contact(settings.soa_contact, zone, problems),
            "refresh": settings.soa_refresh,
            "retry": settings.soa_retry,
            "expire": settings.soa_expire,
            "minimum": settings.soa_negative_ttl,
        },
        "admin_key": admin.name if admin else "",
    }


def _nameservers(
    fleet: FleetModel, zone: str, settings: ServerSettings, options: dict[str, Any], problems: list[Problem]
) -> list[str]:
    """Apex NS of a new zone: declared in fleetdns_zones, else the zone's or the role's
    nameservers, else this host's own name. Sorted, so the model does not depend on YAML order."""
    declared = fleet.config.zones[zone].records.get((zone, "NS"))
    if declared:
        return sorted(declared.values)
    given = options.get("nameservers") or settings.nameservers
    if given:
        try:
            return sorted(normalize_values("NS", list(given), zone))
        except InvalidValueError as exc:
            problems.append(Problem(f"zone {zone.rstrip('.')}: {exc}", "nameservers", "write host names like ns1"))
    return [_own_name(settings.host, zone)]


def _own_name(host: str, zone: str) -> str:
    """This host as a name server: its inventory name, inside the zone when it has no dot."""
    return host.lower().rstrip(".") + "." if "." in host else f"{host.lower()}.{zone}"


def _glue(
    fleet: FleetModel, zone: str, nameservers: list[str], settings: ServerSettings, problems: list[Problem]
) -> list[dict[str, str]]:
    """A/AAAA of the name servers inside the zone: declared in fleetdns_zones, else the glue address."""
    records = fleet.config.zones[zone].records
    glue = []
    for target in nameservers:
        if target != zone and not target.endswith("." + zone):
            continue
        found = [
            (rtype, value)
            for rtype in ("A", "AAAA")
            if (target, rtype) in records
            for value in sorted(records[(target, rtype)].values)
        ]
        if not found:
            address = settings.nameserver_address.strip()
            if address and _is_address(address):
                found = [("AAAA" if ":" in address else "A", address)]
            elif address:
                problems.append(
                    Problem(
                        f"'{shorten(address)}' is not an IP address",
                        "bind_server_nameserver_address",
                        "write an IPv4 or IPv6 address, like 192.0.2.53",
                    )
                )
            else:
                problems.append(
                    Problem(
                        f"zone {zone.rstrip('.')}: name server {target} is inside the zone but has no address",
                        hint="declare its A record in fleetdns_zones or set bind_server_nameserver_address",
                    )
                )
        glue += [{"name": target, "type": rtype, "value": value} for rtype, value in found]
    return glue


def _contact(contact: str, zone: str, problems: list[Problem]) -> str:
    """SOA RNAME: an e-mail address (user@domain), a name relative to the zone, or an absolute name."""
    text = str(contact).strip()
    if "@" in text:
        text = text.replace("@", ".", 1).rstrip(".") + "."
    try:
        return normalize_value("NS", text, zone)  # (a domain name in zone-file syntax, as an NS target is)
    except InvalidValueError as exc:
        problems.append(
            Problem(str(exc), "bind_server_soa_contact", "write an e-mail address like hostmaster@example.com")
        )
        return f"hostmaster.{zone}"
