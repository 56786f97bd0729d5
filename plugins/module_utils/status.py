"""The health of every name of an inventory: what the provider holds, what each authoritative
server answers, who owns it, when it last changed, and a verdict.

One row per declared record set and per device name (`fleetdns_names`; one row per address type
it holds, or one A row when it holds none). Zones are read concurrently (a bounded pool); each
server is asked everything over one pipelined connection, the servers at once.

Verdicts, the first that applies:
  unreachable  the provider could not be read, or a server did not answer (or not authoritatively)
  missing      the provider holds nothing there (a device name: its agent has not set an address)
  unowned      the provider holds it, without this inventory's ownership mark (or another owner's)
  mismatch     the provider holds other values than the inventory declares
  stale        a server answers other values than the provider holds (a secondary that lags)
  ok           all agree
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .config import FleetConfig
from .dns_pipeline import Answer, ask_all
from .dns_query import name_server_addresses
from .engine import Providers
from .errors import FleetDNSError
from .names import zone_for_name
from .ownership import ZONE_OWNERSHIP, ZoneState
from .providers.ddns_lookup import parse_server
from .records import RecordKey

VERDICTS = ("ok", "stale", "mismatch", "missing", "unowned", "unreachable")
ADDRESS_TYPES = ("A", "AAAA")
DEFAULT_TIMEOUT = 3.0
DEFAULT_WORKERS = 8


@dataclass
class ServerAnswer:
    server: str  # address:port
    values: list[str] | None  # None: `error` says why
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"server": self.server, "values": self.values, "error": self.error}


@dataclass
class Row:
    """One inventory name and type, and what everyone says about it."""

    name: str
    type: str
    zone: str
    provider: str
    host: str | None  # the device that owns the name (fleetdns_names), None for a declared record
    declared: list[str] | None  # None: a device name, whose values its agent sets
    held: list[str] | None = None  # what the provider holds; None: it cannot tell
    owner: str | None = None
    changed: str | None = None
    servers: list[ServerAnswer] = field(default_factory=list)
    verdict: str = "ok"
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "zone": self.zone,
            "provider": self.provider,
            "host": self.host,
            "declared": self.declared,
            "held": self.held,
            "owner": self.owner,
            "changed": self.changed,
            "servers": [s.to_dict() for s in self.servers],
            "verdict": self.verdict,
            "reason": self.reason,
        }


@dataclass
class _Zone:
    """What one zone's backends said: provider state (or why not), its servers (or why not)."""

    state: ZoneState | None = None
    held: dict[RecordKey, frozenset[str]] | None = None  # update-only: what its resolver answers
    error: str | None = None
    servers: list[tuple[str, int]] = field(default_factory=list)
    servers_error: str | None = None


Resolve = Callable[[str], list[tuple[str, int]]]


def fleet_status(
    config: FleetConfig,
    providers: Providers,
    zones: list[str],
    workers: int = DEFAULT_WORKERS,
    timeout: float = DEFAULT_TIMEOUT,
    resolve: Resolve | None = None,
) -> list[Row]:
    """Every row of the selected zones, in inventory order, with its verdict. Never raises for a
    backend that fails: its rows are `unreachable` with the reason."""
    resolve = resolve or (lambda zone: name_server_addresses(zone, zone, lifetime=timeout))
    rows = {zone: _rows(config, zone) for zone in zones}
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="fleetdns-status") as pool:
        seen = list(pool.map(lambda zone: _read_zone(config, providers, zone, rows[zone], resolve, timeout), zones))
        found = dict(zip(zones, seen, strict=True))
        questions: dict[tuple[str, int], list[tuple[str, str]]] = {}
        for zone in zones:
            for server in found[zone].servers:
                questions.setdefault(server, []).extend((row.name, row.type) for row in rows[zone])
        servers = list(questions)
        asked = pool.map(lambda s: ask_all(s[0], s[1], questions[s], timeout), servers)
        answers = {
            server: dict(zip(questions[server], replies, strict=True))
            for server, replies in zip(servers, asked, strict=True)
        }
    result = []
    for zone in zones:
        for row in rows[zone]:
            _judge(row, found[zone], answers, config)
        result.extend(_device_rows(rows[zone]))
    return result


def _rows(config: FleetConfig, zone: str) -> list[Row]:
    zone_config = config.zones[zone]
    rows = [
        Row(rrset.name, rrset.type, zone, zone_config.provider, None, sorted(rrset.values))
        for rrset in zone_config.records.values()
    ]
    zones = list(config.zones)
    for host in config.hosts.values():
        for name in host.names:
            if zone_for_name(name, zones) == zone:
                rows.extend(Row(name, rtype, zone, zone_config.provider, host.name, None) for rtype in ADDRESS_TYPES)
    return rows


