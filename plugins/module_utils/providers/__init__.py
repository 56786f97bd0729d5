"""Provider registry: inventory `type:` -> provider class.

Imports sit inside the loaders so that a run only imports the libraries of the providers it uses;
they are plain import statements so Ansible's module packer still finds and ships them.
"""

from __future__ import annotations

from .base import ZoneProvider


def _rfc2136() -> type[ZoneProvider]:
    from .rfc2136 import Rfc2136Provider

    return Rfc2136Provider


def _zonefile() -> type[ZoneProvider]:
    from .zonefile import ZoneFileProvider

    return ZoneFileProvider


def _cloudflare() -> type[ZoneProvider]:
    from .cloudflare import CloudflareProvider

    return CloudflareProvider


_ZONE_PROVIDERS = {"rfc2136": _rfc2136, "zonefile": _zonefile, "cloudflare": _cloudflare}


def zone_provider_type_names() -> list[str]:
    return sorted(_ZONE_PROVIDERS)


def zone_provider_class(type_name: str) -> type[ZoneProvider] | None:
    """The class for an inventory provider type, or None when the type is unknown."""
    loader = _ZONE_PROVIDERS.get(type_name)
    return loader() if loader else None
