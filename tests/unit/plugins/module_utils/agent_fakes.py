"""A small update-only provider for the agent's tests (the real DDNS services' providers are
tested on their own): it keeps the DNS of its names in memory, like a service with its
authoritative servers, and answers updates as the test tells it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils import providers
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ProviderError
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.base import (
    NO_STORE,
    Addresses,
    Capabilities,
    Option,
    UpdateAnswer,
    UpdateOnlyProvider,
)

SECRET = "fake-service-password-123"


class FakeService:
    """One service: its DNS, what it answers, and the updates it received."""

    def __init__(self) -> None:
        self.dns: dict[tuple[str, str], frozenset[str]] = {}
        self.answer = "good"  # good | badauth | abuse | down | lie (accepts, DNS keeps the old value)
        self.updates: list[tuple[str, dict[str, frozenset[str]]]] = []
        self.lookups = 0

    def lookup(self, name: str, rtype: str) -> frozenset[str]:
        self.lookups += 1
        return self.dns.get((name, rtype), frozenset())


SERVICES: dict[str, FakeService] = {}


class FakeUpdateOnly(UpdateOnlyProvider):
    TYPE: ClassVar[str] = "fakeddns"
    CAPABILITIES: ClassVar[Capabilities] = Capabilities(
        record_types=("A", "AAAA"), lists_zone=False, ownership_store=NO_STORE, zone_ownership=False
    )
    OPTIONS: ClassVar[dict[str, Option]] = {
        "service": Option(str, required=True, description="which FakeService"),
        "password": Option(str, required=True, secret=True, description="the account's password"),
    }

    def update(self, name: str, addresses: Addresses) -> UpdateAnswer:
        service = SERVICES[self.options["service"]]
        service.updates.append((name, dict(addresses)))
        if service.answer in ("badauth", "abuse"):
            # (a careless service echoes the request, password included: the agent must scrub it)
            raise ProviderError(
                f"fakeddns provider '{self.name}': the service answered {service.answer!r} to "
                f"password={self.options['password']}"
            )
        if service.answer == "down":
            raise ProviderError(f"fakeddns provider '{self.name}': connection refused")
        if service.answer != "lie":
            for rtype, values in addresses.items():
                service.dns[(name, rtype)] = frozenset(values)
        return UpdateAnswer(True, {}, "good")


@pytest.fixture
def fake_services(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, FakeService]]:
    """Two fake services, `a` and `b`, with the provider type `fakeddns` registered."""
    monkeypatch.setitem(providers._PROVIDERS, "fakeddns", lambda: FakeUpdateOnly)
    SERVICES.clear()
    SERVICES.update(a=FakeService(), b=FakeService())
    yield SERVICES
    SERVICES.clear()


def fake_provider(service: str, **extra: Any) -> dict[str, Any]:
    return {"type": "fakeddns", "service": service, "password": SECRET, **extra}


def write_config(directory: Path, data: Any, name: str = "agent.json", mode: int = 0o600) -> str:
    path = directory / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2), encoding="utf-8")
    os.chmod(path, mode)
    return str(path)


def basic_config(**extra: Any) -> dict[str, Any]:
    """One name through the two fake services, a static IPv4 address, no IPv6."""
    config: dict[str, Any] = {
        "names": [{"name": "gw.dyn.test", "providers": ["a", "b"]}],
        "providers": {"a": fake_provider("a"), "b": fake_provider("b")},
        "detect": {"ipv4": {"static": "8.8.8.8"}, "ipv6": False},
        "verify_deadline": 0,
    }
    config.update(extra)
    return config
