"""Read an existing DDNS client's configuration into one neutral shape (`Setup`) that
fleetdns/migrate.py turns into inventory entries and an agent config.

- ddclient.conf, read as ddclient 3.10 reads it: `#` comments, `\\` continuation lines, options
  `name=value` (no spaces around `=`) separated by commas and/or spaces, quotes and backslash
  escapes in values, the special rule for `password=` (everything up to the next whitespace, or a
  single-quoted string, taken as is), global options on lines without hosts, and the host lines
  `[options] host[,host...] [login [password]]` with `host=` as another way to name them.
- the `ddns` client (PyPI `ddns`): its JSON config, both the single-provider form (`dns`, `id`,
  `token`, `ipv4`, `ipv6`, `index4`, `index6`, `ttl`, ...) and the multi-provider form (`providers`:
  a list of such objects with `provider`), `//` and `#` comment lines allowed as the client allows;
  and the INI form users write for it: `[Settings]` (`check_interval`, `force_update`) and one
  section per domain with `provider`, `username`, `password`, `domain`.

Every setting is either translated or listed in `Setup.untranslated` with where it is and why.
"""

from __future__ import annotations

import configparser
import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import FleetDNSError


@dataclass
class Entry:
    """One name as the client keeps it: which service (the client's own word for it), the settings
    that apply to it, and where it is written."""

    name: str
    service: str
    settings: dict[str, str]
    where: str


@dataclass
class Setup:
    """A client's configuration: its names, how it finds addresses, how often it runs."""

    source: str
    kind: str  # "ddclient" or "ddns"
    entries: list[Entry] = field(default_factory=list)
    detect: dict[str, Any] = field(default_factory=dict)  # the agent's `detect` (families left out: default)
    interval: int | None = None
    untranslated: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---- ddclient -----------------------------------------------------------------------------------------

_ASSIGNMENT = re.compile(r"^[,\s]*([a-z][0-9a-z_-]*)=(.*)", re.IGNORECASE | re.DOTALL)
_PASSWORD = re.compile(r"^([^#]*\s)?([^#]*?password\S*?)\s*=\s*('.*'|[^']\S*)(.*)")
# Options that describe the host entries; the rest are ddclient's own running options.
DDCLIENT_ENTRY_OPTIONS = ("protocol", "server", "login", "password", "zone", "ttl", "script", "ssl", "host")
DDCLIENT_DETECT_OPTIONS = (
    "use", "usev4", "usev6", "ip", "ipv4", "ipv6", "if", "ifv4", "ifv6", "web", "webv4", "webv6",
    "web-skip", "webv4-skip", "webv6-skip", "cmd", "cmdv4", "cmdv6", "cmd-skip", "fw", "fwv4", "fwv6",
    "fw-skip", "fw-login", "fw-password",
)  # fmt: skip
# ddclient options the agent has no use for, and why (each is still listed, never dropped silently).
DDCLIENT_NOT_NEEDED = {
    "daemon": "",  # translated: interval
    "syslog": "the agent logs one line per decision to stdout (journald keeps it)",
    "pid": "the agent runs under systemd (or cron/timers with --once); no pid file",
    "mail": "use the agent's `webhook` to be told of updates and failures",
    "mail-failure": "use the agent's `webhook` to be told of failures",
    "quiet": "the agent logs only decisions",
    "verbose": "use --debug",
    "debug": "use --debug",
    "cache": "the agent keeps its state next to its config (state_file)",
    "postscript": "use the agent's `webhook`",
    "timeout": "providers have their own `timeout` and `deadline` options",
    "retry": "failures back off on their own (backoff_initial, backoff_max)",
    "max-interval": "the agent asks DNS first and updates only when it differs",
    "min-interval": "see min_update_interval in the agent config",
    "min-error-interval": "see backoff_initial in the agent config",
    "tcp": "fleetdns always sends DNS UPDATE over TCP",
    "wildcard": "declare a wildcard record in the inventory instead",
    "mx": "declare the MX record in the inventory instead",
    "backupmx": "declare the MX records in the inventory instead",
    "static": "dyndns2 static hosts are not supported by fleetdns",
    "custom": "dyndns2 custom hosts are not supported by fleetdns",
    "proxy": "set HTTPS_PROXY in the agent's environment",
    "exec": "",
    "foreground": "",
    "ssl_ca_dir": "use the provider option ca_bundle",
    "ssl_ca_file": "use the provider option ca_bundle",
}


