#!/usr/bin/python
# Copyright: fleetdns maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the fleet_model action plugin, which does the work on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
module: fleet_model
short_description: Work out from the inventory which host owns which DNS names, zones, keys and grants
version_added: 0.1.0
description:
  - Reads C(fleetdns_providers), C(fleetdns_zones), C(fleetdns_owner) and every host's
    C(fleetdns_names), C(fleetdns_agent) and C(fleetdns_acme), validates them as the C(fleetdns) CLI
    does, and returns what follows from them - the same names, spelled the same way (lower-case,
    absolute, IDNA), as C(fleetdns plan) shows.
  - Runs on the controller only; nothing is sent to the target host. Nothing secret is returned -
    provider settings come without their secret options.
  - An invalid inventory fails the task with every problem, each with a hint.
  - Used by the roles and playbooks of this collection, so that no template re-derives the model.
author:
  - fleetdns maintainers (@fleetdns)
options:
  zones:
    description:
      - Return only these zones in RV(zones) (names as in C(fleetdns_zones), case and final dot aside).
        A name that is not in C(fleetdns_zones) fails the task. Default - every zone.
    type: list
    elements: str
  server:
    description:
      - Also work out what this host serves as a BIND primary (role M(fleetdns.ddns.bind_server)'s
        settings, whose C(bind_server_) variables these options mirror), returned as RV(server).
      - With it, an C(rfc2136) provider that has C(tsig_key_name) but no C(tsig_secret) is valid - the
        role makes that key - and a host whose TSIG key name cannot work fails the task.
      - This host's inventory name, C(ansible_host) and its addresses from facts
        (C(all_ipv4_addresses), C(all_ipv6_addresses)) always identify it.
    type: dict
    suboptions:
      zones:
        description: Zones served, instead of those whose rfc2136 provider's C(server) identifies this host.
        type: list
        elements: str
      addresses:
        description: More names or addresses a provider's C(server) may use for this host.
        type: list
        elements: str
        default: []
      port:
        description: Port named listens on; the providers of the served zones must use it.
        type: int
        default: 53
      clients:
        description: Hosts that get a key and update-policy grants for their names in the served zones.
        type: list
        elements: str
        default: []
      tsig_algorithm:
        description: Algorithm of the device keys.
        type: str
        default: hmac-sha256
      zone_options:
        description:
          - Per-zone settings keyed by zone name - C(allow_update), C(allow_transfer), C(nameservers),
            C(extra_grants) (see the role).
        type: dict
        default: {}
      nameservers:
        description: Apex NS of new zones that declare none.
        type: list
        elements: str
        default: []
      nameserver_address:
        description:
          - Glue address of an in-zone name server without an A/AAAA record. Empty - C(ansible_host) when
            that is an address, else the default IPv4 address from facts.
        type: str
        default: ''
      soa_contact:
        description: SOA contact - an e-mail address, a name relative to the zone, or an absolute name.
        type: str
        default: hostmaster
      soa_refresh:
        description: SOA refresh, seconds.
        type: int
        default: 3600
      soa_retry:
        description: SOA retry, seconds.
        type: int
        default: 900
      soa_expire:
        description: SOA expire, seconds.
        type: int
        default: 1209600
      soa_negative_ttl:
        description: SOA minimum (negative-answer TTL), seconds.
        type: int
        default: 300
      zone_dir:
        description: Directory of the zone files on the server.
        type: path
        default: /var/lib/bind
extends_documentation_fragment:
  - fleetdns.ddns.attributes.info_module
attributes:
  platform:
    support: full
    platforms: posix
    description: Runs on the controller.
notes:
  - This is an action plugin; the module of the same name only holds its documentation.
"""

EXAMPLES = r"""
- name: Show which names each device owns and where they are updated
  fleetdns.ddns.fleet_model:
  register: fleet

