"""`fleetdns import --from-ddclient FILE` / `--from-ddns FILE`: turn a DDNS client's setup into
inventory entries (providers, zones, the host and its names), a vars file with the secrets (ready
for `ansible-vault encrypt`) and the device's agent config.

The inventory never holds a secret: each secret option is written as a reference to a variable,
`"{{ vault_fleetdns_<provider>_<option> }}"`, defined in the secrets file beside the inventory
(group_vars/all/fleetdns_secrets.yml by default, which Ansible and fleetdns both read as variables
of every host). The agent config is the device's own file and holds what the device needs to
update its names, secrets included, mode 0600 as the agent requires.

Each client service maps to a fleetdns provider type; a type is used only when the provider is
registered, and a client's user/secret pair fills the provider's first required non-secret and
secret options when there is no mapping written for it, so providers added later work without a
change here. Whatever cannot be translated is listed with its file:line and why.
"""

from __future__ import annotations

import json
import os
import re
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ansible_collections.fleetdns.ddns.plugins.module_utils import config as config_module
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import load_agent_config
from ansible_collections.fleetdns.ddns.plugins.module_utils.config import FleetConfig
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError, FleetDNSError
from ansible_collections.fleetdns.ddns.plugins.module_utils.files import write_text
from ansible_collections.fleetdns.ddns.plugins.module_utils.names import InvalidNameError, normalize_zone, zone_for_name
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import provider_class
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.base import ZONE_KIND
from ansible_collections.fleetdns.ddns.plugins.module_utils.tsig import TsigKeyError, read_key_file

from .inventory_edit import InventoryFiles
from .migrate_sources import Entry, Setup, read_ddclient, read_ddns
from .yamledit import Flow

SECRETS_FILE = Path("group_vars") / "all" / "fleetdns_secrets.yml"
CLIENTS_GROUP = "fleetdns_clients"
_KEY_WORD = re.compile(r"[^a-z0-9_]+")


@dataclass
class Provider:
    key: str
    type: str
    options: dict[str, Any]  # non-secret options
    secrets: dict[str, str]  # secret option -> value
    zone: str
    ttl: int | None = None


@dataclass
class Migration:
    setup: Setup
    providers: dict[str, Provider] = field(default_factory=dict)
    names: dict[str, list[str]] = field(default_factory=dict)  # absolute name -> provider keys
    families: dict[str, set[str]] = field(default_factory=dict)  # absolute name -> families (ddns client)
    untranslated: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---- translation ---------------------------------------------------------------------------------------

# The client's word for a service -> the fleetdns provider type (the same word when not listed).
SERVICES = {
    "nsupdate": "rfc2136",
    "noip": "dyndns2",
    "no-ip": "dyndns2",
    "dyndns": "dyndns2",
    "afraid": "freedns",
    "tencentcloud": "dnspod",
    "dnspod_com": "dnspod",
    "aliyun": "alidns",
}
DEFAULT_SERVERS = {  # ddclient's default server per protocol, as an https base URL
    "dyndns2": "https://members.dyndns.org",
    "noip": "https://dynupdate.no-ip.com",
    "no-ip": "https://dynupdate.no-ip.com",
}


def translate(setup: Setup, base_dir: Path, host: str, inventory_providers: set[str]) -> Migration:
    migration = Migration(setup, untranslated=list(setup.untranslated), notes=list(setup.notes))
    for entry in setup.entries:
        try:
            name = normalize_zone(entry.name.lower())  # absolute, checked like a zone name
        except InvalidNameError as exc:
            migration.untranslated.append(f"{entry.where}: {entry.name}: not a host name ({exc})")
            continue
        made = _provider(entry, name, base_dir, migration)
        if made is None:
            continue
        built, name = made
        key = _same_provider(migration, built) or _new_key(migration, built, host, inventory_providers)
        built.key = key
        migration.providers.setdefault(key, built)
        keys = migration.names.setdefault(name, [])
        if key not in keys:
            keys.append(key)
        family = entry.settings.get("family")
        if family:
            migration.families.setdefault(name, set()).add(family)
    return migration


