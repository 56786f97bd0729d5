"""The fleetdns version, looked up only when asked (importlib.metadata is slow to import).

The one-file agent (scripts/build-agent-zipapp) carries fleetdns/build_info.py with the version and
commit it was built from; an installed package has its metadata.
"""

from __future__ import annotations


def package_version() -> str:
    try:
        from . import build_info  # type: ignore[attr-defined]

        return str(build_info.VERSION)
    except ImportError:
        pass
    from importlib import metadata

    try:
        return metadata.version("fleetdns")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"
