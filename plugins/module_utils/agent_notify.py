"""The agent's notifications: the generic JSON webhook (one POST per event, an update or a failure,
to a URL the user runs; standard library only, so a device needs nothing more for it), and the
notification URLs of the apprise library (Slack, Telegram, e-mail, ntfy, ... without a receiver of
one's own). apprise is optional: it is imported only when the config names apprise URLs, and the
config check says which package to install when it is missing.
"""

from __future__ import annotations

import http.client
import importlib
import importlib.util
import json
import logging
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


APPRISE_PACKAGE = "apprise"


def apprise_available() -> bool:
    """Whether the optional apprise library can be imported."""
    try:
        return importlib.util.find_spec(APPRISE_PACKAGE) is not None
    except (ImportError, ValueError):
        return False


def _import_apprise() -> Any:
    """The apprise module, its own logging silenced: its lines name hosts and parts of URLs (which
    hold tokens), and the agent reports what went wrong in one line of its own. ImportError without it."""
    apprise = importlib.import_module(APPRISE_PACKAGE)
    quiet = logging.getLogger(APPRISE_PACKAGE)
    quiet.propagate = False
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    return apprise


def apprise_understands(url: str) -> bool:
    """Whether apprise knows what to do with `url` (its scheme and form); False without apprise."""
    if not apprise_available():
        return False
    return bool(_import_apprise().Apprise().add(url))


def send_apprise(urls: list[str], title: str, body: str) -> None:
    """Send one notification to every apprise URL; NotifyError when any of them failed."""
    try:
        apprise = _import_apprise()
    except ImportError:
        raise NotifyError("the apprise package is not installed (pip install apprise)") from None
    sender = apprise.Apprise()
    for url in urls:
        sender.add(url)
    if not sender.notify(title=title, body=body):
        raise NotifyError(f"apprise could not deliver to every one of the {len(urls)} URL(s)")