def _ddclient_value(rest: str) -> tuple[str | None, str, str]:
    """(name, value, rest) of the assignment at the start of `rest`, as ddclient's parse_assignment."""
    match = _ASSIGNMENT.match(rest)
    if not match:
        return None, "", rest
    name, rest = match.group(1), match.group(2)
    value: list[str] = []
    escape = False
    quote = ""
    index = 0
    while index < len(rest):
        c = rest[index]
        if escape:
            value.append(c)
            escape = False
        elif c == "\\":
            escape = True
        elif quote and c == quote:
            quote = ""
        elif not quote and c in "'\"":
            quote = c
        elif not quote and (c.isspace() or c == ","):
            break
        else:
            value.append(c)
        index += 1
    return name, "".join(value), rest[index:]


def _ddclient_assignments(line: str) -> tuple[str, dict[str, str]]:
    found: dict[str, str] = {}
    rest = line
    while True:
        name, value, rest = _ddclient_value(rest)
        rest = rest.lstrip(", \t")
        if name is None:
            return rest, found
        found[name] = value


def read_ddclient(text: str, source: str) -> Setup:
    """A ddclient.conf, read line by line as ddclient 3.10 reads it."""
    setup = Setup(source, "ddclient")
    globals_: dict[str, str] = {}
    global_lines: dict[str, int] = {}
    continuation = ""
    passwords: dict[str, str] = {}
    start_line = 0
    seen_options: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.replace("\r", "")
        password = _PASSWORD.match(line)
        if password:
            head, key, value, tail = password.group(1) or "", password.group(2), password.group(3), password.group(4)
            if value.startswith("'") and value.endswith("'") and len(value) >= 2:
                value = value[1:-1]
            passwords[key] = value
            line = f"{head}{key}=dummy{tail}"
        line = line.split("#", 1)[0]
        if not continuation:
            start_line = number
        line = continuation + line
        if line.endswith("\\"):
            continuation = line[:-1]
            continue
        continuation = ""
        line = " ".join(line.split())
        if not line:
            continue
        rest, local = _ddclient_assignments(line)
        for key in local:
            if key in passwords:
                local[key] = passwords[key]
            seen_options.setdefault(key, start_line)
        rest = re.sub(r"\s*,\s*", ",", rest)
        args = rest.split()
        if "host" in local:
            args = [f"{args[0]},{local['host']}" if args else local["host"], *args[1:]]
        if not args:
            globals_.update(local)
            global_lines.update(dict.fromkeys(local, start_line))
        else:
            merged = {**globals_, **local}
            if len(args) > 1:
                merged["login"] = args[1]
            if len(args) > 2:
                merged["password"] = args[2]
            for host in (h for h in args[0].split(",") if h):
                setup.entries.append(
                    Entry(host, merged.get("protocol", "dyndns2"), dict(merged), f"{source}:{start_line}")
                )
        passwords = {}
    if continuation:
        setup.untranslated.append(
            f"{source}: the file ends inside a continuation line (a final `\\`); that line was not read"
        )
    _ddclient_globals(setup, globals_, global_lines, seen_options)
    if not setup.entries:
        raise FleetDNSError(
            f"{source}: no host to update is configured (ddclient would update nothing)",
            "a host line looks like: protocol=dyndns2, login=me, password=secret myhost.example.com",
        )
    return setup