- name: Apply the records of one zone
  fleetdns.ddns.dns_record:
    provider: "{{ fleetdns_providers[item.provider] }}"
    zone: "{{ item.name }}"
    records: "{{ fleetdns_zones[item.key].records | default([], true) }}"
    device_names: "{{ item.device_names }}"
    prune: true
  loop: "{{ (fleet.zones | selectattr('provider_type', 'eq', 'rfc2136')) }}"
  loop_control:
    label: "{{ item.name }}"
"""

RETURN = r"""
owner:
  description: The ownership id (C(fleetdns_owner), default V(fleetdns)).
  returned: always
  type: str
  sample: fleet-main
zones:
  description: The selected zones of C(fleetdns_zones), in inventory order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Zone name, lower-case IDNA, without the final dot.
      type: str
      sample: example.test
    key:
      description: The zone's key as written in C(fleetdns_zones).
      type: str
      sample: Example.Test
    provider:
      description: Name of the zone's provider.
      type: str
      sample: lab
    provider_type:
      description: Type of that provider.
      type: str
      sample: rfc2136
    update_only:
      description:
        - Whether that provider is update-only (V(dyndns2), V(duckdns), V(freedns), V(namecheap)). Such a
          zone holds no records; C(playbooks/records.yml) leaves it out, as C(fleetdns apply) does.
      type: bool
      sample: false
    builtin_provider:
      description:
        - Settings of the built-in C(default) provider when the zone uses it and C(fleetdns_providers)
          does not define it; else null.
      type: dict
      sample: {type: zonefile, directory: zones}
    default_ttl:
      description: TTL of records that give none.
      type: int
      sample: 300
    ownership:
      description: V(markers) or V(zone).
      type: str
      sample: markers
    device_names:
      description: The C(fleetdns_names) in this zone, absolute.
      type: list
      elements: str
      sample: [gw.example.test.]
client:
  description:
    - This host as a device - null when it has no C(fleetdns_names).
  returned: always
  type: dict
  contains:
    host:
      description: Inventory name.
      type: str
      sample: gw
    key_name:
      description: Name of the host's TSIG key (its inventory name, lower-case).
      type: str
      sample: gw
    agent:
      description: C(fleetdns_agent).
      type: str
      sample: fleetdns
    acme:
      description: C(fleetdns_acme).
      type: bool
      sample: false
    zones:
      description:
        - The host's names grouped by zone, each zone with its provider's type and settings,
          secret options left out (and for rfc2136 the provider's own key, since a device signs with
          RV(client.key_name)).
      type: list
      elements: dict
      sample:
        - zone: example.test
          provider: lab
          provider_type: rfc2136
          settings: {server: 192.0.2.53, port: 53, timeout: 10}
          names: [gw.example.test.]
problems:
  description: Host names that cannot be TSIG key names (or would share one); the task fails on them with O(server).
  returned: always
  type: list
  elements: str
  sample: []
server:
  description:
    - What this host serves as a BIND primary - C(zones) (name, file, ttl, allow_update, update_policy,
      allow_transfer, nameservers, glue, soa, admin_key), C(device_keys) and C(admin_keys) (name,
      algorithm, and whether the inventory carries the admin key's secret), and C(controller_keys),
      the names of every key kept on the controller across the fleet.
  returned: when O(server) is given
  type: dict
  sample:
    zones:
      - name: example.test
        file: /var/lib/bind/db.example.test
        ttl: 300
        allow_update: []
        update_policy: ["grant fleet-admin zonesub ANY;", "grant gw name gw.example.test. A AAAA;"]
        allow_transfer: [key fleet-admin]
        nameservers: [ns1.example.test.]
        glue: [{name: ns1.example.test., type: A, value: 192.0.2.53}]
        soa: {mname: ns1.example.test., rname: hostmaster.example.test., refresh: 3600, retry: 900,
              expire: 1209600, minimum: 300}
        admin_key: fleet-admin
    device_keys: [{name: gw, host: gw, algorithm: hmac-sha256}]
    admin_keys: [{name: fleet-admin, provider: lab, algorithm: hmac-sha256, inline: false}]
    controller_keys: [fleet-admin, gw]
"""
