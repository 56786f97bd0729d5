"""Provider registry: inventory `type:` -> provider class, of either kind (see base.py).

Imports sit inside the loaders so that a run only imports the libraries of the providers it uses;
they are plain import statements so Ansible's module packer still finds and ships them.
"""

from __future__ import annotations

from .base import Provider, ZoneProvider


def _rfc2136() -> type[Provider]:
    from .rfc2136 import Rfc2136Provider

    return Rfc2136Provider


def _zonefile() -> type[Provider]:
    from .zonefile import ZoneFileProvider

    return ZoneFileProvider


def _cloudflare() -> type[Provider]:
    from .cloudflare import CloudflareProvider

    return CloudflareProvider


def _alidns() -> type[Provider]:
    from .alidns import AliDnsProvider

    return AliDnsProvider


def _dnspod() -> type[Provider]:
    from .dnspod import DnspodProvider

    return DnspodProvider


def _dyndns2() -> type[Provider]:
    from .dyndns2 import Dyndns2Provider

    return Dyndns2Provider


def _duckdns() -> type[Provider]:
    from .duckdns import DuckDnsProvider

    return DuckDnsProvider


def _freedns() -> type[Provider]:
    from .freedns import FreeDnsProvider

    return FreeDnsProvider


def _namecheap() -> type[Provider]:
    from .namecheap import NamecheapProvider

    return NamecheapProvider


_PROVIDERS = {
    "rfc2136": _rfc2136,
    "zonefile": _zonefile,
    "cloudflare": _cloudflare,
    "alidns": _alidns,
    "dnspod": _dnspod,
    "dyndns2": _dyndns2,
    "duckdns": _duckdns,
    "freedns": _freedns,
    "namecheap": _namecheap,
}


def provider_type_names() -> list[str]:
    """Every provider type the inventory may name, of both kinds."""
    return sorted(_PROVIDERS)


def provider_class(type_name: str) -> type[Provider] | None:
    """The class for an inventory provider type, or None when the type is unknown."""
    loader = _PROVIDERS.get(type_name)
    return loader() if loader else None


def zone_provider_type_names() -> list[str]:
    """The types that can list and change a whole zone (what the modules and `plan` work with)."""
    return [name for name in provider_type_names() if zone_provider_class(name) is not None]


def zone_provider_class(type_name: str) -> type[ZoneProvider] | None:
    """The class for a zone provider type, or None when the type is unknown or update-only."""
    cls = provider_class(type_name)
    return cls if cls is not None and issubclass(cls, ZoneProvider) else None


def provider_libraries(type_name: str) -> tuple[str, ...]:
    """Python packages a provider type needs besides dnspython; () for an unknown type."""
    cls = provider_class(type_name)
    return cls.CAPABILITIES.libraries if cls is not None else ()


def checks_targets(type_name: str) -> bool:
    """Whether the server behind this provider type refuses MX/NS targets without an address."""
    cls = provider_class(type_name)
    return cls.CAPABILITIES.checks_targets if cls is not None else True
