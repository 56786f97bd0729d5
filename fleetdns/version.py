"""The installed fleetdns version, looked up only when asked (importlib.metadata is slow to import)."""

from __future__ import annotations


def package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("fleetdns")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"
