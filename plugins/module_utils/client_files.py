"""What the client role writes on a device: the fleetdns agent's JSON config, or ddclient's
ddclient.conf and TSIG key file, computed from the fleet model (never from Jinja).

Every value a device gets comes from its host's entry in the fleet model: its names grouped by zone,
each zone's provider with its connection settings, the provider's credentials from the inventory
(an update-only service, Cloudflare), and for an rfc2136 zone the device's own TSIG key (made by the
bind_server role on the controller; the provider's admin key is never handed out).

ddclient 3.10 is written one setting per line, the password last before the host lines: on a
continued line 3.10 keeps a trailing comma in a password and sometimes drops `ttl=`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import Problem
from .fleet import RFC2136, Client, ClientZone, FleetModel
from .tsig import TsigKey, render_key

AGENT_FLEETDNS = "fleetdns"
AGENT_DDCLIENT = "ddclient"
NSUPDATE = "/usr/bin/nsupdate"
# dyndns2 servers that ddclient knows under a protocol of their own.
NOIP_HOSTS = ("dynupdate.no-ip.com",)
FAMILIES = ("ipv4", "ipv6")
# How the fleetdns agent runs on a device: the role's fleetdns_agent_mode, or cron without systemd.
RUN_MODES = ("service", "timer")
RUN_MODE_CRON = "cron"
DDCLIENT_ERROR_INTERVAL = 300  # ddclient's own default: seconds to wait after a failed update


@dataclass
class ClientSettings:
    """The client role's settings for one device (its role variables, already checked by Ansible)."""

    detect: dict[str, Any] = field(default_factory=dict)  # the agent's `detect` object
    static_ipv4: str = ""  # publish this IPv4 address instead of detecting it
    static_ipv6: str = ""
    allow_non_global: bool = False
    ttl: int | None = None
    agent_options: dict[str, Any] = field(default_factory=dict)  # more top-level agent options
    state_file: str = "/var/lib/fleetdns/agent.state.json"
    ddclient_key_file: str = "/etc/ddclient/fleetdns.key"
    ddclient_interface: str = ""  # ddclient `use=if` on this interface when no static address is set
    ddclient_daemon: int = 300


@dataclass
class DeviceFiles:
    """The files of one device; `secrets` are the values that must never be shown."""

    agent_config: str = ""
    ddclient_conf: str = ""
    ddclient_key: str = ""
    secrets: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def agent_run_mode(requested: str, service_mgr: str | None) -> str:
    """How the agent runs: the mode asked for (service or timer) on a host whose service manager is
    systemd (Ansible's `service_mgr` fact), cron on any other host (sysvinit, openrc, a container
    started without an init, or a fact Ansible could not work out)."""
    if requested not in RUN_MODES:
        raise ValueError(f"fleetdns_agent_mode is {requested!r}; use one of: {', '.join(RUN_MODES)}")
    return requested if service_mgr == "systemd" else RUN_MODE_CRON


def needs_device_key(client: Client) -> bool:
    """True when one of the client's zones is served over RFC 2136 (signed with the device's key)."""
    return any(zone.provider_type == RFC2136 for zone in client.zones)


def device_files(fleet: FleetModel, client: Client, settings: ClientSettings, key: TsigKey | None) -> DeviceFiles:
    """The files for the client's agent (fleetdns or ddclient). Problems instead of files when the
    inventory asks for something the agent cannot do (a missing device key, a zonefile zone, ...)."""
    files = DeviceFiles()
    if needs_device_key(client) and key is None:
        files.problems.append(
            Problem(
                f"host {client.host}: no TSIG key named '{client.key_name}' on the controller",
                hint="run the bind_server role first (playbooks/site.yml does): it makes one key per device",
            )
        )
        return files
    if key is not None:
        files.secrets.append(key.secret)
    for zone in (zone for zone in client.zones if zone.provider_type != RFC2136):
        provider = fleet.config.providers[zone.provider]
        files.secrets += [str(provider.options[k]) for k in provider.secret_keys if provider.options.get(k)]
    if client.agent == AGENT_DDCLIENT:
        _ddclient(fleet, client, settings, key, files)
    else:
        files.agent_config = agent_config(fleet, client, settings, key)
    return files


