"""The unit tests' run_module fixture: modules run in-process, the way Ansible would run them."""

from __future__ import annotations

from ansible_collections.fleetdns.ddns.tests.unit.plugins.modules.conftest import run_module

__all__ = ["run_module"]
