"""What the update-only DDNS providers (dyndns2, duckdns, freedns, namecheap) add to the HTTP layer.

The transport policy itself (https except to loopback, CA bundle, per-read timeout, a deadline for
the whole request with its retries, retries with backoff on a 5xx, a timeout or a dropped connection,
429 and Retry-After, secret scrubbing) is http_api's HttpApi. This module adds only what DDNS services need:

- A User-Agent naming fleetdns and its version: Dyn and No-IP refuse (`badagent`) or block clients
  that send none, or only a library's; and Basic auth for the dyndns2 protocol.
- Politeness: at most `ATTEMPTS` tries in all; every answer that is not a 5xx or throttling goes back
  to the provider, which maps the service's words: no retry of a definitive answer ever happens.
- The DDNS error types: once the retries are spent (or the deadline passed), UpdateDeferredError
  says to try later; a TLS failure is UpdateRefusedError (sending again cannot help).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ..deadline import check_deadline
from ..errors import ProviderError, shorten
from .base import NO_STORE, Capabilities, Option, UpdateOnlyProvider
from .ddns_lookup import LOOKUP_OPTIONS
from .http_api import HttpApi, HttpStatusError, RateLimitedError, TransportError, check_base_url, resolve_ca_bundle
from .http_api import retry_after as retry_after_header
from .update_errors import UpdateDeferredError, UpdateRefusedError

REQUEST_DEADLINE = 60.0  # seconds for one whole request, retries included: a DDNS answer is a few bytes
COLLECTION_VERSION = "0.1.0"  # galaxy.yml's version (a unit test keeps them equal)
TRY_LATER = 1800.0  # seconds: No-IP asks for no retry sooner than 30 minutes after a 911
DEFERRED = 300.0  # seconds to wait after a failure the service gave no time for


def user_agent() -> str:
    """`fleetdns/<version>`: the program and its release, as Dyn and No-IP require."""
    return f"fleetdns/{COLLECTION_VERSION} (+https://example.invalid/fleetdns)"


def check_server(url: Any) -> str | None:
    """Problem with a `server` option, or None: https anywhere, plain http only to loopback."""
    return check_base_url(url, option=None)


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
    """One HttpApi against one DDNS service, for one provider entry, speaking the DDNS error types."""

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
        self.service = service
        self.server = str(options.get("server") or "").rstrip("/")
        hidden = [s for s in secrets if s]
        headers = {"User-Agent": user_agent()}
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
            hidden.append(token)
        try:
            verify = resolve_ca_bundle(base_dir, options.get("ca_bundle"), service, who=service)
        except ProviderError as exc:
            raise UpdateRefusedError(exc.message, exc.hint, "config") from None
        self.http = HttpApi(
            self.server,
            service=service,
            provider_type=service,
            headers=headers,
            secrets=hidden,
            verify=verify,
            timeout=float(options.get("timeout") or 30),
            deadline=float(options.get("deadline") or REQUEST_DEADLINE),
            attempts=self.ATTEMPTS,
            backoff=self.BACKOFF,
            max_backoff=self.BACKOFF * 2**self.ATTEMPTS,  # never reached: the doubling is the bound
            max_retry_after=self.BACKOFF * 2**self.ATTEMPTS,  # a longer wait is the caller's, not a sleep here
            sleep=sleep,
        )

    def close(self) -> None:
        self.http.close()

    def scrub(self, text: str) -> str:
        return self.http.scrub(text)

    def quote(self, text: str) -> str:
        """A service's answer as a message may show it: scrubbed, one line, short."""
        return shorten(self.scrub(text.strip()) or "(an empty answer)", 160)

    def hide(self, secret: str) -> None:
        """Scrub one more secret from now on (an update URL a service handed out, say)."""
        self.http.hide(secret)

    def get(self, path: str, params: list[tuple[str, str]] | None = None) -> Reply:
        """GET `path` under the server, with HttpApi's retries; DDNS errors once they are spent."""
        return self._get(path, urlsplit(self.server).netloc, params)

    def get_url(self, url: str, params: list[tuple[str, str]] | None = None) -> Reply:
        """GET a whole URL (one the service handed out), with the same policy as `get`."""
        return self._get(url, urlsplit(url).netloc, params)

    def _get(self, target: str, host: str, params: list[tuple[str, str]] | None) -> Reply:
        try:
            response = self.http.request("GET", target, params)
        except TransportError as exc:
            raise self._transport_error(exc) from None
        except RateLimitedError as exc:
            wait = retry_after_header(exc.response)
            raise UpdateDeferredError(
                f"{self.service}: {host} asks to slow down (HTTP {exc.status})",
                "fleetdns tries again later, no sooner than the service asks",
                str(exc.status),
                max(DEFERRED, wait or 0.0),
            ) from None
        except HttpStatusError as exc:
            raise UpdateDeferredError(
                f"{self.service}: HTTP {exc.status} from {host}, still failing after {exc.attempts} attempts",
                "the service has a problem on its side; fleetdns tries again later",
                str(exc.status),
            ) from None
        return Reply(response.status_code, response.text)

    def _transport_error(self, exc: TransportError) -> ProviderError:
        if exc.kind == "deadline":
            tried = f"{exc.attempts} attempt" + ("s" if exc.attempts != 1 else "")
            last = f"; last: {shorten(exc.detail, 160)}" if exc.detail else ""
            return UpdateDeferredError(
                f"{self.service}: no whole answer from {exc.host} within the deadline of {self.http.deadline:g} s "
                f"({tried}{last})",
                "the service is slow or stalled; try again later",
                "timeout",
            )
        if exc.kind == "tls":
            return UpdateRefusedError(
                f"{self.service}: TLS verification of {exc.host} failed: {shorten(exc.detail, 160)}",
                "set ca_bundle to the CA certificate that signed the server's certificate, or fix server",
                "tls",
            )
        return UpdateDeferredError(
            f"{self.service}: {exc.host} unreachable after {exc.attempts} attempts ({shorten(exc.detail, 160)})",
            f"check server ({self.scrub(self.server)}) and the network; fleetdns tries again later",
            "unreachable",
        )


def address_service(record_types: tuple[str, ...] = ("A", "AAAA")) -> Capabilities:
    """What every DDNS service declares: it sets the addresses of single names (no zone to list,
    nowhere to keep an ownership mark) over HTTP."""
    return Capabilities(
        record_types=record_types,
        lists_zone=False,
        ownership_store=NO_STORE,
        zone_ownership=False,
        libraries=("requests",),
    )


class DdnsProvider(UpdateOnlyProvider):
    """An update-only DDNS service over HTTP: one client per provider, opened on first use.
    `service` names it in messages (the provider type and name)."""

    def __init__(self, name: str, options: dict[str, Any], base_dir: str = ".") -> None:
        super().__init__(name, options, base_dir)
        self._client: DdnsClient | None = None
        self.service = f"{self.TYPE} provider '{name}'"

    def open_client(self) -> DdnsClient:
        """The client with this service's secrets (and auth); called once."""
        raise NotImplementedError

    @property
    def client(self) -> DdnsClient:
        if self._client is None:
            self._client = self.open_client()
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
