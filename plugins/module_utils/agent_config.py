"""The agent's per-device configuration file: which names it keeps current, through which providers,
how it detects its address, and how often it may act.

The file is JSON, not YAML: a device runs the light install (dnspython and requests, no PyYAML),
and JSON needs nothing beyond the standard library. It is parsed with positions (jsonlocate.py), so
every problem names file:line:column, what is wrong and how to fix it, as `fleetdns validate` does
for an inventory. The file holds credentials, so it is refused when its group or others may read
it; provider options are checked by the same code as an inventory's (config.validate_provider), and
a provider that cannot serve a name (the name is outside its zone, or it cannot hold the record
type) is refused before any network traffic.

An example (docs/agent.md lists every option):

    {"names": [{"name": "gw.example.com", "providers": ["primary"]}],
     "providers": {"primary": {"type": "rfc2136", "zone": "example.com", "server": "ns1.example.com",
                               "tsig_key_name": "gw", "tsig_secret": "..."}},
     "detect": {"ipv4": {"sources": ["ipify", "opendns", "google"]}, "ipv6": false}}
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import stat
from dataclasses import dataclass, field
from typing import Any

from . import jsonlocate
from .agent_notify import apprise_available, apprise_understands
from .agent_platform import checks_permissions
from .config import DEFAULT_OWNER, ProviderConfig, provider_secrets, validate_owner, validate_provider
from .errors import ConfigError, Location, Problem, ProblemList
from .names import InvalidNameError, normalize_zone, zone_for_name
from .providers import provider_class
from .providers.base import UPDATE_ONLY_KIND, ZONE_KIND
from .public_ip import DEFAULT_TIMEOUT, Source, sources_from_config

FORMAT = 1
DEVICE_TTL = 60  # seconds: a moving name is seen quickly after a change and a failover works
DEFAULTS: dict[str, int | float] = {
    "interval": 300,  # seconds between polls in the long-running mode
    "jitter": 30,  # up to this many seconds added to or taken from each interval
    "debounce": 5,  # at most one pass per this many seconds, whatever triggers it
    "min_update_interval": 60,  # seconds between two updates of one name through one provider
    "backoff_initial": 60,  # seconds to wait after the first failure ...
    "backoff_max": 3600,  # ... doubling up to this
    "verify_deadline": 60,  # seconds to wait for the authoritative servers to answer the new address
    "verify_interval": 2,  # seconds between two verification queries
    "stale_after": 0,  # --status: a name not confirmed for this long is stale (0: 3 intervals + deadline)
}
TOP_KEYS = (
    "format",
    "owner",
    "state_file",
    "webhook",
    "apprise",
    "metrics_file",
    "allow_non_global",
    "detect",
    "providers",
    "names",
    *DEFAULTS,
)
FAMILY_KEYS = ("sources", "quorum", "timeout", "static", "command", "interface")
ANY_INTERFACE = "*"  # the interface detection over every interface but loopback
# Keys of a provider entry that are the agent's; the rest are the provider type's own options.
AGENT_PROVIDER_KEYS = ("zone", "ttl", "verify_servers", "ownership", "owner")
NAME_KEYS = ("name", "providers", "families", "ttl")
FAMILIES = {"ipv4": 4, "ipv6": 6}
RTYPES = {4: "A", 6: "AAAA"}
OWNERSHIP_MARKERS = "markers"  # the name must be registered to `owner` (fleetdns apply does that)
OWNERSHIP_KEY = "key"  # the key's update-policy grant is the ownership; no marker is read or written
AGENT_OWNERSHIP = (OWNERSHIP_MARKERS, OWNERSHIP_KEY)
COMMAND_TIMEOUT = 10.0
# TTLs a zone provider's service accepts, where it narrows DNS's own range: (lowest, highest, also
# allowed). Cloudflare: 60..86400 (Enterprise zones from 30), or 1 for "automatic".
SERVICE_TTLS: dict[str, tuple[int, int, tuple[int, ...]]] = {"cloudflare": (30, 86400, (1,))}


@dataclass(frozen=True)
class FamilyDetect:
    """How one family's address is found: a static address, a command's output, or public_ip sources."""

    family: int
    sources: list[Source] = field(default_factory=list)
    quorum: int | None = None
    timeout: float = DEFAULT_TIMEOUT
    static: str | None = None
    command: tuple[str, ...] = ()
    interface: str | None = None  # read the addresses of this interface (ANY_INTERFACE: of all)


@dataclass
class AgentProvider:
    """A provider entry: its validated options plus what the agent needs around them."""

    name: str
    config: ProviderConfig
    kind: str
    zone: str | None
    ttl: int | None
    verify_servers: list[tuple[str, int]]
    ownership: str
    owner: str


@dataclass
class AgentName:
    name: str  # absolute, lower case, with the final dot
    providers: list[str]
    families: tuple[int, ...]
    ttl: int | None


@dataclass
class AgentConfig:
    path: str
    owner: str
    state_file: str
    webhook: str | None
    allow_non_global: bool
    detect: dict[int, FamilyDetect]
    providers: dict[str, AgentProvider]
    names: list[AgentName]
    settings: dict[str, int | float]
    secrets: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # the parsed file, for the per-entry config hash
    apprise: list[str] = field(default_factory=list)  # apprise notification URLs (secrets: they hold tokens)
    metrics_file: str | None = None  # node_exporter textfile, replaced after every pass

    def ttl_for(self, name: AgentName, provider: AgentProvider) -> int:
        """The name's TTL, else the provider's, else DEVICE_TTL."""
        if name.ttl is not None:
            return name.ttl
        return provider.ttl if provider.ttl is not None else DEVICE_TTL

    def entry_settings(self, name: AgentName, provider: AgentProvider) -> dict[str, Any]:
        """What one name+provider's work depends on (hashed into the state: a change there retries
        a provider that had refused for good)."""
        raw_provider = self.raw.get("providers", {}).get(provider.name)
        raw_names = [n for n in self.raw.get("names", []) if isinstance(n, dict)]
        raw_name = next((n for n in raw_names if _absolute(n.get("name")) == name.name), None)
        return {"name": raw_name, "provider": raw_provider, "detect": self.raw.get("detect")}


def default_state_path(config_path: str) -> str:
    """Beside the config file: `gw.json` keeps its state in `gw.state.json`."""
    base, _ext = os.path.splitext(config_path)
    return base + ".state.json"


def load_agent_config(path: str, check_permissions: bool = True) -> AgentConfig:
    """Read and validate the config file; ConfigError (every problem, located) when it is not usable.

    `check_permissions` also refuses a file that group or others may read (on POSIX systems; on
    Windows an ACL decides who may read it, which this check does not read)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        info = os.stat(path)
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(f"not UTF-8 text ({exc.reason})", "", "save the file as UTF-8")]) from None
    except OSError as exc:
        raise ConfigError(
            [Problem(f"cannot read {path}: {exc.strerror or exc}", "", "check the --config path")]
        ) from None
    problems = ProblemList()
    if check_permissions and checks_permissions() and info.st_mode & 0o077:
        problems.add(
            f"{path} may be read by group or others (mode {stat.S_IMODE(info.st_mode):04o}); it holds credentials",
            "",
            f"chmod 600 {path}",
            Location(path, 1, 1),
        )
    try:
        located = jsonlocate.parse(text, path)
    except jsonlocate.JsonSyntaxError as exc:
        problems.add(f"invalid JSON: {exc.message}", "", "the agent's config file is JSON (RFC 8259)", exc.location)
        raise ConfigError(problems.problems) from None
    config = _Validator(path, located, problems).run()
    problems.raise_if_any()
    return config  # type: ignore[return-value]  # no problems means a config was built


