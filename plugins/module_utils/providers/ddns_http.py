"""HTTP for the update-only DDNS providers (dyndns2, duckdns, freedns, namecheap), in one place.

The transport policy they share:

- https anywhere, plain http only to a loopback host (passwords and tokens travel in the request);
  a CA bundle file to verify the server with, relative to the inventory's directory.
- A User-Agent naming fleetdns and its version: Dyn and No-IP refuse (`badagent`) or block clients
  that send none, or only a library's.
- `timeout` bounds each network read; `deadline` bounds one whole exchange, however slowly the server
  drips its answer (the watchdog of http_api, which shuts the socket when it passes).
- Politeness: a 5xx, a timeout or a dropped connection is tried again at most `attempts` times in all,
  with exponential backoff; after that (or when the deadline passed) UpdateDeferredError says to try
  later. Every other answer goes back to the provider, which maps the service's words: no retry of
  a definitive answer ever happens here.
- Secrets (passwords, tokens, also when in the URL) are scrubbed from every message.

The deadline watchdog and the retry policy are meant to move onto a shared HTTP layer for all REST
providers; this module is the one place to change then.
"""

from __future__ import annotations

import base64
import os
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ..deadline import check_deadline
from ..errors import ProviderError, shorten
from ..redact import Redactor
from .base import Option
from .ddns_lookup import LOOKUP_OPTIONS
from .update_errors import UpdateDeferredError, UpdateRefusedError

try:
    import requests

    from .http_api import _ACTIVE, _Guard, _GuardedAdapter

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
REQUEST_DEADLINE = 60.0  # seconds for one whole exchange: a DDNS answer is a few bytes
COLLECTION_VERSION = "0.1.0"  # galaxy.yml's version (a unit test keeps them equal)
TRY_LATER = 1800.0  # seconds: No-IP asks for no retry sooner than 30 minutes after a 911


def user_agent() -> str:
    """`fleetdns/<version>`: the program and its release, as Dyn and No-IP require."""
    return f"fleetdns/{COLLECTION_VERSION} (+https://example.invalid/fleetdns)"


def check_server(url: Any) -> str | None:
    """Problem with a `server` option, or None: https anywhere, plain http only to loopback."""
    parts = urlsplit(str(url))
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return None
    if parts.scheme == "http":
        return "plain http to a non-loopback host would send the credentials in clear; use https"
    return f"{shorten(repr(url))} is not an https:// URL"


def http_options(default_server: str, what: str) -> dict[str, Option]:
    """The options every DDNS provider has: where the service is, TLS, time limits, where to look up."""
    return {
        "server": Option(
            str,
            default=default_server,
            description=f"base URL of {what}; https, or plain http to 127.0.0.1/::1/localhost only",
            check=check_server,
        ),
        "ca_bundle": Option(str, description="CA certificate file (PEM) to verify the service's TLS certificate with"),
        "timeout": Option(int, default=30, description="seconds to wait for the service at each network read"),
        "deadline": Option(
            (int, float),
            default=REQUEST_DEADLINE,
            description="seconds one request may take in all, however slowly the service answers",
            check=check_deadline,
        ),
        **LOOKUP_OPTIONS,
    }


@dataclass(frozen=True)
class Reply:
    """A service's answer: HTTP status and body text (not yet scrubbed: the provider parses it)."""

    status: int
    text: str