def _ddclient_globals(setup: Setup, globals_: dict[str, str], lines: dict[str, int], seen: dict[str, int]) -> None:
    """Detection, interval and the running options ddclient has and the agent does not."""
    source = setup.source
    options: dict[str, str] = dict(globals_)
    for entry in setup.entries:  # detection options may also be given on a host line
        for key in DDCLIENT_DETECT_OPTIONS:
            if key in entry.settings and key not in globals_:
                options.setdefault(key, entry.settings[key])
    for key, line in sorted(seen.items(), key=lambda item: item[1]):
        if key in DDCLIENT_ENTRY_OPTIONS or key in DDCLIENT_DETECT_OPTIONS:
            continue
        where = f"{source}:{line}"
        if key == "daemon":
            seconds = _interval(options.get("daemon", ""))
            if seconds is None:
                setup.untranslated.append(f"{where}: daemon={options.get('daemon')}: not a number of seconds")
            else:
                setup.interval = max(seconds, 10)
            continue
        reason = DDCLIENT_NOT_NEEDED.get(key)
        if reason == "":
            continue
        value = "********" if "password" in key else options.get(key, "")
        setup.untranslated.append(
            f"{where}: {key}={value}: not translated ({reason or 'fleetdns has no setting like it'})"
        )
    for family, suffix in (("ipv4", "v4"), ("ipv6", "v6")):
        detect = _ddclient_detect(setup, options, suffix, family, lines)
        if detect is not None:
            setup.detect[family] = detect


def _ddclient_detect(setup: Setup, options: dict[str, str], suffix: str, family: str, lines: dict[str, int]) -> Any:
    """The agent's `detect.<family>` for ddclient's use/usev4/usev6 (None: the agent's default)."""
    where = f"{setup.source}:{lines.get('use' + suffix, lines.get('use', 0))}"
    use = options.get("use" + suffix)
    if use is None and family == "ipv4":
        use = options.get("use")
    if use is None:
        if family == "ipv6":
            return False  # ddclient 3.10 updates IPv6 only when asked to (usev6=...)
        return None
    kind = use.split("-")[0] if use.startswith(("ip", "if", "web", "cmd", "fw", "disabled")) else use
    if kind.startswith("disabled") or use == "no":
        return False
    if kind in ("ip", "ipv4", "ipv6"):
        address = options.get("ip" + suffix) or (options.get("ip") if family == "ipv4" else None)
        if address:
            return {"static": address}
        setup.untranslated.append(f"{where}: use={use} without an address: the agent's default sources are used")
        return None
    if kind in ("if", "ifv4", "ifv6"):
        interface = options.get("if" + suffix) or options.get("if") or ""
        setup.notes.append(
            f"{where}: use={use} (if={interface}): the agent's `interface` source takes the local address of the "
            "outgoing route, which is that interface's when it holds the public address"
        )
        return {"sources": ["interface"]}
    if kind in ("cmd", "cmdv4", "cmdv6"):
        command = options.get("cmd" + suffix) or options.get("cmd")
        if command:
            try:
                return {"command": shlex.split(command)}
            except ValueError:
                setup.untranslated.append(f"{where}: cmd={command}: not a command line the agent can run")
                return None
    if kind in ("web", "webv4", "webv6"):
        web = options.get("web" + suffix) or options.get("web")
        if web:
            setup.untranslated.append(
                f"{where}: web={web}: the agent asks its own sources (ipify, opendns, google; more than half must "
                "agree); add this one to detect.sources as a {type: http, url: ...} source if you need it"
            )
        return None
    setup.untranslated.append(
        f"{where}: use={use}: reading the address from a router or firewall is not something the agent does; "
        "it asks public sources (or give detect.command a program that prints the address)"
    )
    return None


def _interval(text: str) -> int | None:
    """ddclient's intervals: seconds, or a number with s, m, h or d."""
    match = re.fullmatch(r"(\d+)([smhd]?)", text.strip().lower())
    if not match:
        return None
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


# ---- the ddns client ------------------------------------------------------------------------------------