def agent_config(fleet: FleetModel, client: Client, settings: ClientSettings, key: TsigKey | None) -> str:
    """The fleetdns agent's config file (JSON): one provider entry per zone, each name through the
    provider of its zone."""
    providers: dict[str, dict[str, Any]] = {}
    names: list[dict[str, Any]] = []
    for zone in client.zones:
        entry_name = _entry_name(client, zone)
        providers[entry_name] = _agent_provider(fleet, zone, key, settings)
        names += [{"name": name.rstrip("."), "providers": [entry_name]} for name in zone.names]
    data: dict[str, Any] = {
        "format": 1,
        "owner": fleet.config.owner,
        "state_file": settings.state_file,
        "names": names,
        "providers": providers,
    }
    detect = _detect(settings)
    if detect:
        data["detect"] = detect
    if settings.allow_non_global:
        data["allow_non_global"] = True
    data.update(settings.agent_options)
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def _entry_name(client: Client, zone: ClientZone) -> str:
    """The provider's inventory name, or provider@zone when the device reaches it for several zones."""
    shared = sum(1 for other in client.zones if other.provider == zone.provider) > 1
    return f"{zone.provider}@{zone.zone.rstrip('.')}" if shared else zone.provider


def _agent_provider(fleet: FleetModel, zone: ClientZone, key: TsigKey | None, settings: ClientSettings) -> dict:
    provider = fleet.config.providers[zone.provider]
    entry: dict[str, Any] = {"type": provider.type}
    if zone.provider_type == RFC2136:
        if key is None:  # device_files reports this as a problem first; never fall back to the admin key
            raise ValueError(f"zone {zone.zone}: an rfc2136 zone needs the device's own key")
        entry.update(zone.settings)
        # The device's key signs; its update-policy grant (its own names' A/AAAA only) is what it owns.
        entry.update(tsig_key_name=key.name, tsig_algorithm=key.algorithm, tsig_secret=key.secret, ownership="key")
        entry["zone"] = zone.zone.rstrip(".")
    else:
        entry.update({k: v for k, v in provider.options.items() if v is not None})
        if not zone.update_only:
            entry["zone"] = zone.zone.rstrip(".")
            zone_ownership = fleet.config.zones[zone.zone].ownership
            entry["ownership"] = "markers" if zone_ownership == "markers" else "key"
    if settings.ttl is not None and not zone.update_only:
        entry["ttl"] = settings.ttl
    return entry


def _detect(settings: ClientSettings) -> dict[str, Any]:
    detect = dict(settings.detect)
    for family, static in (("ipv4", settings.static_ipv4), ("ipv6", settings.static_ipv6)):
        if static:
            detect[family] = {"static": static}
    return detect


def _ddclient(fleet: FleetModel, client: Client, settings: ClientSettings, key: TsigKey | None, files: DeviceFiles):
    blocks: list[list[str]] = []
    schemes: set[str] = set()
    ca_files: set[str] = set()
    for zone in client.zones:
        provider = fleet.config.providers[zone.provider]
        block = _ddclient_block(client, zone, provider.options, settings, files.problems)
        if block is None:
            continue
        lines, scheme = block
        if lines[0] != "protocol=nsupdate":
            lines.insert(1, f"min-error-interval={DDCLIENT_ERROR_INTERVAL}")  # not the nsupdate blocks' 0
        if scheme:
            schemes.add(scheme)
        if provider.options.get("ca_bundle"):
            ca_files.add(str(provider.options["ca_bundle"]))
        blocks.append(lines)
    if len(schemes) > 1:
        files.problems.append(
            Problem(
                f"host {client.host}: ddclient uses TLS for all of its services or for none, and this host's "
                "providers mix http:// and https:// servers",
                hint="give the host the fleetdns agent (fleetdns_agent: fleetdns), or serve every provider over https",
            )
        )
    if files.problems:
        return
    head = [
        "# Written by the fleetdns.ddns.client role from the inventory: changes here are overwritten.",
        f"daemon={settings.ddclient_daemon}",
        "syslog=yes",
        "pid=/run/ddclient.pid",
        f"ssl={'no' if schemes == {'http'} else 'yes'}",
    ]
    if len(ca_files) == 1:
        head.append(f"ssl_ca_file={ca_files.pop()}")
    head += _ddclient_use(settings)
    files.ddclient_conf = "\n".join(head + [line for block in blocks for line in block]) + "\n"
    if key is not None:
        files.ddclient_key = render_key(key)