class DdnsClient:
    """One requests session against one DDNS service, for one provider entry."""

    ATTEMPTS: ClassVar[int] = 3
    BACKOFF: ClassVar[float] = 2.0  # seconds before the second attempt, doubled for each next one

    def __init__(
        self,
        service: str,
        options: dict[str, Any],
        secrets: Iterable[str],
        base_dir: str = ".",
        auth: tuple[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not HAS_REQUESTS:
            raise ProviderError(f"the {service} provider needs the Python package 'requests'", "pip install requests")
        self.service = service
        self.server = str(options.get("server") or "").rstrip("/")
        self.timeout = float(options.get("timeout") or 30)
        self.deadline = float(options.get("deadline") or REQUEST_DEADLINE)
        self.sleep = sleep
        self.requests_sent = 0
        hidden = [s for s in secrets if s]
        if auth is not None:
            hidden.append(base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
        self._redactor = Redactor(hidden)
        self._verify: bool | str = True
        if options.get("ca_bundle"):
            self._verify = os.path.join(base_dir, str(options["ca_bundle"]))
            if not os.path.isfile(self._verify):
                raise UpdateRefusedError(
                    f"{service}: ca_bundle {self._verify} does not exist",
                    "give the path of the CA certificate (PEM), relative to the inventory",
                    "config",
                )
        self._session = requests.Session()
        adapter = _GuardedAdapter()
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers.update({"User-Agent": user_agent()})
        if auth is not None:
            self._session.auth = auth

    def close(self) -> None:
        self._session.close()

    def scrub(self, text: str) -> str:
        return self._redactor.scrub(text)

    def quote(self, text: str) -> str:
        """A service's answer as a message may show it: scrubbed, one line, short."""
        return shorten(self.scrub(text.strip()) or "(an empty answer)", 160)

    def hide(self, secret: str) -> None:
        """Scrub one more secret from now on (an update URL a service handed out, say)."""
        self._redactor.add(secret)

    def get(self, path: str, params: list[tuple[str, str]] | None = None) -> Reply:
        """GET `path` under the server; retries a 5xx, a timeout or a dropped connection (see above)."""
        return self.get_url(self.server + path, params)

    def get_url(self, url: str, params: list[tuple[str, str]] | None = None) -> Reply:
        """GET a whole URL (one the service handed out), with the same policy as `get`."""
        host = urlsplit(url).netloc
        for attempt in range(1, self.ATTEMPTS + 1):
            last = attempt == self.ATTEMPTS
            try:
                response = self._exchange(url, params)
            except _DeadlinePassed:
                raise UpdateDeferredError(
                    f"{self.service}: {host} did not finish its answer within the deadline of {self.deadline:g} s",
                    "the service is slow or stalled; try again later",
                    "timeout",
                ) from None
            except requests.exceptions.SSLError as exc:
                raise UpdateRefusedError(
                    f"{self.service}: TLS verification of {host} failed: {self.quote(str(exc))}",
                    "set ca_bundle to the CA certificate that signed the server's certificate, or fix server",
                    "tls",
                ) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                what = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "connection failed"
                if last:
                    raise UpdateDeferredError(
                        f"{self.service}: {host} unreachable after {attempt} attempts ({what}: {self.quote(str(exc))})",
                        f"check server ({self.scrub(self.server)}) and the network; fleetdns tries again later",
                        "unreachable",
                    ) from None
                self.sleep(self.BACKOFF * 2 ** (attempt - 1))
                continue
            if response.status_code >= 500:
                if last:
                    raise UpdateDeferredError(
                        f"{self.service}: HTTP {response.status_code} from {host}, still failing after {attempt} "
                        "attempts",
                        "the service has a problem on its side; fleetdns tries again later",
                        str(response.status_code),
                    )
                self.sleep(self.BACKOFF * 2 ** (attempt - 1))
                continue
            return Reply(response.status_code, response.text)
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(self, url: str, params: list[tuple[str, str]] | None) -> Any:
        guard = _Guard(self.deadline)
        _ACTIVE.guard = guard
        try:
            response = self._session.get(url, params=params, timeout=self.timeout, verify=self._verify)
            _unused = response.content  # read the whole body while the watchdog watches
        except requests.exceptions.RequestException:
            if guard.fired:
                raise _DeadlinePassed from None
            raise
        finally:
            self.requests_sent += 1
            _ACTIVE.guard = None
            guard.stop()
        if guard.fired:
            raise _DeadlinePassed
        return response


class _DeadlinePassed(Exception):
    """The watchdog ended the exchange."""