def _read_zone(
    config: FleetConfig, providers: Providers, zone: str, rows: list[Row], resolve: Resolve, timeout: float
) -> _Zone:
    zone_config = config.zones[zone]
    provider_config = config.providers[zone_config.provider]
    seen = _Zone()
    try:
        if providers.update_only(zone_config.provider):
            resolver = provider_config.options.get("resolver")
            if resolver:
                server = parse_server(str(resolver))
                keys = [(row.name, row.type) for row in rows]
                replies = ask_all(server[0], server[1], keys, timeout)
                failed = next((a.error for a in replies if a.values is None), None)
                if failed:
                    seen.error = f"its resolver {server[0]}:{server[1]}: {failed}"
                seen.held = {key: a.values for key, a in zip(keys, replies, strict=True) if a.values is not None}
        else:
            with providers.reading(zone_config.provider) as provider:
                seen.state = provider.read(zone, {(row.name, row.type) for row in rows})
    except FleetDNSError as exc:
        seen.error = str(exc)
    except OSError as exc:
        seen.error = exc.strerror or str(exc)
    if zone_config.name_servers is not None:
        seen.servers = list(zone_config.name_servers)
    else:
        try:
            seen.servers = resolve(zone)
        except Exception as exc:  # the resolver's failures are many kinds; each is a reason shown, not a crash
            seen.servers_error = f"its name servers could not be found ({type(exc).__name__}: {exc}); set name_servers"
    return seen


def _judge(
    row: Row, seen: _Zone, answers: dict[tuple[str, int], dict[tuple[str, str], Answer]], config: FleetConfig
) -> None:
    key = (row.name, row.type)
    for server in seen.servers:
        answer = answers.get(server, {}).get(key, Answer(None, "not asked"))
        values = sorted(answer.values) if answer.values is not None else None
        row.servers.append(ServerAnswer(f"{server[0]}:{server[1]}", values, answer.error))
    if seen.state is not None:
        rrset = seen.state.records.get(key)
        row.held = sorted(rrset.values) if rrset else []
        marked = config.zones[row.zone].ownership != ZONE_OWNERSHIP
        row.owner = seen.state.owners.get(key) if marked else config.owner
        row.changed = seen.state.changed.get(key)
    elif seen.held is not None:
        row.held = sorted(seen.held.get(key, ()))
        row.owner = f"agent of {row.host}" if row.host else None
    if seen.error:
        row.verdict, row.reason = "unreachable", f"provider {row.provider}: {seen.error}"
        return
    held = row.held if row.held is not None else _servers_agree(row)
    if not held:
        row.verdict = "missing"
        row.reason = (
            f"no address yet: the agent of {row.host} has not set one" if row.host else "the provider holds nothing"
        )
        return
    if seen.state is not None and row.owner != config.owner:
        row.verdict = "unowned"
        row.reason = f"owned by '{row.owner}'" if row.owner else "no ownership mark: fleetdns leaves it alone"
        return
    if row.declared is not None and row.held is not None and row.held != row.declared:
        row.verdict, row.reason = "mismatch", f"the inventory declares {', '.join(row.declared)}"
        return
    if seen.servers_error:
        row.verdict, row.reason = "unreachable", seen.servers_error
        return
    for answer in row.servers:
        if answer.values is None:
            row.verdict, row.reason = "unreachable", f"{answer.server}: {answer.error}"
            return
    for answer in row.servers:
        if answer.values != held:
            shown = ", ".join(answer.values) if answer.values else "nothing"
            row.verdict, row.reason = "stale", f"{answer.server} answers {shown}"
            return
    row.verdict, row.reason = "ok", ""


def _servers_agree(row: Row) -> list[str]:
    """For a provider that cannot be read: what the first server that answered holds."""
    return next((answer.values for answer in row.servers if answer.values is not None), [])


def _device_rows(rows: list[Row]) -> list[Row]:
    """A device name's A and AAAA rows: those it holds somewhere, or its A row alone when it holds
    none (missing, or unreachable)."""
    result: list[Row] = []
    index = 0
    while index < len(rows):
        row = rows[index]
        if row.host is None or row.type != "A" or index + 1 >= len(rows) or rows[index + 1].name != row.name:
            result.append(row)
            index += 1
            continue
        pair = [row, rows[index + 1]]
        kept = [r for r in pair if r.held or any(s.values for s in r.servers)]
        result.extend(kept or [row])
        index += 2
    return result


def worst(rows: list[Row]) -> dict[str, int]:
    """How many rows have each verdict (every verdict listed, in VERDICTS order)."""
    counts = dict.fromkeys(VERDICTS, 0)
    for row in rows:
        counts[row.verdict] += 1
    return counts