def _ddclient_use(settings: ClientSettings) -> list[str]:
    """ddclient 3.10 has one `use=` for the host's address (no separate IPv6 source)."""
    if settings.static_ipv4:
        return ["use=ip", f"ip={settings.static_ipv4}"]
    if settings.static_ipv6:
        return ["use=ip", f"ip={settings.static_ipv6}"]
    if settings.ddclient_interface:
        return ["use=if", f"if={settings.ddclient_interface}"]
    return ["use=web", "web=ipify-ipv4"]


def _server(url: Any) -> tuple[str, str, str]:
    """A provider's server URL as ddclient takes it: host[:port], the path, the scheme."""
    parts = urlsplit(str(url))
    return parts.netloc, parts.path.rstrip("/"), parts.scheme


def _ddclient_block(
    client: Client, zone: ClientZone, options: dict[str, Any], settings: ClientSettings, problems: list[Problem]
) -> tuple[list[str], str] | None:
    """The lines of one zone: protocol and its settings one per line, password last, then the names.
    Every setting a later block could inherit is written in each block."""
    names = [name.rstrip(".") for name in zone.names]
    kind = zone.provider_type
    where = f"host {client.host}, zone {zone.zone.rstrip('.')} (provider '{zone.provider}')"
    if kind == RFC2136:
        server = f"{options['server']}:{options.get('port') or 53}"
        lines = ["protocol=nsupdate", f"server={server}", f"login={NSUPDATE}", f"zone={zone.zone.rstrip('.')}"]
        # ddclient 3.10 records a successful nsupdate as `noconnect`, so with the default
        # min-error-interval (5 minutes) it would hold back the next address change that long.
        lines += [f"ttl={settings.ttl or 60}", "min-error-interval=0", f"password={settings.ddclient_key_file}"]
        return lines + names, ""
    if kind == "cloudflare":
        if not options.get("api_token"):
            problems.append(
                Problem(f"{where}: ddclient reaches Cloudflare with an API token only", hint="set api_token")
            )
            return None
        host, path, scheme = _server(options.get("base_url") or "https://api.cloudflare.com/client/v4")
        lines = ["protocol=cloudflare", f"server={host}{path}", f"zone={zone.zone.rstrip('.')}", "login=token"]
        lines += [f"ttl={settings.ttl or 1}", f"password={_quoted(options['api_token'])}"]
        return lines + names, scheme
    if kind == "dyndns2":
        host, path, scheme = _server(options.get("server"))
        script = options.get("path") or "/nic/update"
        if host in NOIP_HOSTS and script == "/nic/update":
            lines = ["protocol=noip", f"server={host}"]
        else:
            lines = ["protocol=dyndns2", f"server={host}{path}", f"script={script}"]
        lines += [f"login={options['username']}", f"password={_quoted(options['password'])}"]
        return lines + names, scheme
    if kind == "duckdns":
        host, _path, scheme = _server(options.get("server"))
        lines = ["protocol=duckdns", f"server={host}", "login=unused", f"password={_quoted(options['token'])}"]
        return lines + names, scheme
    if kind == "freedns":
        if not (options.get("username") and options.get("password")):
            problems.append(
                Problem(
                    f"{where}: ddclient's freedns protocol logs in with the account's username and password",
                    hint="set username and password on the provider, or give the host the fleetdns agent",
                )
            )
            return None
        host, _path, scheme = _server(options.get("api_server") or "https://freedns.afraid.org")
        lines = ["protocol=freedns", f"server={host}", f"login={options['username']}"]
        lines.append(f"password={_quoted(options['password'])}")
        return lines + names, scheme
    if kind == "namecheap":
        host, _path, scheme = _server(options.get("server"))
        lines = ["protocol=namecheap", f"server={host}", f"login={options['domain']}"]
        lines.append(f"password={_quoted(options['password'])}")
        return lines + names, scheme
    problems.append(
        Problem(
            f"{where}: ddclient cannot update a {kind} provider",
            hint="ddclient speaks rfc2136 (nsupdate), cloudflare, dyndns2, duckdns, freedns and namecheap; "
            "give the host the fleetdns agent (fleetdns_agent: fleetdns) or move the zone",
        )
    )
    return None


def _quoted(secret: Any) -> str:
    """A password as ddclient 3.10 reads it: everything between the first and the last single quote
    of the line, taken as it is (no escapes; `#`, `,` and quotes inside are kept)."""
    return f"'{secret}'"
