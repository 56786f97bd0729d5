"""Run a module's main() in-process, the way Ansible would, and return its JSON result."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from ansible.module_utils.testing import patch_module_args

RunModule = Callable[..., dict[str, Any]]


@pytest.fixture
def run_module(capsys: pytest.CaptureFixture[str]) -> RunModule:
    """run_module(main, args, check_mode=False, diff=False) -> result dict (with 'failed' on failure)."""

    def run(main: Callable[[], None], args: dict[str, Any], check_mode: bool = False, diff: bool = False) -> dict:
        module_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        with patch_module_args(module_args), pytest.raises(SystemExit) as exited:
            main()
        result = json.loads(capsys.readouterr().out)
        assert (exited.value.code != 0) == bool(result.get("failed")), result
        return result

    return run
