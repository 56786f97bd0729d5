"""What every command shares: the registry of commands, the run context, and loading + validating
the inventory.

A command is one module in this package that defines NAME (the word typed), ORDER (its place in
--help), `add_parser(subparsers, parents)` and `run(ctx) -> exit code` (COMMAND_PARTS); modules
named `_*` are helpers; LONG_RUNNING = True keeps the cyclic garbage collector on while it runs.
Adding a command is adding that file; it imports what only it needs inside `run`, since every
CLI start imports every command module.

Validation always runs first and completely; a command reads or changes DNS only after it passed.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ansible_collections.fleetdns.ddns.plugins.module_utils import config as config_module
from ansible_collections.fleetdns.ddns.plugins.module_utils.config import FleetConfig

from ..output import Output, Redactor

log = logging.getLogger("fleetdns")

INVENTORY_ENV = "FLEETDNS_INVENTORY"
DEFAULT_INVENTORY = "hosts.yml"


COMMAND_PARTS = ("NAME", "ORDER", "add_parser", "run")


def registry() -> list[ModuleType]:
    """Every command module of this package, in --help order. A module with some of the parts of a
    command but not all is a mistake worth stopping for, not a module to skip silently."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        present = [part for part in COMMAND_PARTS if hasattr(module, part)]
        if len(present) == len(COMMAND_PARTS):
            found.append(module)
        elif "NAME" in present or "run" in present:
            missing = ", ".join(part for part in COMMAND_PARTS if part not in present)
            raise ImportError(f"command module {module.__name__} lacks {missing}")
    if not found:
        raise ImportError(f"no command modules found in {__name__}")
    return sorted(found, key=lambda module: (module.ORDER, module.NAME))


@dataclass
class Context:
    """Parsed arguments plus where to print and what to hide."""

    args: argparse.Namespace
    out: Output
    redactor: Redactor


@dataclass
class Loaded:
    """A validated inventory, ready to plan against."""

    path: str
    base_dir: str
    config: FleetConfig
    inventory: Any


def inventory_path(args: argparse.Namespace) -> str:
    """-i, else $FLEETDNS_INVENTORY, else ./hosts.yml."""
    return getattr(args, "inventory", None) or os.environ.get(INVENTORY_ENV) or DEFAULT_INVENTORY


def _load_inventory(path: str, vault_password_file: str | None) -> Any:
    """Indirection so unit tests can stand in for the inventory loader."""
    from ..inventory import load_inventory

    return load_inventory(path, vault_password_file=vault_password_file)


def raw_secrets(all_vars: dict) -> list[str]:
    """Secret option values straight from the inventory data, known before validation runs, so
    that even a validation message could not show one."""
    providers = all_vars.get("fleetdns_providers") if isinstance(all_vars, dict) else None
    if not isinstance(providers, dict):
        return []
    return [secret for settings in providers.values() for secret in config_module.provider_secrets(settings)]


def load(ctx: Context) -> Loaded:
    """Read and validate the inventory; raises ConfigError (every problem, located) on failure."""
    args = ctx.args
    path = inventory_path(args)
    vault_file = getattr(args, "vault_password_file", None)
    if vault_file:
        with open(vault_file, encoding="utf-8", errors="replace") as handle:
            ctx.redactor.add(handle.read())
    started = time.monotonic()
    inventory = _load_inventory(path, vault_file)
    ctx.redactor.add(*getattr(inventory, "secrets", ()) or ())
    ctx.redactor.add(*raw_secrets(inventory.all_vars))
    config = config_module.validate(inventory.all_vars, inventory.hosts, inventory.locate)
    ctx.redactor.add(*config.secrets())
    log.debug("inventory %s loaded and validated in %.3fs", path, time.monotonic() - started)
    for provider in config.providers.values():
        log.debug("provider %s (%s): %s", provider.name, provider.type, provider.redacted())
    for note in config.notes:
        ctx.out.info(f"note: {note}")
    return Loaded(path, str(inventory.base_dir), config, inventory)
