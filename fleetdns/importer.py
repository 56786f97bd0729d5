"""`fleetdns import` of a zone: read it through its zone provider and write what it holds into the
inventory as declared records, so that planning afterwards shows no change.

The provider is used only through the ZoneProvider interface (`read`, and `apply` for `--own`),
so every zone provider imports alike. The inventory is edited with yamledit (ruamel.yaml
round-trip parsing, new entries spliced in), written atomically, then loaded and validated again
and checked to declare exactly what was read; if not, the files are put back.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.fleetdns.ddns.plugins.module_utils import config as config_module
from ansible_collections.fleetdns.ddns.plugins.module_utils.config import (
    DEFAULT_PROVIDER,
    DEFAULT_TTL,
    FleetConfig,
    record_rules,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.engine import Providers, make_plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError, FleetDNSError
from ansible_collections.fleetdns.ddns.plugins.module_utils.names import InvalidNameError, normalize_zone
from ansible_collections.fleetdns.ddns.plugins.module_utils.ownership import MARKER_OWNERSHIP
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import (
    provider_class,
    zone_provider_class,
    zone_provider_type_names,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordKey, RecordSet, key_label
from ansible_collections.fleetdns.ddns.plugins.module_utils.zone_import import (
    common_ttl,
    record_entry,
    select_records,
)

from .inventory_edit import InventoryFiles
from .yamledit import Flow

Reload = Callable[[], FleetConfig]  # load and validate the inventory as it is on disk now


@dataclass
class ZoneImport:
    """What one import did (or, with dry_run, would do)."""

    zone: str
    provider: str
    imported: list[RecordSet] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    diff: str = ""
    owned: list[RecordKey] = field(default_factory=list)
    new_zone: bool = False
    declared_same: list[RecordKey] = field(default_factory=list)  # declared already, as the zone holds them


def resolve_zone(config: FleetConfig, zone_arg: str, provider_arg: str | None) -> tuple[str, str]:
    """The absolute zone name and the provider to read it from, or a clear error."""
    try:
        zone = normalize_zone(zone_arg)
    except InvalidNameError as exc:
        raise FleetDNSError(f"--zone {zone_arg!r}: {exc}", "give a zone name like example.com") from None
    declared = config.zones.get(zone)
    if declared is not None:
        if provider_arg and provider_arg != declared.provider:
            raise FleetDNSError(
                f"zone {zone} is in the inventory with provider '{declared.provider}', not '{provider_arg}'",
                "leave out --provider (the zone's own provider is used), or change the zone's provider first",
            )
        provider = declared.provider
    elif provider_arg:
        provider = provider_arg
    else:
        names = ", ".join(sorted(config.providers)) or "none"
        raise FleetDNSError(
            f"zone {zone} is not in the inventory yet: say which provider to read it from",
            f"add --provider NAME (providers in the inventory: {names})",
        )
    settings = config.providers.get(provider)
    if settings is None:
        names = ", ".join(sorted(config.providers)) or "none"
        raise FleetDNSError(
            f"provider '{provider}' is not in fleetdns_providers",
            f"add it to fleetdns_providers first (defined: {names})",
        )
    if zone_provider_class(settings.type) is None:
        raise FleetDNSError(
            f"the {settings.type} provider '{provider}' cannot list a zone, so there is nothing to import from it",
            f"import from a zone provider ({', '.join(zone_provider_type_names())}); for a DDNS client's "
            "setup use --from-ddclient or --from-ddns",
        )
    return zone, provider


def import_zone(
    config: FleetConfig,
    inventory: Path,
    zone: str,
    provider: str,
    reload: Reload,
    providers: Providers,
    dry_run: bool = False,
) -> ZoneImport:
    """Read `zone` through `provider` and add what it holds to the inventory's fleetdns_zones."""
    settings = config.providers[provider]
    cls = provider_class(settings.type)
    declared_zone = config.zones.get(zone)
    state = providers.get(provider).read(zone, set())
    devices = {name: host.name for host in config.hosts.values() for name in host.names}
    selection = select_records(
        state,
        config.owner,
        cls.CAPABILITIES.record_types if cls else None,
        declared_zone.records if declared_zone else {},
        devices,
    )
    result = ZoneImport(zone, provider, unchanged=len(selection.unchanged), skipped=list(selection.skipped))
    result.skipped += state.warnings  # what the provider's read left alone (other lines, unreadable values)
    result.declared_same = list(selection.unchanged)
    ownership = declared_zone.ownership if declared_zone else MARKER_OWNERSHIP
    default_ttl = declared_zone.default_ttl if declared_zone else common_ttl(selection.records, DEFAULT_TTL)
    rules = record_rules(settings, ownership)
    declared = list(declared_zone.records.values()) if declared_zone else []
    entries = _valid_entries(selection.records, declared, zone, default_ttl, rules, result)
    result.owned = [key for key in selection.owned if any(r.key == key for r in result.imported)]
    result.new_zone = declared_zone is None
    if not entries and not result.new_zone:
        return result  # (nothing to write; --own may still mark the declared ones)
    files = InventoryFiles(inventory)
    _add_to_inventory(files, zone, provider, default_ttl, entries, result.new_zone)
    result.diff = _diff(files)
    if dry_run:
        return result

    def check() -> None:
        _check_declared(reload(), zone, result.imported)

    result.files = files.write(check)
    return result