def _provider(entry: Entry, name: str, base_dir: Path, migration: Migration) -> tuple[Provider, str] | None:
    """The provider for one entry and the entry's name as fleetdns writes it (absolute)."""
    service = entry.service.lower().strip()
    type_name = SERVICES.get(service, service)
    cls = provider_class(type_name) if type_name else None
    where = f"{entry.where}: {entry.name}"
    if cls is None:
        what = f"service {entry.service!r}" if entry.service else "no service (protocol/provider) given"
        migration.untranslated.append(f"{where}: {what}: fleetdns has no provider for it; not translated")
        return None
    settings = entry.settings
    login, password = settings.get("login") or settings.get("username") or settings.get("id") or "", ""
    password = settings.get("password") or settings.get("token") or ""
    if password.endswith(",") and migration.setup.kind == "ddclient":
        password = password[:-1]
        migration.notes.append(
            f"{where}: the password is followed by a comma; ddclient 3.10 takes that comma as part of the "
            "password, later ddclient versions do not: it was left out, check the password"
        )
    options: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    zone = _parent(name)
    ttl = _int(settings.get("ttl"))
    server = settings.get("server") or settings.get("endpoint") or DEFAULT_SERVERS.get(service, "")
    if type_name == "rfc2136":
        zone = _zone(settings.get("zone"), name, where, migration) or zone
        host, _sep, port = (settings.get("server") or "").partition(":")
        if not host:
            migration.untranslated.append(f"{where}: nsupdate without server=: not translated")
            return None
        options.update(server=host, port=int(port) if port.isdigit() else 53)
        key_file = password
        try:
            path = key_file if os.path.isabs(key_file) else str(Path(migration.setup.source).parent / key_file)
            key = read_key_file(path) if key_file else None
        except TsigKeyError as exc:
            migration.untranslated.append(f"{where}: TSIG key file: {exc.message}; not translated")
            return None
        if key is None:
            migration.untranslated.append(
                f"{where}: the TSIG key file {key_file or '(password= is empty)'} cannot be read here; copy it "
                "beside the ddclient config (or give its path) and import again; not translated"
            )
            return None
        options.update(tsig_key_name=key.name, tsig_algorithm=key.algorithm)
        secrets["tsig_secret"] = key.secret
        migration.notes.append(
            f"{where}: the agent uses the device key '{key.name}' with ownership: key (as ddclient did); in the "
            "inventory, give the zone an rfc2136 provider with a key that may write ownership markers"
        )
    elif type_name == "cloudflare":
        zone = _zone(settings.get("zone"), name, where, migration) or _registered(name)
        if login and login != "token":
            options["api_email"] = login
            secrets["api_key"] = password
        else:
            secrets["api_token"] = password
        if ttl == 1:
            migration.notes.append(f"{where}: ttl=1 is Cloudflare's 'automatic'; kept as the agent's ttl 1")
    elif type_name == "dyndns2":
        options["username"] = login
        secrets["password"] = password
        if server:
            options["server"] = _https(server, where, settings, migration)
        if settings.get("script"):
            options["path"] = settings["script"] if settings["script"].startswith("/") else "/" + settings["script"]
    elif type_name == "duckdns":
        if not name.endswith(".duckdns.org."):
            name = f"{name[:-1]}.duckdns.org."
            migration.notes.append(f"{where}: the DuckDNS name is {name[:-1]}")
        zone = "duckdns.org."
        secrets["token"] = password
    elif type_name == "freedns":
        options["username"] = login
        secrets["password"] = password
    elif type_name == "namecheap":
        domain = (login or _registered(name)).rstrip(".")
        options["domain"] = domain
        secrets["password"] = password
        zone = normalize_zone(domain)
    else:
        _generic(cls, login, password, options, secrets)
        zone = _zone(settings.get("zone"), name, where, migration) or _registered(name)
    if type_name in ("duckdns", "freedns", "namecheap") and settings.get("server"):
        migration.notes.append(
            f"{where}: server={settings['server']}: fleetdns talks to the service's own address (the provider's "
            "`server` option sets another)"
        )
    problems = _option_problems(type_name, options, secrets)
    if problems:
        migration.untranslated.append(f"{where}: {problems}; not translated")
        return None
    return Provider("", type_name, options, secrets, zone, ttl), name


