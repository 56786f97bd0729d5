"""The agent's generic JSON webhook: one POST per event (an update, a failure) to a URL the user
runs. Standard library only (http.client), so a device needs nothing more for it."""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.parse
from typing import Any

from .errors import shorten

USER_AGENT = "fleetdns-agent/0.1"
TIMEOUT = 5.0


class NotifyError(Exception):
    """The webhook could not be reached or did not accept the event."""


def post_json(url: str, body: dict[str, Any], timeout: float = TIMEOUT) -> None:
    """POST `body` as JSON; NotifyError unless the receiver answers 2xx."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    try:
        connection.request("POST", path, data, headers)
        response = connection.getresponse()
        response.read(4096)
    except (OSError, http.client.HTTPException) as exc:
        raise NotifyError(shorten(getattr(exc, "strerror", None) or str(exc) or type(exc).__name__)) from None
    finally:
        connection.close()
    if not 200 <= response.status < 300:
        raise NotifyError(f"answered HTTP {response.status} {shorten(response.reason)}".rstrip())
