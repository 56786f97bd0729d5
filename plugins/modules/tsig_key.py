#!/usr/bin/python
# Copyright: fleetdns maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generate or read back a TSIG key file in BIND's format."""

from __future__ import annotations

DOCUMENTATION = r"""
module: tsig_key
short_description: Generate or read back a TSIG key file in BIND's format
version_added: 0.1.0
description:
  - Makes sure the file at O(path) holds a TSIG key named O(name) with algorithm O(algorithm), in the
    format C(tsig-keygen) writes, so C(named.conf) can C(include) it and clients can read it.
  - When the file already holds a key with that name and algorithm, the key is kept and returned
    unchanged; otherwise a new secret is generated from the operating system's random source, as
    long as the algorithm's digest.
  - The secret is returned so other tasks can hand it to a DNS client. Because of that, the result of
    this module is hidden from Ansible's output (as with C(no_log)) whenever it carries a secret; the
    task still reports C(ok) or C(changed), and a registered variable holds the full result.
  - The file is written atomically and is never readable by others, not even while it is written.
author:
  - fleetdns maintainers (@fleetdns)
options:
  name:
    description:
      - Name of the key, a domain name such as V(host1.example.test) or V(fleet-admin).
      - Compared without regard to case or a final dot, as BIND does.
      - Required when O(state=present). With O(state=absent), when given, the file is removed only if
        it holds a key of this name.
    type: str
  algorithm:
    description:
      - HMAC algorithm of the key.
      - V(hmac-md5) still works with BIND but is weak; the module warns when it is used.
    type: str
    default: hmac-sha256
    choices: [hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512]
  path:
    description:
      - The key file. Its directory must exist.
      - A file there that is not a single-key file is never overwritten or removed unless O(force=true).
    type: path
    required: true
  state:
    description:
      - V(present) makes sure the key exists; V(absent) removes the key file.
    type: str
    choices: [present, absent]
    default: present
  mode:
    description:
      - Permissions of the key file, as for M(ansible.builtin.file). Use for example V('0640') with
        O(group=bind) so that C(named) can read it.
    type: raw
    default: '0600'
  force:
    description:
      - With O(state=present), generate a new secret even when the key already exists (rotation);
        the task then reports a change on every run, so use it in a one-off play.
      - Also allows replacing or removing a file at O(path) that is not a key file, or that holds
        a key of another name.
    type: bool
    default: false
    aliases: [regenerate]
extends_documentation_fragment:
  - ansible.builtin.files
  - fleetdns.ddns.attributes
attributes:
  check_mode:
    support: full
    details: In check mode a key that would be generated is not, so no RV(secret) is returned.
  diff_mode:
    support: full
    details: The diff shows the key statement with the secret replaced by a placeholder.
  platform:
    support: full
    platforms: posix
    description: Target operating systems this module runs on.
seealso:
  - name: tsig-keygen
    description: BIND's own key generator, whose output format this module reads and writes.
    link: https://bind9.readthedocs.io/en/latest/manpages.html#tsig-keygen-ddns-confgen-tsig-key-generation-tool
notes:
  - The action plugin of the same name marks the result as C(no_log) when it contains the secret.
"""

EXAMPLES = r"""
- name: Give a device its own update key, readable by named
  fleetdns.ddns.tsig_key:
    name: sensor-01.example.test
    path: /etc/bind/keys/sensor-01.key
    owner: root
    group: bind
    mode: '0640'
  register: sensor_key

- name: Hand the secret to the device's DDNS client
  ansible.builtin.template:
    src: ddclient.conf.j2
    dest: /etc/ddclient.conf
    mode: '0600'
  delegate_to: sensor-01
  vars:
    tsig_secret: "{{ sensor_key.secret }}"
  no_log: true

- name: Rotate the admin key
  fleetdns.ddns.tsig_key:
    name: fleet-admin
    algorithm: hmac-sha512
    path: /etc/bind/keys/fleet-admin.key
    force: true

- name: Remove a retired device's key
  fleetdns.ddns.tsig_key:
    name: sensor-02.example.test
    path: /etc/bind/keys/sensor-02.key
    state: absent
"""