# Keys of the ddns client's JSON that say where a provider's entry is or what it is.
DDNS_ENTRY_KEYS = ("dns", "provider", "id", "token", "ipv4", "ipv6", "ttl", "endpoint", "index4", "index6")
DDNS_NOT_NEEDED = {
    "$schema": "",
    "cache": "the agent keeps its state next to its config (state_file)",
    "cache_max_age": "the agent asks DNS first and updates only when it differs",
    "proxy": "set HTTPS_PROXY in the agent's environment",
    "ssl": "fleetdns always verifies TLS; use the provider option ca_bundle for a private CA",
    "log": "the agent logs one line per decision to stdout",
    "debug": "use --debug",
    "line": "DNS lines (split horizons) are not something fleetdns sets",
    "interval": "",  # translated
    "http": "",
    "extra": "provider-specific extras are not translated",
}


def read_ddns(text: str, source: str) -> Setup:
    """The ddns client's JSON config, or the INI form (a [Settings] section, one section per domain)."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "//")) or (
        stripped.startswith("#") and "{" in stripped and "[" not in stripped.split("{")[0]
    ):
        return _read_ddns_json(text, source)
    return _read_ddns_ini(text, source)


def _without_comments(text: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("//", "#")) else line for line in text.splitlines())


def _read_ddns_json(text: str, source: str) -> Setup:
    try:
        data = json.loads(_without_comments(text))
    except json.JSONDecodeError as exc:
        raise FleetDNSError(
            f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}",
            "fix the file (the ddns client would not read it either)",
        ) from None
    if not isinstance(data, dict):
        raise FleetDNSError(f"{source}: a ddns config is a JSON object", 'it looks like {"dns": "cloudflare", ...}')
    setup = Setup(source, "ddns")
    shared = {k: v for k, v in data.items() if k != "providers"}
    if "providers" in data:
        if not isinstance(data["providers"], list):
            raise FleetDNSError(f"{source}: providers must be a list of objects")
        blocks = [
            (f"{source}: providers[{i}]", {**_flat(shared), **_flat(p)})
            for i, p in enumerate(data["providers"])
            if isinstance(p, dict)
        ]
    else:
        blocks = [(source, _flat(shared))]
    for where, block in blocks:
        service = str(block.get("provider") or block.get("dns") or "")
        settings = {k: v for k, v in block.items() if k in ("id", "token", "endpoint", "ttl")}
        for family in ("ipv4", "ipv6"):
            names = block.get(family) or []
            if isinstance(names, str):
                names = [n for n in re.split(r"[,\s]+", names) if n]
            for name in names:
                setup.entries.append(Entry(str(name), service, {**_strings(settings), "family": family}, where))
        for key, value in block.items():
            if key in DDNS_ENTRY_KEYS or key == "provider" or value is None or value == [] or value == "":
                continue
            reason = DDNS_NOT_NEEDED.get(key.split("_")[0] if key.startswith("log_") else key)
            if reason == "":
                continue
            if key in shared and where != source and not where.endswith("[0]"):
                continue  # a shared key: listed once
            setup.untranslated.append(f"{where}: {key}: not translated ({reason or 'fleetdns has no setting like it'})")
    for family, suffix in (("ipv4", "4"), ("ipv6", "6")):
        detect = _ddns_index(setup, shared.get(f"index{suffix}", "default"), family, suffix)
        if detect is not None:
            setup.detect[family] = detect
    if not any(e.settings.get("family") == "ipv6" for e in setup.entries) and "ipv6" not in setup.detect:
        setup.detect["ipv6"] = False
    if not any(e.settings.get("family") == "ipv4" for e in setup.entries) and "ipv4" not in setup.detect:
        setup.detect["ipv4"] = False
    interval = shared.get("interval")
    if isinstance(interval, int) and not isinstance(interval, bool):
        setup.interval = max(interval * 60, 10)  # the ddns client's interval is in minutes
    if not setup.entries:
        raise FleetDNSError(
            f"{source}: no domain to update (ipv4 and ipv6 are empty)", "list the names under ipv4/ipv6"
        )
    return setup


def _flat(block: dict) -> dict:
    """The client's nested keys (log: {level}) as its flat names (log_level)."""
    flat: dict[str, Any] = {}
    for key, value in block.items():
        if isinstance(value, dict) and key not in ("extra", "http"):
            flat.update({f"{key}_{sub}": v for sub, v in value.items()})
        else:
            flat[key] = value
    return flat


