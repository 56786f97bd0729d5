"""Helpers the zonefile provider's tests share: the unit tests here and the named-checkzone
integration tests (tests/integration/test_zonefile_checkzone.py)."""

from __future__ import annotations

from pathlib import Path

import dns.rdatatype
import dns.zone
from ansible_collections.fleetdns.ddns.plugins.module_utils.names import normalize_name
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import ZoneDesired, ZonePlan, make_zone_plan
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.zonefile import ZoneFileProvider
from ansible_collections.fleetdns.ddns.plugins.module_utils.rdata import canonical_text, normalize_values
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet

ZONE = "example.test."
ME = "fleet-main"
HEX64 = "0123456789abcdef" * 4


def rs(name: str, rtype: str, values: list[str], ttl: int = 300) -> RecordSet:
    return RecordSet(normalize_name(name, ZONE), rtype, ttl, normalize_values(rtype, values, ZONE))


def provider(tmp_path: Path, **options: object) -> ZoneFileProvider:
    opts = {key: spec.default for key, spec in ZoneFileProvider.OPTIONS.items()}
    opts.update(options)
    return ZoneFileProvider("files", opts, str(tmp_path))


def converge(
    prov: ZoneFileProvider, records: list[RecordSet], registered: set | None = None, adopt: bool = False
) -> ZonePlan:
    """Plan against what the file holds now and apply it, as `fleetdns apply` does."""
    desired = ZoneDesired(ZONE, {r.key: r for r in records}, set(registered or ()))
    plan = make_zone_plan(desired, prov.read(ZONE, set()), ME, "files", adopt)
    prov.apply(ZONE, plan.changes, ME)
    return plan


def dnspython_view(text: str) -> dict[tuple[str, str], RecordSet]:
    """A zone file's text as dnspython's own zone reader sees it, in fleetdns' canonical form, SOA left out."""
    zone = dns.zone.from_text(text, ZONE, relativize=False, check_origin=False)
    result = {}
    for name, rdataset in zone.iterate_rdatasets():
        if rdataset.rdtype == dns.rdatatype.SOA:
            continue
        owner = name.canonicalize().to_text()
        rtype = dns.rdatatype.to_text(rdataset.rdtype)
        result[(owner, rtype)] = RecordSet(owner, rtype, rdataset.ttl, frozenset(canonical_text(r) for r in rdataset))
    return result