def _valid_entries(
    records: list[RecordSet],
    declared: list[RecordSet],
    zone: str,
    default_ttl: int,
    rules: object,
    result: ZoneImport,
) -> list[Flow]:
    """The entries of `records` that validation accepts beside the declared ones and that read
    back as the same record sets; the others are listed in result.skipped with the reason."""
    pending = [(rrset, Flow(record_entry(rrset, zone, default_ttl))) for rrset in records]
    base = [record_entry(rrset, zone, default_ttl) for rrset in declared]
    while True:
        raw = base + [dict(entry) for _rrset, entry in pending]
        try:
            read = config_module.validate_records(raw, zone, default_ttl, rules=rules)  # type: ignore[arg-type]
        except ConfigError as exc:
            bad: dict[int, str] = {}
            for problem in exc.problems:
                index = _entry_index(problem.path) - len(base)
                if 0 <= index < len(pending):
                    bad.setdefault(index, problem.message)
            if not bad:
                raise
            for index in sorted(bad, reverse=True):
                rrset, _entry = pending.pop(index)
                result.skipped.append(f"{key_label(rrset.key, zone)}: {bad[index]} (left as it is)")
            continue
        break
    entries = []
    for rrset, entry in pending:
        if read.get(rrset.key) != rrset:
            result.skipped.append(
                f"{key_label(rrset.key, zone)}: its entry would not read back as the same record set (left as it is)"
            )
            continue
        entries.append(entry)
        result.imported.append(rrset)
    return entries


def _entry_index(path: str) -> int:
    """N of a problem path `records[N]...`, or -1."""
    if not path.startswith("records["):
        return -1
    number = path[len("records[") : path.find("]")]
    return int(number) if number.isdigit() else -1


def _add_to_inventory(
    files: InventoryFiles, zone: str, provider: str, default_ttl: int, entries: list[Flow], new_zone: bool
) -> None:
    place = files.place("fleetdns_zones")
    doc = place.doc
    label = zone.rstrip(".")
    if new_zone:
        body: dict = {}
        if provider != DEFAULT_PROVIDER:
            body["provider"] = provider
        body["default_ttl"] = default_ttl
        body["records"] = list(entries)
        if place.node is None:
            files.add_nested(doc, place.path[:-1], place.path[-1], {label: body})
        else:
            files.add_nested(doc, place.path, label, body)
        return
    zone_key = _zone_key(doc, place.node, zone)
    zone_path = [*place.path, zone_key]
    zone_node = doc.get(zone_path)
    if doc.entry(zone_node, "<<") is not None:
        raise FleetDNSError(
            f"{doc.where(zone_node)}: zone {zone} takes settings from a merge key (<<), so where its records "
            "come from cannot be edited safely; nothing was written",
            "write the zone's records out under it (or use --dry-run and add the printed entries by hand)",
        )
    records = doc.get([*zone_path, "records"])
    if records is None:
        files.add_nested(doc, zone_path, "records", list(entries))
        return
    key_node = doc.entry(zone_node, "records")[0]  # type: ignore[index]
    doc.append_items(records, list(entries), key_node.start_mark.column + doc.layout.dash)


def _zone_key(doc: object, zones_node: object, zone: str) -> str:
    """The key the zone is written under in fleetdns_zones (with or without the final dot, any case)."""
    for key_node, _value in getattr(zones_node, "value", []):
        text = str(key_node.value)
        if text.lower().rstrip(".") + "." == zone:
            return text
    raise FleetDNSError(f"zone {zone} is in the inventory, but not in the file that sets fleetdns_zones")


def _check_declared(config: FleetConfig, zone: str, imported: list[RecordSet]) -> None:
    declared = config.zones[zone].records
    wrong = [r for r in imported if declared.get(r.key) != r]
    if wrong:
        raise FleetDNSError(
            f"after writing, the inventory does not declare {key_label(wrong[0].key, zone)} as read "
            f"({len(wrong)} record set(s) differ); the files were put back as they were",
            "report this as a bug in fleetdns import, with the zone's records",
        )


def _diff(files: InventoryFiles) -> str:
    files.flush()
    parts = []
    for path, doc in files.docs.items():
        new = doc.result()
        if new != doc.text:
            before = "/dev/null" if path in files.created else str(path)
            parts.append(
                "".join(difflib.unified_diff(doc.text.splitlines(True), new.splitlines(True), before, str(path), n=2))
            )
    return "".join(parts)


def own_imported(config: FleetConfig, providers: Providers, result: ZoneImport) -> int:
    """--own: mark the imported record sets, and those the inventory declared already as the zone
    holds them, as this inventory's, as `apply --adopt` would and nothing else; returns how many
    were marked."""
    zone_config = config.zones[result.zone]
    if zone_config.ownership != MARKER_OWNERSHIP:
        return 0
    imported = ({r.key for r in result.imported} | set(result.declared_same)) - set(result.owned)
    plan = make_plan(config, providers, [result.zone], adopt=True)
    changes = [c for zp in plan.zones for c in zp.changes if c.action == "adopt" and c.key in imported]
    if changes:
        providers.get(result.provider).apply(result.zone, changes, config.owner)
    return len(changes)
