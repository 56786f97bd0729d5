#!/usr/bin/python
# Copyright: fleetdns maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage DNS record sets, one or many per task, on any fleetdns zone provider."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dns_record
short_description: Manage DNS record sets, one or many per task, on any fleetdns zone provider
version_added: 0.1.0
description:
  - Makes record sets (all records of one name and type) of a zone exist with the given values, or
    not exist, on any zone provider of fleetdns (RFC 2136 servers such as BIND, Cloudflare, RFC 1035
    zone files, ...), with the same rules as the C(fleetdns) command line.
  - Give one record set with O(name), O(type) and O(value), or many with O(records). A task reads
    the zone once and sends all its changes together, packed into as few DNS UPDATE messages (or
    API batches) as fit, each applied atomically by the server; a play that sets 1000 record sets
    takes about two seconds, start-up of C(ansible-playbook) included.
  - Each change is pinned to what was read, so a record set that someone else changes meanwhile makes
    the task fail with a clear message instead of being overwritten.
  - B(Ownership.) fleetdns marks the record sets it creates as owned by O(owner) (a TXT record under
    C(_fleetdns.<zone>) on RFC 2136 servers and in zone files, a record comment on Cloudflare), the same
    marks the C(fleetdns) command line uses, so both agree on what is owned. A record set that is not
    owned is never replaced or deleted unless O(adopt=true); O(on_existing=keep) may add values beside
    the ones already there.
  - B(Update-only providers.) With a DDNS service (V(dyndns2), V(duckdns), V(freedns), V(namecheap)) a
    task sets the A and/or AAAA of one name with O(state=present). DNS is asked what the name holds
    first, and the service is sent nothing when it already holds the addresses (services block
    clients that resend unchanged addresses), then DNS is asked again to verify. Such a service
    keeps no ownership marks and sets the TTL itself.
  - Values are compared in canonical form (absolute lower-case names, compressed IPv6, TXT quoted and
    split), so a second run reports no change.
author:
  - fleetdns maintainers (@fleetdns)