RETURN = r"""
key_name:
  description: Name of the key, as written in the file.
  returned: when O(state=present)
  type: str
  sample: sensor-01.example.test
algorithm:
  description: Algorithm of the key.
  returned: when O(state=present)
  type: str
  sample: hmac-sha256
path:
  description: The key file.
  returned: always
  type: str
  sample: /etc/bind/keys/sensor-01.key
secret:
  description:
    - The base64 secret. Only in a registered variable; hidden from Ansible's output.
  returned: when O(state=present) and the key exists (not when check mode would generate one)
  type: str
  sample: q8Vq2bC0mWkqS8cQn6w1zPp3vRk3b8Jf2lq0yN8kq2o=
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.fleetdns.ddns.plugins.module_utils.tsig import (
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    WEAK_ALGORITHMS,
    TsigKey,
    TsigKeyError,
    check_key_name,
    generate_key,
    key_name_id,
    read_key_file,
    render_key,
    write_key_file,
)

_HIDDEN = "(secret not shown)"
_HIDDEN_NEW = "(new secret not shown)"


def _shown(key: TsigKey | None, placeholder: str = _HIDDEN) -> str:
    return render_key(key, secret=placeholder) if key else ""


def _present(module: AnsibleModule, existing: TsigKey | None, result: dict) -> None:
    params = module.params
    name = params["name"]
    algorithm = params["algorithm"]
    if algorithm in WEAK_ALGORITHMS:
        module.warn(f"{algorithm} is weak; use hmac-sha256 or stronger unless a client can do nothing else")
    keep = existing is not None and existing.same_identity(name, algorithm) and not params["force"]
    if keep:
        key = existing
    else:
        if existing is not None and key_name_id(existing.name) != key_name_id(name) and not params["force"]:
            module.fail_json(
                msg=f"{params['path']} holds the key {existing.name!r}, not {name!r}; not replaced. "
                "Use another path, or force: true to replace it",
                **result,
            )
        key = generate_key(name, algorithm)
        result["changed"] = True
    result.update(key_name=key.name, algorithm=key.algorithm)
    result["diff"] = [
        {
            "before_header": params["path"],
            "after_header": params["path"],
            "before": _shown(existing),
            "after": _shown(key, _HIDDEN if keep else _HIDDEN_NEW),
        }
    ]
    if module.check_mode and not keep:
        return
    if not keep:
        try:
            write_key_file(params["path"], key)
        except OSError as exc:
            module.fail_json(msg=f"cannot write the key file {params['path']}: {exc.strerror or exc}", **result)
    result["secret"] = key.secret
    attr_diff: dict = {"before": {}, "after": {}}
    file_args = module.load_file_common_arguments(params)
    result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"], diff=attr_diff)
    if attr_diff["before"] or attr_diff["after"]:
        result["diff"].append(attr_diff)


def _absent(module: AnsibleModule, existing: TsigKey | None, result: dict) -> None:
    params = module.params
    path = params["path"]
    if not os.path.lexists(path):
        return
    name = params["name"]
    if existing is not None and name and key_name_id(existing.name) != key_name_id(name) and not params["force"]:
        module.fail_json(
            msg=f"{path} holds the key {existing.name!r}, not {name!r}; not removed. "
            "Fix name, or use force: true to remove it anyway",
            **result,
        )
    result["changed"] = True
    result["diff"] = [{"before_header": path, "after_header": path, "before": _shown(existing), "after": ""}]
    if not module.check_mode:
        try:
            os.unlink(path)
        except OSError as exc:
            module.fail_json(msg=f"cannot remove the key file {path}: {exc.strerror or exc}", **result)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str"),
            algorithm=dict(type="str", default=DEFAULT_ALGORITHM, choices=list(ALGORITHMS)),
            path=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            mode=dict(type="raw", default="0600"),
            force=dict(type="bool", default=False, aliases=["regenerate"]),
        ),
        required_if=[("state", "present", ["name"])],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    result: dict = {"changed": False, "path": params["path"]}
    if params["name"] is not None:
        try:
            params["name"] = check_key_name(params["name"])
        except TsigKeyError as exc:
            module.fail_json(msg=str(exc), **result)
    try:
        existing = read_key_file(params["path"])
    except TsigKeyError as exc:
        if not params["force"]:
            module.fail_json(msg=f"{exc}. Nothing was changed; use force: true to replace or remove it", **result)
        existing = None
    if params["state"] == "present":
        _present(module, existing, result)
    else:
        _absent(module, existing, result)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
