"""Run a module's main() in-process, the way Ansible would, and return its JSON result."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils.common.parameters import PASS_VARS
from ansible.module_utils.testing import patch_module_args

RunModule = Callable[..., dict[str, Any]]

# ansible-core >= 2.21 adds `invocation` (the arguments, secrets masked) to a result only when the
# controller asks, as it does with INJECT_INVOCATION on; older versions always add it. Ask for it,
# so the tests see what a user with that setting would see.
INVOCATION = {"_ansible_inject_invocation": True} if "inject_invocation" in PASS_VARS else {}


@pytest.fixture
def run_module(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> RunModule:
    """run_module(main, args, check_mode=False, diff=False) -> result dict (with 'failed' on failure)."""
    # A module runs in a process of its own, without the controller. Once a test in this process has
    # imported controller code (the CLI's Vault support does), ansible-core would send module warnings
    # to the controller's display instead of the result: run main() as it runs on a managed node.
    monkeypatch.setattr(module_utils_internal, "is_controller", False)

    def run(main: Callable[[], None], args: dict[str, Any], check_mode: bool = False, diff: bool = False) -> dict:
        module_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff, **INVOCATION)
        with patch_module_args(module_args), pytest.raises(SystemExit) as exited:
            main()
        result = json.loads(capsys.readouterr().out)
        assert (exited.value.code != 0) == bool(result.get("failed")), result
        return result

    return run