def _generic(cls: Any, login: str, password: str, options: dict, secrets: dict) -> None:
    """A provider with no mapping written here: the user part fills its first required non-secret
    option, the secret its first required secret option (as its OPTIONS declare them)."""
    plain = [k for k, spec in cls.OPTIONS.items() if spec.required and not spec.secret]
    secret = [k for k, spec in cls.OPTIONS.items() if spec.secret and (spec.required or not secrets)]
    if plain and login:
        options[plain[0]] = login
    if secret and password:
        secrets[secret[0]] = password


def _option_problems(type_name: str, options: dict, secrets: dict) -> str:
    try:
        config_module.validate_provider({"type": type_name, **options, **secrets}, "provider", update_only=True)
    except ConfigError as exc:
        return "; ".join(p.message for p in exc.problems)
    return ""


def _https(server: str, where: str, settings: dict, migration: Migration) -> str:
    if server.startswith(("http://", "https://")):
        return server.rstrip("/")
    if settings.get("ssl", "yes").lower() in ("no", "0", "false", "n", "f"):
        migration.notes.append(f"{where}: ssl=no: fleetdns talks to {server} over https")
    return f"https://{server.rstrip('/')}"


def _zone(raw: str | None, name: str, where: str, migration: Migration) -> str | None:
    if not raw:
        return None
    try:
        zone = normalize_zone(raw.lower())
    except InvalidNameError as exc:
        migration.untranslated.append(f"{where}: zone={raw}: {exc}")
        return None
    if zone_for_name(name, [zone]) is None:
        migration.untranslated.append(f"{where}: zone={raw} does not hold {name}; the name's parent is used")
        return None
    return zone


def _parent(name: str) -> str:
    labels = name.rstrip(".").split(".")
    return ".".join(labels[1:]) + "." if len(labels) > 2 else name


def _registered(name: str) -> str:
    """The last two labels: the registered domain for the usual two-level case."""
    labels = name.rstrip(".").split(".")
    return ".".join(labels[-2:]) + "."


def _int(value: str | None) -> int | None:
    return int(value) if value and str(value).isdigit() else None


def _same_provider(migration: Migration, built: Provider) -> str | None:
    for key, known in migration.providers.items():
        if (known.type, known.options, known.secrets, known.zone, known.ttl) == (
            built.type, built.options, built.secrets, built.zone, built.ttl,
        ):  # fmt: skip
            return key
    return None


def _new_key(migration: Migration, built: Provider, host: str, taken: set[str]) -> str:
    base = f"{host}-{built.type}"
    key, number = base, 2
    while key in migration.providers or key in taken:
        key, number = f"{base}-{number}", number + 1
    return key


def secret_var(provider_key: str, option: str) -> str:
    return f"vault_fleetdns_{_KEY_WORD.sub('_', provider_key.lower())}_{option}"


# ---- output ------------------------------------------------------------------------------------------------


def agent_config(migration: Migration, owner: str) -> dict[str, Any]:
    names = []
    for name, keys in migration.names.items():
        item: dict[str, Any] = {"name": name.rstrip("."), "providers": keys}
        families = set(migration.families.get(name) or ("ipv4", "ipv6"))
        for key in keys:  # only what every provider of the name can hold (Namecheap: no AAAA)
            families &= _families(migration.providers[key].type)
        if len(families) == 1:
            item["families"] = sorted(families)
        names.append(item)
    providers: dict[str, Any] = {}
    for key, provider in migration.providers.items():
        entry: dict[str, Any] = {"type": provider.type, "zone": provider.zone.rstrip(".")}
        entry.update(provider.options)
        entry.update(provider.secrets)
        cls = provider_class(provider.type)
        if provider.ttl is not None and cls is not None and cls.KIND == ZONE_KIND:  # DDNS services set their own
            entry["ttl"] = provider.ttl
        if provider.type == "rfc2136":
            # ddclient's nsupdate used the device's own key and no markers: its update-policy grant
            # is what decides, as before
            entry["ownership"] = "key"
        providers[key] = entry
    config: dict[str, Any] = {"format": 1, "owner": owner, "names": names, "providers": providers}
    if migration.setup.detect:
        config["detect"] = migration.setup.detect
    if migration.setup.interval is not None:
        config["interval"] = migration.setup.interval
    return config