class _Validator:
    def __init__(self, path: str, located: jsonlocate.Located, problems: ProblemList) -> None:
        self.path = path
        self.located = located
        self.problems = problems
        self.secrets: list[str] = []

    def add(self, container: Any, key: Any, path: str, message: str, hint: str = "", at_key: bool = False) -> None:
        where = self.located.key(container, key) if at_key else self.located(container, key)
        self.problems.add(message, path, hint, where)

    def unknown(self, data: dict, allowed: tuple[str, ...], path: str, what: str) -> None:
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"{what} keys are: {', '.join(allowed)}"
                self.add(data, key, f"{path}.{key}" if path else key, f"unknown key '{key}'", hint, at_key=True)

    def run(self) -> AgentConfig | None:
        data = self.located.data
        if not isinstance(data, dict):
            self.add(data, None, "", "the config must be a JSON object", '{"names": [...], "providers": {...}}')
            return None
        self.unknown(data, TOP_KEYS, "", "top-level")
        if data.get("format", FORMAT) != FORMAT:
            self.add(
                data, "format", "format", f"format {data.get('format')!r} is not {FORMAT}", f"set format to {FORMAT}"
            )
        owner = self._owner(data, "owner", DEFAULT_OWNER)
        settings = self._settings(data)
        state_file = self._string(data, "state_file", "state_file") or default_state_path(self.path)
        if state_file and not os.path.isabs(state_file):
            state_file = os.path.join(os.path.dirname(os.path.abspath(self.path)), state_file)
        webhook = self._string(data, "webhook", "webhook")
        if webhook and not webhook.startswith(("http://", "https://")):
            self.add(data, "webhook", "webhook", f"{webhook!r} is not an http:// or https:// URL")
        apprise = self._apprise(data)
        metrics_file = self._string(data, "metrics_file", "metrics_file")
        if metrics_file and not metrics_file.endswith(".prom"):
            self.add(
                data,
                "metrics_file",
                "metrics_file",
                f"{metrics_file!r} does not end in .prom; node_exporter's textfile collector reads only *.prom",
                "name it like /var/lib/node_exporter/textfile/fleetdns.prom",
            )
        if metrics_file and not os.path.isabs(metrics_file):
            metrics_file = os.path.join(os.path.dirname(os.path.abspath(self.path)), metrics_file)
        allow = data.get("allow_non_global", False)
        if not isinstance(allow, bool):
            self.add(data, "allow_non_global", "allow_non_global", "must be true or false")
            allow = False
        detect = self._detect(data.get("detect"), data)
        providers = self._providers(data.get("providers"), data, owner)
        names = self._names(data.get("names"), data, providers, detect)
        return AgentConfig(
            self.path,
            owner,
            state_file,
            webhook,
            allow,
            detect,
            providers,
            names,
            settings,
            self.secrets,
            data,
            apprise=apprise,
            metrics_file=metrics_file,
        )

    def _apprise(self, data: dict) -> list[str]:
        """apprise URLs: a list of strings; apprise must be installed and understand each one."""
        if "apprise" not in data:
            return []
        raw = data["apprise"]
        if not isinstance(raw, list) or not raw or not all(isinstance(u, str) and u for u in raw):
            self.add(data, "apprise", "apprise", "must be a list of apprise notification URLs", '["ntfy://topic"]')
            return []
        self.secrets.extend(raw)  # they carry tokens and passwords: never printed
        if not apprise_available():
            self.add(
                data,
                "apprise",
                "apprise",
                "apprise URLs are configured but the apprise package is not installed",
                "install the apprise package (pip install apprise), or remove the apprise option",
            )
            return []
        for index, url in enumerate(raw):
            if not apprise_understands(url):
                scheme = url.split("://", 1)[0] if "://" in url else "(no scheme)"
                self.add(
                    raw,
                    index,
                    f"apprise[{index}]",
                    f"apprise does not understand this URL (scheme {scheme})",
                    "check the URL against apprise's list of services",
                )
        return list(raw)

    def _string(self, data: dict, key: str, path: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            self.add(data, key, path, f"{value!r} is not a non-empty string")
            return None
        return value

    def _owner(self, data: dict, path: str, default: str) -> str:
        """`owner` of this mapping, checked as the inventory's fleetdns_owner is; else `default`."""
        if "owner" not in data:
            return default
        try:
            return validate_owner(data["owner"])
        except ConfigError as exc:
            for problem in exc.problems:
                self.add(data, "owner", path, problem.message, problem.hint)
            return default

    def _settings(self, data: dict) -> dict[str, int | float]:
        result = dict(DEFAULTS)
        for key, default in DEFAULTS.items():
            if key not in data:
                continue
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value > 86400 * 7:
                self.add(
                    data, key, key, f"{value!r} is not a number of seconds from 0 to 604800", f"default: {default}"
                )
                continue
            result[key] = value
        if result["backoff_max"] < result["backoff_initial"]:
            self.add(data, "backoff_max", "backoff_max", "backoff_max is below backoff_initial")
        if result["interval"] < 10:
            self.add(data, "interval", "interval", "an interval under 10 s would hammer the sources", "use 10 or more")
        return result

    # ---- detection

    def _detect(self, raw: Any, data: dict) -> dict[int, FamilyDetect]:
        if raw is None:
            raw = {"ipv4": {}, "ipv6": {}}
        if not isinstance(raw, dict):
            self.add(data, "detect", "detect", "detect must be an object", '{"ipv4": {...}, "ipv6": false}')
            return {}
        self.unknown(raw, tuple(FAMILIES), "detect", "detect")
        result: dict[int, FamilyDetect] = {}
        for label, family in FAMILIES.items():
            entry = raw.get(label, {})
            path = f"detect.{label}"
            if entry is False:
                continue
            if not isinstance(entry, dict):
                self.add(raw, label, path, "must be an object or false (false: never publish this family)")
                continue
            found = self._family(entry, family, path)
            if found is not None:
                result[family] = found
        return result

    def _family(self, entry: dict, family: int, path: str) -> FamilyDetect | None:
        self.unknown(entry, FAMILY_KEYS, path, "detection")
        modes = [key for key in ("sources", "static", "command", "interface") if key in entry]
        if len(modes) > 1:
            self.add(entry, modes[1], path, f"{' and '.join(modes)} exclude each other", "keep one of them")
            return None
        timeout = entry.get("timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 120:
            self.add(entry, "timeout", f"{path}.timeout", f"{timeout!r} is not a number of seconds from 0 to 120")
            timeout = DEFAULT_TIMEOUT
        if "static" in entry:
            value = entry["static"]
            try:
                address = ipaddress.ip_address(value) if isinstance(value, str) else None
            except ValueError:
                address = None
            if address is None or address.version != family:
                self.add(entry, "static", f"{path}.static", f"{value!r} is not an IPv{family} address")
                return None
            return FamilyDetect(family, static=str(address), timeout=float(timeout))
        if "command" in entry:
            command = entry["command"]
            if not isinstance(command, list) or not command or not all(isinstance(a, str) and a for a in command):
                self.add(
                    entry,
                    "command",
                    f"{path}.command",
                    "must be a list of strings: the program and its arguments",
                    '["/usr/local/bin/wan-address", "--family", "4"]',
                )
                return None
            return FamilyDetect(family, command=tuple(command), timeout=float(timeout))
        if "interface" in entry:
            value = entry["interface"]
            if value is True:
                value = ANY_INTERFACE
            if not isinstance(value, str) or not value or any(c.isspace() or c == "/" for c in value):
                self.add(
                    entry,
                    "interface",
                    f"{path}.interface",
                    f"{value!r} is not an interface name",
                    'an interface like "eth0", or true for any interface',
                )
                return None
            return FamilyDetect(family, interface=value, timeout=float(timeout))
        quorum = entry.get("quorum")
        if quorum is not None and (isinstance(quorum, bool) or not isinstance(quorum, int) or quorum < 1):
            self.add(entry, "quorum", f"{path}.quorum", f"{quorum!r} is not a whole number of at least 1")
            quorum = None
        label = "ipv4" if family == 4 else "ipv6"
        raw_sources = entry.get("sources")
        if raw_sources is not None and not isinstance(raw_sources, list):
            self.add(entry, "sources", f"{path}.sources", "must be a list of source names or objects")
            return None
        try:
            sources = [s for s in sources_from_config(raw_sources) if s.family == family]
        except ConfigError as exc:
            for problem in exc.problems:
                index = int(problem.path.split("[")[1].rstrip("]")) if "[" in problem.path else None
                self.add(raw_sources, index, f"{path}.{problem.path}", problem.message, problem.hint)
            return None
        if not sources:
            self.add(entry, "sources", f"{path}.sources", f"no source answers {label}", f'set "{label}": false')
            return None
        if quorum is not None and quorum > len(sources):
            self.add(entry, "quorum", f"{path}.quorum", f"quorum {quorum} is more than the {len(sources)} source(s)")
        return FamilyDetect(family, sources=sources, quorum=quorum, timeout=float(timeout))

    # ---- providers

    def _providers(self, raw: Any, data: dict, owner: str) -> dict[str, AgentProvider]:
        if not isinstance(raw, dict) or not raw:
            self.add(
                data,
                "providers" if "providers" in data else None,
                "providers",
                "providers must be an object naming at least one provider",
                '"providers": {"primary": {"type": "rfc2136", "zone": "example.com", ...}}',
            )
            return {}
        result = {}
        for name, settings in raw.items():
            path = f"providers.{name}"
            self.secrets.extend(provider_secrets(settings))
            if not isinstance(settings, dict):
                self.add(raw, name, path, "a provider must be an object with at least 'type'")
                continue
            found = self._provider(name, settings, path, owner)
            if found is not None:
                result[name] = found
        return result

    def _provider(self, name: str, settings: dict, path: str, owner: str) -> AgentProvider | None:
        options = {k: v for k, v in settings.items() if k not in AGENT_PROVIDER_KEYS}
        self.located.alias(options, settings)
        try:
            config = validate_provider(options, path, name, update_only=True, locate=self.located)
        except ConfigError as exc:
            self.problems.problems.extend(exc.problems)
            config = None
        type_name = settings.get("type")
        cls = provider_class(type_name) if isinstance(type_name, str) else None
        kind = cls.KIND if cls else ""
        zone = None
        if "zone" in settings:
            try:
                zone = normalize_zone(settings["zone"])
            except InvalidNameError as exc:
                self.add(settings, "zone", f"{path}.zone", str(exc), "a zone is a domain name like example.com")
        elif kind == ZONE_KIND:
            self.add(
                settings,
                None,
                path,
                f"a {type_name} provider needs 'zone'",
                'the zone the names are in, like "zone": "example.com"',
            )
        ttl = self._ttl(settings, f"{path}.ttl")
        if ttl is not None and kind == UPDATE_ONLY_KIND:
            self.add(
                settings,
                "ttl",
                f"{path}.ttl",
                f"a {type_name} service sets the TTL of its names itself; fleetdns cannot choose it",
                "remove ttl (it applies to zone providers: rfc2136, cloudflare, zonefile)",
            )
            ttl = None
        elif ttl is not None:
            problem = ttl_problem(str(type_name), ttl)
            if problem:
                self.add(settings, "ttl", f"{path}.ttl", problem, "choose a TTL the service accepts, like 60")
        servers = self._servers(settings, f"{path}.verify_servers", config)
        ownership = settings.get("ownership", OWNERSHIP_MARKERS)
        if ownership not in AGENT_OWNERSHIP:
            self.add(
                settings, "ownership", f"{path}.ownership", f"{ownership!r} is not one of {', '.join(AGENT_OWNERSHIP)}"
            )
        elif ownership == OWNERSHIP_KEY and kind == UPDATE_ONLY_KIND:
            self.add(
                settings,
                "ownership",
                f"{path}.ownership",
                "an update-only service keeps no ownership markers",
                "remove ownership",
            )
        provider_owner = self._owner(settings, f"{path}.owner", owner)
        if config is None:
            return None
        return AgentProvider(name, config, kind, zone, ttl, servers, str(ownership), provider_owner)

    def _ttl(self, data: dict, path: str) -> int | None:
        if "ttl" not in data:
            return None
        ttl = data["ttl"]
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= 2147483647:
            self.add(data, "ttl", path, f"{ttl!r} is not a TTL", "a whole number of seconds, like 60")
            return None
        return ttl

    def _servers(self, settings: dict, path: str, config: ProviderConfig | None) -> list[tuple[str, int]]:
        raw = settings.get("verify_servers")
        if raw is None:
            if config is not None and config.type == "rfc2136":
                return [(str(config.options["server"]), int(config.options.get("port") or 53))]
            return []  # the zone's NS, found when verifying
        if not isinstance(raw, list) or not raw:
            self.add(
                settings,
                "verify_servers",
                path,
                'must be a list of servers, like ["ns1.example.com", "192.0.2.53:5353"]',
            )
            return []
        result = []
        for index, item in enumerate(raw):
            parsed = _server(item)
            if parsed is None:
                self.add(raw, index, f"{path}[{index}]", f"{item!r} is not a host, host:port or [IPv6]:port")
            else:
                result.append(parsed)
        return result

    # ---- names

    def _names(
        self, raw: Any, data: dict, providers: dict[str, AgentProvider], detect: dict[int, FamilyDetect]
    ) -> list[AgentName]:
        if not isinstance(raw, list) or not raw:
            self.add(
                data,
                "names" if "names" in data else None,
                "names",
                "names must be a list of at least one name",
                '"names": [{"name": "gw.example.com", "providers": ["primary"]}]',
            )
            return []
        result: list[AgentName] = []
        seen: set[str] = set()
        for index, entry in enumerate(raw):
            path = f"names[{index}]"
            if not isinstance(entry, dict):
                self.add(
                    raw, index, path, "a name must be an object", '{"name": "gw.example.com", "providers": ["primary"]}'
                )
                continue
            self.unknown(entry, NAME_KEYS, path, "name")
            name = _absolute(entry.get("name"))
            if name is None:
                self.add(
                    entry,
                    "name" if "name" in entry else None,
                    f"{path}.name",
                    f"{entry.get('name')!r} is not a name",
                    "a fully qualified name like gw.example.com",
                )
                continue
            if name in seen:
                self.add(entry, "name", f"{path}.name", f"{name} is listed twice", "list each name once")
                continue
            seen.add(name)
            families = self._name_families(entry, path, detect)
            chosen = self._name_providers(entry, path, name, providers, families)
            ttl = self._ttl(entry, f"{path}.ttl")
            if ttl is not None:
                self._name_ttl(entry, path, ttl, [providers[p] for p in chosen])
            result.append(AgentName(name, chosen, families, ttl))
        return result

    def _name_ttl(self, entry: dict, path: str, ttl: int, chosen: list[AgentProvider]) -> None:
        """A name's own TTL needs a provider that sets TTLs, and one each of them accepts."""
        if chosen and all(p.kind == UPDATE_ONLY_KIND for p in chosen):
            self.add(
                entry,
                "ttl",
                f"{path}.ttl",
                f"none of its providers sets TTLs ({', '.join(p.name for p in chosen)}: update-only services "
                "set the TTL themselves)",
                "remove ttl, or add a zone provider (rfc2136, cloudflare, zonefile) for this name",
            )
            return
        for provider in chosen:
            problem = ttl_problem(provider.config.type, ttl) if provider.kind != UPDATE_ONLY_KIND else None
            if problem:
                self.add(entry, "ttl", f"{path}.ttl", f"provider '{provider.name}': {problem}", "like 60")

    def _name_families(self, entry: dict, path: str, detect: dict[int, FamilyDetect]) -> tuple[int, ...]:
        raw = entry.get("families")
        if raw is None:
            return tuple(sorted(detect))
        if not isinstance(raw, list) or not raw or any(f not in FAMILIES for f in raw):
            self.add(entry, "families", f"{path}.families", f"{raw!r} is not a list of ipv4/ipv6", '["ipv4"]')
            return ()
        families = tuple(sorted({FAMILIES[f] for f in raw}))
        for family in families:
            if family not in detect:
                self.add(
                    entry,
                    "families",
                    f"{path}.families",
                    f"IPv{family} detection is off (detect.ipv{family} is false)",
                    f"turn detect.ipv{family} on or leave ipv{family} out",
                )
        return families

    def _name_providers(
        self, entry: dict, path: str, name: str, providers: dict[str, AgentProvider], families: tuple[int, ...]
    ) -> list[str]:
        raw = entry.get("providers")
        if not isinstance(raw, list) or not raw or not all(isinstance(p, str) for p in raw):
            self.add(
                entry,
                "providers" if "providers" in entry else None,
                f"{path}.providers",
                "providers must be a list of provider names",
                f"known: {', '.join(providers) or 'none'}",
            )
            return []
        chosen = []
        for index, provider_name in enumerate(raw):
            where = f"{path}.providers[{index}]"
            provider = providers.get(provider_name)
            if provider is None:
                if provider_name not in (self.located.data.get("providers") or {}):
                    self.add(
                        raw,
                        index,
                        where,
                        f"unknown provider '{provider_name}'",
                        f"known: {', '.join(providers) or 'none'}",
                    )
                continue  # (a provider with problems of its own was reported there)
            problem = _cannot_serve(provider, name, families)
            if problem:
                self.add(raw, index, where, problem[0], problem[1])
                continue
            if provider_name in chosen:
                self.add(raw, index, where, f"provider '{provider_name}' is listed twice for {name}")
                continue
            chosen.append(provider_name)
        return chosen


def ttl_problem(type_name: str, ttl: int) -> str | None:
    """Why a provider type's service refuses `ttl` (None when it accepts it)."""
    rule = SERVICE_TTLS.get(type_name)
    if rule is None:
        return None
    lowest, highest, also = rule
    if ttl in also or lowest <= ttl <= highest:
        return None
    extra = f", or {' or '.join(map(str, also))}" if also else ""
    return f"TTL {ttl} is refused by {type_name}: it takes {lowest} to {highest}{extra}"


def _cannot_serve(provider: AgentProvider, name: str, families: tuple[int, ...]) -> tuple[str, str] | None:
    """Why `provider` cannot keep `name` current, with the fix; None when it can."""
    if provider.zone is not None and zone_for_name(name, [provider.zone]) is None:
        return (
            f"provider '{provider.name}' serves zone {provider.zone}; {name} is outside it",
            "use a provider of the name's zone, or correct the provider's zone",
        )
    cls = provider_class(provider.config.type)
    for family in families:
        if cls is not None and not cls.CAPABILITIES.supports(RTYPES[family]):
            return (f"provider '{provider.name}' ({provider.config.type}) cannot hold {RTYPES[family]} records", "")
    return None


def _absolute(raw: Any) -> str | None:
    if not isinstance(raw, str) or not raw.strip(". ") or " " in raw:
        return None
    try:
        return normalize_zone(raw)
    except InvalidNameError:
        return None


def _server(item: Any) -> tuple[str, int] | None:
    """'host', 'host:port', '[v6]:port' or a bare IPv6 address -> (host, port)."""
    if not isinstance(item, str) or not item or any(c.isspace() for c in item) or "/" in item:
        return None
    host, port = item, 53
    if item.startswith("["):
        inside, _sep, rest = item[1:].partition("]")
        host = inside
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                return None
            port = int(rest[1:])
    elif item.count(":") == 1:
        host, text = item.split(":")
        if not text.isdigit():
            return None
        port = int(text)
    if not host or not 0 < port < 65536:
        return None
    return host, port
