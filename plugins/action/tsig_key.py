# Copyright: fleetdns maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the tsig_key module and hides its result from output whenever it carries the secret."""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    """A module cannot mark its own return values as secret; an action plugin can mark the result
    no_log, as ansible.builtin.include_vars does. The registered variable still holds everything."""

    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        result.update(self._execute_module(task_vars=task_vars))
        if result.get("secret"):
            result["_ansible_no_log"] = True
        return result