def _families(type_name: str) -> set[str]:
    cls = provider_class(type_name)
    types = cls.CAPABILITIES.record_types if cls is not None else ()
    return {family for family, rtype in (("ipv4", "A"), ("ipv6", "AAAA")) if rtype in types}


def _inventory_provider(provider: Provider) -> dict[str, Any]:
    body: dict[str, Any] = {"type": provider.type, **provider.options}
    for option in provider.secrets:
        body[option] = "{{ " + secret_var(provider.key, option) + " }}"
    return body


def run_migration(ctx: Any) -> int:
    from .commands import _load_inventory, inventory_path, load

    args = ctx.args
    if args.own or args.provider:
        ctx.out.error("--own and --provider belong to --zone")
        return 1
    source = args.from_ddclient or args.from_ddns
    try:
        text = Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FleetDNSError(f"cannot read {source}: {getattr(exc, 'strerror', None) or exc}") from None
    setup = read_ddclient(text, source) if args.from_ddclient else read_ddns(text, source)
    inventory = Path(inventory_path(args))
    if inventory.exists():
        loaded = load(ctx)
        config: FleetConfig | None = loaded.config
    else:
        config = None
    host = args.host or socket.gethostname().split(".")[0].lower()
    _check_host(host, config)
    taken = set(config.providers) if config else set()
    migration = translate(setup, Path(source).parent, host, taken)
    for provider in migration.providers.values():
        ctx.redactor.add(*provider.secrets.values())
    if not migration.names:
        for line in migration.untranslated:
            ctx.out.info(f"not translated: {line}")
        raise FleetDNSError(
            f"{source}: nothing could be translated, so nothing was written",
            "the lines above say what was not translated and why",
        )
    agent_path = Path(args.agent_config or f"{host}.agent.json")
    secrets_path = Path(args.secrets_file) if args.secrets_file else inventory.parent / SECRETS_FILE
    files = InventoryFiles(inventory)
    if not inventory.exists():
        files.doc(inventory, create=True)
    _check_secrets_place(files, secrets_path, bool(args.secrets_file))
    owner = config.owner if config else config_module.DEFAULT_OWNER
    _add_to_inventory(files, migration, config, host)
    _add_secrets(files, secrets_path, migration)
    agent = agent_config(migration, owner)
    agent_text = json.dumps(agent, indent=2) + "\n"
    if agent_path.exists():
        raise FleetDNSError(f"{agent_path} exists already; nothing was written", "give --agent-config another path")
    _check_agent_config(agent_text, agent_path)
    if args.dry_run:
        from .importer import _diff

        ctx.out.result(_diff(files).rstrip("\n"))
        ctx.out.result(f"--- the agent config {agent_path} (secrets hidden):")
        ctx.out.result(ctx.redactor.scrub(agent_text).rstrip("\n"))
    else:
        vault_file = getattr(args, "vault_password_file", None)

        def check() -> None:
            loaded_now = _load_inventory(str(inventory), vault_file)
            config_module.validate(loaded_now.all_vars, loaded_now.hosts, loaded_now.locate)

        written = files.write(check)
        try:
            write_text(str(agent_path), agent_text, 0o600)
        except OSError as exc:
            raise FleetDNSError(f"cannot write {agent_path}: {exc.strerror}") from None
        ctx.out.result(f"wrote {', '.join(str(p) for p in written)} and the agent config {agent_path} (mode 0600)")
        ctx.out.result(f"encrypt the secrets now: ansible-vault encrypt {secrets_path}")
    _report(ctx, migration, host)
    return 0


def _check_host(host: str, config: FleetConfig | None) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", host):
        raise FleetDNSError(f"--host {host!r} is not an inventory host name", "give --host like gw or sensor-01")


def _check_secrets_place(files: InventoryFiles, path: Path, given: bool) -> None:
    if given:
        return
    group_vars = files.base_dir / "group_vars"
    for name in ("all.yml", "all.yaml", "all.json", "all"):
        existing = group_vars / name
        if existing.is_file():
            raise FleetDNSError(
                f"{existing} exists, so Ansible would not read a group_vars/all/ directory beside it: there is no "
                "place for the secrets file; nothing was written",
                f"move {existing} to {group_vars / 'all' / 'main.yml'} (Ansible reads it the same), or give "
                "--secrets-file with a vars file of your own",
            )