def _strings(settings: dict) -> dict[str, str]:
    return {k: str(v) for k, v in settings.items() if v is not None and v != ""}


def _ddns_index(setup: Setup, index: Any, family: str, suffix: str) -> Any:
    """The agent's `detect.<family>` for the ddns client's index4/index6 (None: the agent's default)."""
    rules = index if isinstance(index, list) else [index]
    if not rules or rules == [None]:
        return None
    where = f"{setup.source}: index{suffix}"
    for rule in rules:
        if rule is False or (isinstance(rule, str) and rule.lower() in ("false", "none")):
            return False
        text = str(rule)
        if text in ("default", "public"):
            return None
        if text.startswith(("cmd:", "shell:")):
            command = text.split(":", 1)[1]
            try:
                argv = shlex.split(command) if text.startswith("cmd:") else ["/bin/sh", "-c", command]
            except ValueError:
                break
            setup.notes.append(
                f"{where}: {text}: the agent takes the first word the command prints as the address (the ddns "
                "client searches its output for one): make the command print just the address"
            )
            return {"command": argv}
        if text.startswith("url:"):
            return {"sources": [{"name": "ddns-url", "type": "http", "url": text[4:], "format": "plain"}]}
        if text == "local" or text.isdigit():
            setup.notes.append(
                f"{where}: {text}: the agent's `interface` source takes the local address of the outgoing route"
            )
            return {"sources": ["interface"]}
    setup.untranslated.append(f"{where}: {index!r}: not translated; the agent's default sources are used")
    return None


DDNS_INI_SETTINGS = ("check_interval", "force_update")
DDNS_INI_KEYS = ("provider", "username", "password", "domain", "token", "ttl", "server", "zone")


def _read_ddns_ini(text: str, source: str) -> Setup:
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#", ";"))
    parser.optionxform = str.lower  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text, source)
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        where = f"{source}:{line}" if line else source
        raise FleetDNSError(f"{where}: not a valid INI file: {exc.message.splitlines()[0]}", "fix the file") from None
    lines = _section_lines(text)
    setup = Setup(source, "ddns")
    for section in parser.sections():
        where = f"{source}:{lines.get(section, 0)}"
        values = dict(parser[section])
        if section.lower() == "settings":
            for key, value in values.items():
                if key == "check_interval":
                    seconds = _interval(value)
                    if seconds is None:
                        setup.untranslated.append(f"{where}: check_interval={value}: not a number of seconds")
                    else:
                        setup.interval = max(seconds, 10)
                elif key == "force_update":
                    setup.untranslated.append(
                        f"{where}: force_update={value}: not translated (the agent asks the authoritative servers "
                        "on every pass and updates whenever they differ; a forced resend is not needed)"
                    )
                else:
                    setup.untranslated.append(f"{where}: {key}: not translated (fleetdns has no setting like it)")
            continue
        service = values.get("provider", "")
        domains = [d for d in re.split(r"[,\s]+", values.get("domain", section)) if d]
        settings = {k: v for k, v in values.items() if k in DDNS_INI_KEYS and k not in ("provider", "domain")}
        for key in values:
            if key not in DDNS_INI_KEYS:
                setup.untranslated.append(
                    f"{where}: [{section}] {key}: not translated (fleetdns has no setting like it)"
                )
        for domain in domains:
            setup.entries.append(Entry(domain, service, dict(settings), where))
    if not setup.entries:
        raise FleetDNSError(
            f"{source}: no domain section found",
            "a domain section looks like: [home] provider=cloudflare, username=..., password=..., "
            "domain=home.example.com",
        )
    return setup


def _section_lines(text: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = re.match(r"\s*\[([^\]]+)\]", line)
        if match:
            found.setdefault(match.group(1).strip(), number)
    return found
