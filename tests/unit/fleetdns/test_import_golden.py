"""Golden files for `fleetdns import`'s inventory edits: each input inventory (comments, quoting
styles, anchors, flow and block styles, 4-space indentation, CRLF line endings, zones kept in
group_vars) gets record entries added, and the result must equal the reviewed `.expected` file
byte for byte. Every expected file is also loaded and validated by the CLI's own loader, which
must then declare exactly the added record sets beside what was there."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.config import validate
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import FleetDNSError
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet
from ansible_collections.fleetdns.ddns.plugins.module_utils.zone_import import record_entry

from fleetdns.importer import _add_to_inventory
from fleetdns.inventory import load_inventory
from fleetdns.inventory_edit import InventoryFiles
from fleetdns.yamledit import Flow

GOLDEN = Path(__file__).parent / "import_golden"
NEW = [
    RecordSet("api.{zone}", "A", 300, frozenset({"192.0.2.10", "192.0.2.11"})),
    RecordSet("{zone}", "TXT", 300, frozenset({'"v=spf1 -all"'})),
    RecordSet("yes.{zone}", "TXT", 3600, frozenset({'"no"'})),
    RecordSet("*.dev.{zone}", "CNAME", 300, frozenset({"api.{zone}"})),
]
# (case, inventory file inside GOLDEN, the file edited, zone, whether the zone is new)
CASES = [
    ("commented-merge", "commented.yml", "commented.yml", "office.test.", False),
    ("commented-flowzone", "commented.yml", "commented.yml", "home.test.", False),
    ("commented-newzone", "commented.yml", "commented.yml", "new.test.", True),
    ("indent4-merge", "indent4.yml", "indent4.yml", "office.test.", False),
    ("indent4-newzone", "indent4.yml", "indent4.yml", "new.test.", True),
    ("crlf-merge", "crlf.yml", "crlf.yml", "office.test.", False),
    ("novars-newzone", "novars.yml", "novars.yml", "new.test.", True),
    ("gvars-merge", "gvars/hosts.yml", "gvars/group_vars/all/zones.yml", "office.test.", False),
    ("gvars-newzone", "gvars/hosts.yml", "gvars/group_vars/all/zones.yml", "new.test.", True),
]


def _loaded(path: Path) -> tuple:
    loaded = load_inventory(path)
    return loaded.all_vars, loaded.hosts, loaded.locate


def records_for(zone: str) -> list[RecordSet]:
    return [
        RecordSet(r.name.format(zone=zone), r.type, r.ttl, frozenset(v.format(zone=zone) for v in r.values))
        for r in NEW
    ]


@pytest.mark.parametrize(("case", "inventory", "edited", "zone", "new_zone"), CASES, ids=[c[0] for c in CASES])
def test_import_edit_matches_golden_file(
    tmp_path: Path, case: str, inventory: str, edited: str, zone: str, new_zone: bool
) -> None:
    root = Path(inventory).parts[0] if "/" in inventory else inventory
    source = GOLDEN / root
    if source.is_dir():
        shutil.copytree(source, tmp_path / root)
    else:  # (a layout yamllint would flag is kept as NAME.yml.in)
        shutil.copy(source if source.exists() else GOLDEN / f"{root}.in", tmp_path / root)
    crlf = case.startswith("crlf")  # kept with LF in the repository, tested with CRLF
    if crlf:
        (tmp_path / root).write_bytes((tmp_path / root).read_bytes().replace(b"\n", b"\r\n"))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    files = InventoryFiles(tmp_path / inventory)
    records = records_for(zone)
    config_before = validate(*_loaded(tmp_path / inventory))
    known = config_before.zones.get(zone)
    provider = "lab" if "lab" in config_before.providers else "default"
    default_ttl = known.default_ttl if known else 300  # what the importer takes, too
    entries = [Flow(record_entry(r, zone, default_ttl)) for r in records]
    _add_to_inventory(files, zone, provider, default_ttl, entries, new_zone)
    files.write(lambda: None)

    result = (tmp_path / edited).read_bytes()
    expected_file = GOLDEN / f"{case}.expected"
    assert expected_file.exists(), f"no golden file {expected_file.name}; this run made:\n{result.decode()}"
    expected = expected_file.read_bytes()
    if crlf:
        expected = expected.replace(b"\n", b"\r\n")
    assert result == expected, "".join(
        difflib.unified_diff(expected.decode().splitlines(True), result.decode().splitlines(True), "expected", "result")
    )
    for path, data in before.items():  # every other file as it was
        if path != tmp_path / edited:
            assert path.read_bytes() == data, path

    loaded = load_inventory(tmp_path / inventory)
    config = validate(loaded.all_vars, loaded.hosts, loaded.locate)
    declared = config.zones[zone].records
    for record in records:
        assert declared[record.key] == record


def test_a_file_without_changes_is_not_rewritten(tmp_path: Path) -> None:
    shutil.copy(GOLDEN / "commented.yml", tmp_path / "hosts.yml")
    files = InventoryFiles(tmp_path / "hosts.yml")
    files.doc(tmp_path / "hosts.yml")
    assert files.write(lambda: None) == []


def test_a_zone_built_with_a_merge_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "hosts.yml").write_text(
        "all:\n  vars:\n    base: &base\n      default_ttl: 60\n      records: [{name: a, type: A, value: 192.0.2.1}]\n"
        "    fleetdns_zones:\n      office.test:\n        <<: *base\n"
    )
    files = InventoryFiles(tmp_path / "hosts.yml")
    entry = Flow(record_entry(records_for("office.test.")[0], "office.test.", 60))
    with pytest.raises(FleetDNSError, match=r"hosts\.yml:8:9: zone office\.test\. takes settings from a merge key"):
        _add_to_inventory(files, "office.test.", "default", 60, [entry], False)
