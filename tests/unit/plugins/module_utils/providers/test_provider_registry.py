"""providers (the registry): every registered type declares its kind and capabilities, and the
capability that used to live in the module front (required libraries) comes from there."""

from __future__ import annotations

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils import providers
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.base import (
    OWNERSHIP_STORES,
    Capabilities,
    Provider,
    ZoneProvider,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.rdata import MANAGED_TYPES


@pytest.mark.parametrize("type_name", providers.provider_type_names())
def test_every_provider_declares_what_it_supports(type_name: str) -> None:
    cls = providers.provider_class(type_name)
    assert cls is not None and issubclass(cls, Provider) and type_name == cls.TYPE
    caps = cls.CAPABILITIES
    assert isinstance(caps, Capabilities)
    assert caps.record_types and set(caps.record_types) <= set(MANAGED_TYPES)
    assert caps.ownership_store in OWNERSHIP_STORES
    assert isinstance(cls.OPTIONS, dict)


def test_the_zone_providers_of_today() -> None:
    assert providers.zone_provider_type_names() == ["alidns", "cloudflare", "dnspod", "rfc2136", "zonefile"]
    for type_name in providers.zone_provider_type_names():
        cls = providers.zone_provider_class(type_name)
        assert cls is not None and issubclass(cls, ZoneProvider) and cls.CAPABILITIES.lists_zone
    cloudflare = providers.zone_provider_class("cloudflare")
    assert cloudflare is not None and not cloudflare.CAPABILITIES.zone_ownership
    assert cloudflare.CAPABILITIES.ownership_store == "comments"
    assert cloudflare.CAPABILITIES.limits.record_wire == 4096


def test_unknown_types() -> None:
    assert providers.provider_class("bogus") is None and providers.zone_provider_class("bogus") is None
    assert providers.provider_libraries("bogus") == ()


def test_required_libraries_are_declared_by_the_provider() -> None:
    assert providers.provider_libraries("cloudflare") == ("requests",)
    assert providers.provider_libraries("rfc2136") == () and providers.provider_libraries("zonefile") == ()
