#!/usr/bin/python
# Copyright: fleetdns maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find the host's public IPv4 and IPv6 addresses as the outside sees them."""

from __future__ import annotations

DOCUMENTATION = r"""
module: public_ip_info
short_description: Find the host's public IPv4 and IPv6 addresses as the outside sees them
version_added: 0.1.0
description:
  - Asks several independent sources at once for the address the host's traffic comes from,
    separately for IPv4 and IPv6, and returns an address only when enough of them agree.
  - Sources are HTTP echo services (the reply is the caller's address), DNS servers that answer
    with the address a query came from (OpenDNS C(myip.opendns.com), Google
    C(o-o.myaddr.l.google.com) TXT, Cloudflare C(whoami.cloudflare) CHAOS TXT), and the local
    interface that routes outwards (which counts only when its address is public).
  - Each source gets its own timeout; a source that times out, fails or answers something that is
    not an address of the right family simply does not vote.
  - When the sources disagree, or none answers for a required family, the task fails with a message
    that lists what every source answered.
  - The host running the module is the one whose address is found; use C(delegate_to) to ask from
    another host.
author:
  - fleetdns maintainers (@fleetdns)
options:
  ipv4:
    description:
      - V(required) fails when no IPv4 address can be agreed on; V(optional) returns V(null) when no
        source answers at all (sources that disagree still fail the task); V(skip) does not ask.
    type: str
    choices: [required, optional, skip]
    default: required
  ipv6:
    description:
      - As O(ipv4), for IPv6. Optional by default because many networks have no IPv6.
    type: str
    choices: [required, optional, skip]
    default: optional
  sources:
    description:
      - The sources to ask. Each item is either the name of a built-in source or a mapping.
      - Built-in names are V(ipify), V(icanhazip), V(cloudflare_trace), V(dyndns_checkip) (HTTP),
        V(opendns), V(google), V(cloudflare_dns) (DNS; V(dyndns_checkip) and V(cloudflare_dns) are
        IPv4 only) and V(interface).
      - 'A mapping has C(name), C(type) (V(http), V(dns) or V(interface)) and C(families) (a list of
        V(ipv4) and V(ipv6), default both). C(http): C(url) and C(format) (V(plain): the body is the
        address; V(json): C({"ip": ...}); V(trace): C(key=value) lines with C(ip=); V(html): the text
        after C(Address:)). C(dns): C(server) (address or host name), C(port) (default 53), C(qname),
        C(qtype) (V(A), V(AAAA) or V(TXT); default V(A) for IPv4 and V(AAAA) for IPv6) and
        C(qclass) (V(IN) or V(CH)). C(interface): C(target), the address whose route picks the
        interface (nothing is sent to it).'
      - The default is V(ipify), V(opendns) and V(google), three different operators.
    type: list
    elements: raw
  timeout:
    description:
      - Seconds each source may take; all sources are asked at the same time, so the task takes
        about this long at most.
    type: float
    default: 5
  quorum:
    description:
      - How many sources must report the same address. The default is more than half of the sources
        asked for that family.
    type: int
extends_documentation_fragment:
  - fleetdns.ddns.attributes.info_module
attributes:
  platform:
    support: full
    platforms: posix
    description: Target operating systems this module runs on.
notes:
  - DNS sources need the Python library dnspython on the host that runs the module.
  - This module is not in the C(fleetdns.ddns.dns) action group, whose defaults (such as a provider)
    it does not take.
seealso:
  - module: fleetdns.ddns.tsig_key
"""

EXAMPLES = r"""
- name: Find the public addresses with the default sources
  fleetdns.ddns.public_ip_info:
  register: public

- name: Show them
  ansible.builtin.debug:
    msg: "IPv4 {{ public.ipv4 }}, IPv6 {{ public.ipv6 | default('none', true) }}"

- name: IPv6 only, from five sources of which three must agree, two seconds each
  fleetdns.ddns.public_ip_info:
    ipv4: skip
    ipv6: required
    sources: [ipify, icanhazip, cloudflare_trace, opendns, google]
    quorum: 3
    timeout: 2

- name: Ask an echo service and a resolver of your own
  fleetdns.ddns.public_ip_info:
    sources:
      - name: own-echo
        type: http
        url: https://echo.example.net/ip
        families: [ipv4, ipv6]
      - name: own-dns
        type: dns
        server: 192.0.2.53
        qname: whoami.example.net
        qtype: TXT
        families: [ipv4]
      - opendns
"""

RETURN = r"""
ipv4:
  description: The public IPv4 address the sources agreed on, or V(null) (O(ipv4=optional) with no answer, or V(skip)).
  returned: always
  type: str
  sample: 203.0.113.7
ipv6:
  description: The public IPv6 address the sources agreed on, or V(null).
  returned: always
  type: str
  sample: 2001:db8::7
sources:
  description: What every source answered, for both families.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The source's name.
      type: str
      sample: ipify
    family:
      description: V(ipv4) or V(ipv6).
      type: str
      sample: ipv4
    address:
      description: The address it reported, or V(null).
      type: str
      sample: 203.0.113.7
    error:
      description: Why it reported none (timeout, refused, not an address, ...), or V(null).
      type: str
      sample: timed out after 5s
    seconds:
      description: How long it took.
      type: float
      sample: 0.084
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError
from ansible_collections.fleetdns.ddns.plugins.module_utils.public_ip import (
    PublicIPError,
    detect,
    sources_from_config,
)

_FAMILIES = (("ipv4", 4), ("ipv6", 6))


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            ipv4=dict(type="str", choices=["required", "optional", "skip"], default="required"),
            ipv6=dict(type="str", choices=["required", "optional", "skip"], default="optional"),
            sources=dict(type="list", elements="raw"),
            timeout=dict(type="float", default=5.0),
            quorum=dict(type="int"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    result: dict = {"changed": False, "ipv4": None, "ipv6": None, "sources": []}
    if params["timeout"] <= 0:
        module.fail_json(msg=f"timeout must be more than 0 seconds, got {params['timeout']:g}", **result)
    if params["quorum"] is not None and params["quorum"] < 1:
        module.fail_json(msg=f"quorum must be at least 1, got {params['quorum']}", **result)
    try:
        sources = sources_from_config(params["sources"])
    except ConfigError as exc:
        module.fail_json(msg=f"invalid sources:\n{exc}", **result)
    failures = []
    for key, family in _FAMILIES:
        if params[key] == "skip":
            continue
        if not any(s.family == family for s in sources):
            if params[key] == "required":
                failures.append(f"{key}: none of the sources serves IPv{family}; add one or set {key}: skip")
            continue
        try:
            found = detect(sources, family, params["timeout"], params["quorum"])
        except PublicIPError as exc:
            result["sources"].extend(a.to_dict() for a in exc.answers)
            if params[key] == "required" or exc.any_answered:
                failures.append(f"{key}: {exc}")
            continue
        result[key] = found.address
        result["sources"].extend(a.to_dict() for a in found.answers)
    if failures:
        module.fail_json(msg="\n".join(failures), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