options:
  zone:
    description:
      - The zone, such as V(example.com). Names are relative to it.
    type: str
    required: true
  name:
    description:
      - Owner name of a single record set, relative to O(zone) (V(@) is the apex) or absolute with a
        final dot.
      - Give O(name) and O(type) for one record set, or O(records) for many.
    type: str
  type:
    description:
      - Record type of the single record set, such as V(A), V(AAAA), V(CNAME), V(MX), V(TXT), V(SRV),
        V(CAA), V(NS), V(PTR). SOA belongs to the server and cannot be managed.
    type: str
  value:
    description:
      - The value, or a list of values, of the single record set, in zone-file syntax (V(10
        mail.example.com.) for MX). A name inside a value that has no final dot is relative to O(zone).
      - Required with O(state=present). With O(state=absent), the values to remove; without it, the whole
        record set is removed.
    type: raw
  values:
    description:
      - Same as O(value), for those who prefer the plural with a list.
    type: raw
  ttl:
    description:
      - TTL in seconds of the single record set, or of every entry of O(records) that gives none.
      - When not given, a new record set gets 3600 and an existing one keeps its TTL.
    type: int
  records:
    description:
      - Many record sets in one task, each written like a record of the inventory's C(fleetdns_zones).
      - Each (name, type) may appear once; list several values in one entry.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Owner name, relative to O(zone) (V(@) is the apex) or absolute with a final dot.
        type: str
        required: true
      type:
        description:
          - Record type.
        type: str
        required: true
      value:
        description:
          - A value or a list of values, as O(value).
        type: raw
      values:
        description:
          - Same as O(records[].value).
        type: raw
      ttl:
        description:
          - TTL in seconds; default O(ttl).
        type: int
  state:
    description:
      - V(present) makes the record sets hold the values (see O(on_existing)); V(absent) removes them
        (see O(value)).
    type: str
    choices: [present, absent]
    default: present
  on_existing:
    description:
      - What O(state=present) does with a record set that already exists with other values.
      - V(replace) makes it hold exactly the given values (it must be owned, or O(adopt=true)).
      - V(keep) adds the given values beside the ones there and removes nothing, also in a record
        set fleetdns does not own (which then stays unowned unless O(adopt=true)). A CNAME holds one
        value, so keep cannot add a second one.
      - V(fail) fails the task instead of changing it.
    type: str
    choices: [replace, keep, fail]
    default: replace
  prune:
    description:
      - Also delete the record sets of the zone owned by O(owner) that the task does not list, so the
        zone holds exactly the listed record sets plus those fleetdns does not own. Only with
        O(state=present).
      - Deleting more than 30% of the owned record sets (beyond 5) needs O(allow_deletes=true).
      - Needs the whole zone to be listed; an RFC 2136 server that refuses the zone transfer only
        lets the task see its own names (the task then warns).
    type: bool
    default: false
  allow_deletes:
    description:
      - Let O(prune) delete more than 30% of the owned record sets, like C(fleetdns apply --allow-deletes).
    type: bool
    default: false
  owner:
    description:
      - Ownership id stamped on the record sets this task creates; use the inventory's
        C(fleetdns_owner) so the module and the C(fleetdns) command line manage the same records.
      - 1-63 letters, digits, C(.), C(_) or C(-).
    type: str
    default: fleetdns
  ownership:
    description:
      - V(markers) - fleetdns owns the record sets it created or adopted, each marked by a companion TXT
        record (RFC 2136, zone files) or its comment (Cloudflare); everything else in the zone is left
        alone.
      - V(zone) - the zone belongs to this task and whoever runs the same inventory (a zone whose
        C(ownership) is V(zone) in the inventory); every record set of a type this module manages
        counts as owned (the apex NS set only when listed), so O(prune) deletes whatever the task does
        not list; the SOA, DNSSEC and other records are left alone, and no markers are read or written.
        Not available with the V(cloudflare) provider. Markers of another owner id in the zone fail the
        task.
    type: str
    choices: [markers, zone]
    default: markers
  adopt:
    description:
      - Take ownership of listed record sets that exist but are not owned (replacing their values if
        they differ), like C(fleetdns apply --adopt). With O(state=absent), delete such record sets.
      - Record sets owned by another owner id are never touched.
    type: bool
    default: false
  device_names:
    description:
      - Names of devices (the inventory's C(fleetdns_names)) in this zone whose A and AAAA record sets
        fleetdns owns while each device's agent sets the addresses; they are registered as owned and
        never pruned. Only with O(state=present).
    type: list
    elements: str
    default: []
  base_dir:
    description:
      - Directory against which relative paths in O(provider) are resolved, such as the V(zonefile)
        provider's C(directory); use the inventory's directory to match the C(fleetdns) command line.
      - Default is the working directory of the module.
    type: path
extends_documentation_fragment:
  - fleetdns.ddns.provider
  - fleetdns.ddns.attributes
  - fleetdns.ddns.attributes.actiongroup_dns
attributes:
  check_mode:
    support: full
    details: Reads the zone and reports the changes (and the diff) without making them.
  diff_mode:
    support: full
    details: One entry per changed record set, its records as zone-file lines before and after.
  platform:
    support: full
    platforms: posix
    description: Target operating systems this module runs on.
requirements:
  - dnspython >= 2.6
  - requests (for the HTTP API providers, such as cloudflare, dnspod, alidns and the DDNS services)
seealso:
  - name: RFC 2136
    description: Dynamic Updates in the Domain Name System (DNS UPDATE).
    link: https://www.rfc-editor.org/rfc/rfc2136
notes:
  - Secrets in O(provider) (TSIG secrets, API tokens) are never shown, not even with C(-vvvv).
  - C(playbooks/records.yml) in this collection applies a whole fleetdns inventory with this module.
"""

EXAMPLES = r"""
- name: Point www at the gateway (BIND, TSIG-signed DNS UPDATE)
  fleetdns.ddns.dns_record:
    provider:
      type: rfc2136
      server: 192.0.2.53
      tsig_key_name: fleet-admin
      tsig_secret: "{{ vault_fleet_admin_secret }}"
    zone: example.com
    name: www
    type: CNAME
    value: gw

- name: Many record sets, one provider set once for the play
  module_defaults:
    group/fleetdns.ddns.dns:
      provider:
        type: rfc2136
        server: 192.0.2.53
        tsig_key_name: fleet-admin
        tsig_secret: "{{ vault_fleet_admin_secret }}"
      owner: fleet-main
  block:
    - name: Static records of example.com
      fleetdns.ddns.dns_record:
        zone: example.com
        ttl: 300
        records:
          - {name: "@", type: MX, value: ["10 mail", "20 backup-mail"]}
          - {name: mail, type: A, value: 192.0.2.25, ttl: 3600}
          - {name: "@", type: TXT, value: "v=spf1 mx -all"}

    - name: Add a TXT value without removing the ones already there
      fleetdns.ddns.dns_record:
        zone: example.com
        name: "@"
        type: TXT
        value: "google-site-verification=abc123"
        on_existing: keep

    - name: Remove that one value again
      fleetdns.ddns.dns_record:
        zone: example.com
        name: "@"
        type: TXT
        value: "google-site-verification=abc123"
        state: absent

- name: Make example.org hold exactly these owned record sets (zone file on disk)
  fleetdns.ddns.dns_record:
    provider:
      type: zonefile
      directory: /etc/bind/zones
      nameservers: [ns1.example.org.]
    zone: example.org
    records:
      - {name: www, type: A, value: [192.0.2.80, 192.0.2.81]}
    prune: true
"""

RETURN = r"""
zone:
  description: The zone, absolute and lower-case.
  returned: success
  type: str
  sample: example.com.
changes:
  description:
    - The changes made, or in check mode the changes that would be made, one per record set, in zone order.
    - C(action) is V(create), V(update), V(delete), V(adopt) (take ownership of an existing record set) or
      V(register) (a device name's ownership).
    - C(before) and C(after) are V(null) where the record set does not exist.
  returned: success
  type: list
  elements: dict
  sample:
    - action: update
      name: www.example.com.
      type: A
      before: {ttl: 300, values: [192.0.2.10]}
      after: {ttl: 300, values: [192.0.2.10, 192.0.2.11]}
      owned_before: true
      owned_after: true
notes:
  description: Things worth knowing, such as listed record sets that exist as wanted but are not owned.
  returned: success
  type: list
  elements: str
  sample: ["www A exists as wanted but is not owned; left as is (adopt: true takes ownership)"]
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.fleetdns.ddns.plugins.module_utils import process_runner
from ansible_collections.fleetdns.ddns.plugins.module_utils.config import DEFAULT_OWNER, provider_secrets
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import FleetDNSError
from ansible_collections.fleetdns.ddns.plugins.module_utils.ownership import MARKER_OWNERSHIP, OWNERSHIP_MODES
from ansible_collections.fleetdns.ddns.plugins.module_utils.record_task import (
    ON_EXISTING,
    RECORD_OPTIONS,
    STATES,
    RecordTask,
    change_dicts,
    diff_entries,
    error_message,
    missing_libraries,
    provider_argument_spec,
    run_task,
)


def argument_spec() -> dict:
    record = {key: {"type": "raw"} for key in RECORD_OPTIONS}
    record.update(name={"type": "str", "required": True}, type={"type": "str", "required": True}, ttl={"type": "int"})
    return dict(
        provider=dict(type="dict", required=True, options=provider_argument_spec()),
        zone=dict(type="str", required=True),
        name=dict(type="str"),
        type=dict(type="str"),
        value=dict(type="raw"),
        values=dict(type="raw"),
        ttl=dict(type="int"),
        records=dict(type="list", elements="dict", options=record, mutually_exclusive=[("value", "values")]),
        state=dict(type="str", choices=list(STATES), default="present"),
        on_existing=dict(type="str", choices=list(ON_EXISTING), default="replace"),
        prune=dict(type="bool", default=False),
        allow_deletes=dict(type="bool", default=False),
        owner=dict(type="str", default=DEFAULT_OWNER),
        ownership=dict(type="str", choices=list(OWNERSHIP_MODES), default=MARKER_OWNERSHIP),
        adopt=dict(type="bool", default=False),
        device_names=dict(type="list", elements="str", default=[]),
        base_dir=dict(type="path"),
    )


def _run(module: AnsibleModule, argv: list[str]) -> tuple[int, str]:
    """The engine's command runner inside Ansible (named-checkzone before a zone file is installed)."""
    returncode, stdout, stderr = module.run_command(argv)
    return returncode, stdout + stderr


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[("records", key) for key in ("name", "type", "value", "values")] + [("value", "values")],
        required_together=[("name", "type")],
        required_one_of=[("name", "records")],
        supports_check_mode=True,
    )
    process_runner.command_runner = lambda argv, timeout: _run(module, argv)
    params = module.params
    provider = {key: value for key, value in params["provider"].items() if value is not None}
    module.no_log_values.update(provider_secrets(provider))  # the sub-options' no_log covers them too
    missing = missing_libraries(provider)
    if missing:
        module.fail_json(msg=missing_required_lib(" and ".join(missing)))
    single = params["records"] is None
    if single:
        entry = {key: params[key] for key in ("name", "type", "value", "values") if params[key] is not None}
        records = [entry]
    else:
        records = params["records"]
    task = RecordTask(
        provider=provider,
        zone=params["zone"],
        records=records,
        state=params["state"],
        on_existing=params["on_existing"],
        prune=params["prune"],
        owner=params["owner"],
        ownership=params["ownership"],
        adopt=params["adopt"],
        device_names=params["device_names"],
        ttl=params["ttl"],
        allow_deletes=params["allow_deletes"],
        base_dir=params["base_dir"] or os.getcwd(),
        single=single,
    )
    try:
        result = run_task(task, check_mode=module.check_mode)
    except FleetDNSError as exc:
        module.fail_json(msg=error_message(exc))
    for warning in result.warnings:
        module.warn(warning)
    output = dict(
        changed=bool(result.changes), zone=result.zone, changes=change_dicts(result.changes), notes=result.notes
    )
    if module._diff:
        output["diff"] = diff_entries(result.changes, task.owner)
    module.exit_json(**output)


if __name__ == "__main__":
    main()
