"""Documentation shared by the collection's modules: the standard attributes and the action groups."""

from __future__ import annotations


class ModuleDocFragment:
    """Use as `extends_documentation_fragment: fleetdns.ddns.attributes` (and `.actiongroup_dns`)."""

    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and predict whether it would change anything, without changing it.
  diff_mode:
    description: Returns what changed (or would change, in check mode) when run with C(--diff).
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: This module only reads, so it runs normally in check mode.
    description: Can run in check mode and predict whether it would change anything, without changing it.
  diff_mode:
    support: N/A
    details: This module changes nothing, so there is nothing to diff.
    description: Returns what changed (or would change, in check mode) when run with C(--diff).
"""

    ACTIONGROUP_DNS = r"""
options: {}
attributes:
  action_group:
    description: Set shared options such as C(provider) once with C(module_defaults) and C(group/fleetdns.ddns.dns).
    support: full
    membership:
      - fleetdns.ddns.dns
"""