def _add_to_inventory(files: InventoryFiles, migration: Migration, config: FleetConfig | None, host: str) -> None:
    bodies = {key: _inventory_provider(provider) for key, provider in migration.providers.items()}
    place = files.place("fleetdns_providers")
    if place.node is None:
        files.add_nested(place.doc, place.path[:-1], place.path[-1], bodies)
    else:
        for key, body in bodies.items():
            files.add_nested(place.doc, place.path, key, body)
    _add_zones_and_host(files, migration, config, host)


def _add_zones_and_host(files: InventoryFiles, migration: Migration, config: FleetConfig | None, host: str) -> None:
    known = list(config.zones) if config else []
    new_zones: dict[str, Any] = {}
    for name, keys in migration.names.items():
        provider = migration.providers[keys[0]]
        existing = zone_for_name(name, known + [normalize_zone(z) for z in new_zones])
        if existing is not None:
            declared = config.zones.get(existing) if config else None
            if declared is not None and declared.provider != provider.key:
                migration.notes.append(
                    f"{name}: its zone {existing} is in the inventory with provider '{declared.provider}'; the "
                    f"agent config uses '{provider.key}'"
                )
            continue
        new_zones[provider.zone.rstrip(".")] = Flow(provider=provider.key)
    place = files.place("fleetdns_zones")
    if new_zones:
        if place.node is None:
            files.add_nested(place.doc, place.path[:-1], place.path[-1], new_zones)
        else:
            for zone, body in new_zones.items():
                files.add_nested(place.doc, place.path, zone, body)
    _add_host(files, host, [n.rstrip(".") for n in migration.names], config)


def _add_host(files: InventoryFiles, host: str, names: list[str], config: FleetConfig | None) -> None:
    doc = files.doc(files.inventory)
    hosts_path = ["all", "children", CLIENTS_GROUP, "hosts"]
    existing = doc.get([*hosts_path, host])
    if existing is not None or (config is not None and host in config.hosts and config.hosts[host].names):
        raise FleetDNSError(
            f"host '{host}' is in the inventory already; nothing was written",
            "give --host a new name for this device, or add the names to the host by hand",
        )
    files.add_nested(doc, hosts_path, host, Flow(fleetdns_names=names, fleetdns_agent="fleetdns"))


def _add_secrets(files: InventoryFiles, path: Path, migration: Migration) -> None:
    doc = files.doc(path, create=True)
    if path in files.created:
        doc.insert(
            0,
            "# Secrets for the inventory's fleetdns_providers, written by `fleetdns import`.\n"
            f"# Encrypt this file before committing it: ansible-vault encrypt {path.name}\n",
        )
    for key, provider in migration.providers.items():
        for option, value in provider.secrets.items():
            var = secret_var(key, option)
            if doc.get([var]) is not None:
                raise FleetDNSError(f"{path}: {var} is set already; nothing was written", "remove it, or use --host")
            doc.append_document(var, value)


def _check_agent_config(text: str, path: Path) -> None:
    """The agent's own config check, on the text about to be written."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.exists():
        raise FleetDNSError(f"cannot write {path}: {directory} does not exist; nothing was written")
    fd, temp = tempfile.mkstemp(prefix=".fleetdns-agent-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, 0o600)
        load_agent_config(temp)
    except ConfigError as exc:
        raise FleetDNSError(
            "the agent config made from this setup does not pass the agent's check: "
            + "; ".join(p.message for p in exc.problems[:3]),
            "report this as a bug in fleetdns import",
        ) from None
    finally:
        os.unlink(temp)


def _report(ctx: Any, migration: Migration, host: str) -> None:
    lines = [f"host {host}: {len(migration.names)} name(s) through {len(migration.providers)} provider(s):"]
    for name, keys in migration.names.items():
        lines.append(f"  {name.rstrip('.')} via {', '.join(keys)}")
    if migration.notes:
        lines.append("notes:")
        lines.extend(f"  {note}" for note in migration.notes)
    if migration.untranslated:
        lines.append(f"not translated ({len(migration.untranslated)}):")
        lines.extend(f"  {line}" for line in migration.untranslated)
    lines.append(
        "next: fleetdns validate, then fleetdns apply --adopt to register the names the client kept "
        "(zone providers), and install the agent config on the device"
    )
    ctx.out.result("\n".join(lines))
