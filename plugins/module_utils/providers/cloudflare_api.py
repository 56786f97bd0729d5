"""A small Cloudflare API v4 client: auth headers, the response envelope, retries, and clean errors.

It knows HTTP, not DNS. Retries follow what Cloudflare documents and its own SDK does: a 429 is never
processed, so it is retried after `retry-after` seconds; a 5xx, a timeout or a dropped connection is
retried with bounded exponential backoff when the request is safe to repeat (GET). For a write the
outcome of such a failure is unknown, so the client raises AmbiguousWriteError and the caller decides
(the provider re-reads the zone to see whether the batch went through). Errors never carry the
token or key: every message is scrubbed of them.

`timeout` bounds each network read; `deadline` bounds one whole exchange (connect, send, headers,
body). When it passes, a watchdog shuts the exchange's socket, so even a server that drips one byte
every few seconds ends the request at once; such a request is not retried.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from ..deadline import DeadlineExceeded
from ..errors import ProviderError, shorten
from ..redact import Redactor

try:
    import requests
    import requests.adapters
    import urllib3.connectionpool

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
REQUEST_DEADLINE = 120  # seconds for one whole request: a batch of thousands of operations fits easily
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
AUTH_CODES = frozenset({9106, 9109, 9103, 10000, 6003, 6100, 6101, 6102, 6103, 6111})
AUTH_HINT = (
    "check the provider's api_token (it needs Zone:Read and DNS:Edit on this zone) "
    "or its api_email + api_key (the Global API key, not a token)"
)


@dataclass(frozen=True)
class ApiProblem:
    """One entry of the envelope's `errors`: code, message, and the batch operation it points at."""

    code: int
    message: str
    pointer: str = ""

    def __str__(self) -> str:
        return f"{self.code} {self.message}".strip()


class CloudflareApiError(ProviderError):
    """Cloudflare answered with `success: false` (or an HTTP error without an envelope)."""

    def __init__(self, message: str, status: int, problems: list[ApiProblem], hint: str = "") -> None:
        super().__init__(message, hint)
        self.status = status
        self.problems = problems

    @property
    def codes(self) -> set[int]:
        return {p.code for p in self.problems}


class AmbiguousWriteError(ProviderError):
    """A write failed in a way that does not tell whether Cloudflare applied it (5xx, timeout, reset)."""


def check_base_url(url: str) -> str | None:
    """Problem with a base URL, or None: https anywhere, plain http only to loopback."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return None
    if parts.scheme == "http":
        shown = shorten(repr(url))
        return f"base_url {shown} uses plain http to a non-loopback host; use https (tokens must not travel in clear)"
    return f"base_url {shorten(repr(url))} is not an https:// URL"


class CloudflareClient:
    """One requests session against one base URL with one credential."""

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        secrets: list[str],
        verify: bool | str = True,
        timeout: float = 30,
        deadline: float = REQUEST_DEADLINE,
        attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not HAS_REQUESTS:
            raise ProviderError("the cloudflare provider needs the Python package 'requests'", "pip install requests")
        self.base_url = base_url.rstrip("/")
        self._redactor = Redactor(secrets)
        self._verify = verify
        self.timeout = timeout
        self.deadline = deadline
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        self.requests_sent = 0
        self._session = requests.Session()
        adapter = _GuardedAdapter()
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers.update({"Content-Type": "application/json", "User-Agent": "fleetdns", **headers})

    def close(self) -> None:
        self._session.close()

    def scrub(self, text: str) -> str:
        return self._redactor.scrub(text)

    # ---- requests ------------------------------------------------------------------------------------
    def get(self, path: str, params: dict[str, Any] | None = None) -> dict:
        return self.request("GET", path, params=params)

    def request(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None) -> dict:
        """The decoded envelope of a successful answer; retries as described in the module docstring."""
        safe = method == "GET"
        what = f"{method} {path}"
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                response = self._exchange(method, path, params, body)
            except DeadlineExceeded:
                failure = f"{what}: {self._host()} did not finish its answer within the deadline of {self.deadline:g} s"
                if not safe:
                    raise AmbiguousWriteError(failure) from None
                raise ProviderError(
                    f"Cloudflare API too slow: {failure}",
                    f"check base_url ({self.base_url}) and the network; raise the option 'deadline' for a very "
                    "large zone",
                ) from None
            except requests.exceptions.SSLError as exc:
                raise ProviderError(
                    f"TLS verification of {self._host()} failed: {self.scrub(_reason(exc))}",
                    "set ca_bundle to the CA certificate that signed the server's certificate",
                ) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                failure = f"{what}: {_transport_failure(exc)} ({self.scrub(_reason(exc))})"
                if not safe:
                    raise AmbiguousWriteError(failure) from None
                if last:
                    raise ProviderError(
                        f"Cloudflare API unreachable after {attempt} attempts: {failure}",
                        f"check base_url ({self.base_url}) and the network; raise timeout if the zone is large",
                    ) from None
                self.sleep(self.backoff_for(attempt))
                continue
            finally:
                self.requests_sent += 1
            if response.status_code == 429:
                wait = self._retry_after(response, attempt)
                if last or wait > self.max_retry_after:
                    raise CloudflareApiError(
                        f"Cloudflare rate limit reached on {what} (HTTP 429, retry after {wait:.0f} s)",
                        429,
                        _problems(response),
                        "Cloudflare allows 1,200 requests per 5 minutes per user; wait and run again",
                    )
                self.sleep(wait)
                continue
            if response.status_code >= 500:
                failure = f"{what}: HTTP {response.status_code} from Cloudflare"
                if not safe:
                    raise AmbiguousWriteError(failure)
                if last:
                    raise CloudflareApiError(
                        f"{failure}, still failing after {attempt} attempts",
                        response.status_code,
                        _problems(response),
                        "Cloudflare had a server error; try again later",
                    )
                self.sleep(self.backoff_for(attempt))
                continue
            return self._envelope(response, what)
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(self, method: str, path: str, params: dict[str, Any] | None, body: Any) -> Any:
        """One HTTP request and its whole answer; DeadlineExceeded when the watchdog had to end it."""
        guard = _Guard(self.deadline)
        _ACTIVE.guard = guard
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                params=params,
                json=body,
                timeout=self.timeout,
                verify=self._verify,  # per request: a session attribute would lose to REQUESTS_CA_BUNDLE
            )
        except requests.exceptions.RequestException:
            if guard.fired:
                raise DeadlineExceeded from None
            raise
        finally:
            _ACTIVE.guard = None
            guard.stop()
        if guard.fired:  # a shut socket can also look like the end of the headers or of the body
            raise DeadlineExceeded
        return response

    def _envelope(self, response: Any, what: str) -> dict:
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("success") is True and response.ok:
            return data
        problems = _problems(response, data)
        shown = "; ".join(str(p) for p in problems) or f"HTTP {response.status_code} without a JSON answer"
        auth = response.status_code in (401, 403) or bool({p.code for p in problems} & AUTH_CODES)
        raise CloudflareApiError(
            self.scrub(f"Cloudflare refused {what}: {shown}"),
            response.status_code,
            problems,
            AUTH_HINT if auth else "",
        )

    def _retry_after(self, response: Any, attempt: int) -> float:
        """Seconds from `retry-after` (seconds or an HTTP date), else the backoff for this attempt."""
        value = response.headers.get("retry-after")
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                try:
                    return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
                except (TypeError, ValueError):
                    pass
        return self.backoff_for(attempt)

    def backoff_for(self, attempt: int) -> float:
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1))

    def _host(self) -> str:
        return urlsplit(self.base_url).netloc


def _problems(response: Any, data: Any = None) -> list[ApiProblem]:
    if data is None:
        try:
            data = response.json()
        except ValueError:
            return []
    errors = data.get("errors") if isinstance(data, dict) else None
    result = []
    for item in errors or []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", ""))
        chain = item.get("error_chain") or []
        details = [f"{c.get('code')} {c.get('message')}" for c in chain if isinstance(c, dict)]
        if details:
            message = f"{message} ({'; '.join(details)})"
        source = item.get("source") if isinstance(item.get("source"), dict) else {}
        code = item.get("code")
        result.append(ApiProblem(code if isinstance(code, int) else 0, message, str(source.get("pointer", ""))))
    return result


def _transport_failure(exc: Exception) -> str:
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    return "connection failed"


def _reason(exc: Exception) -> str:
    """The innermost useful text of a requests/urllib3 exception, without the whole chain."""
    text = str(exc)
    return text if len(text) <= 300 else text[:300] + "..."


# ---- the deadline watchdog ----------------------------------------------------------------------------

_ACTIVE = threading.local()  # the _Guard of the request this thread is making


class _Guard:
    """Watches one exchange: once `seconds` have passed, it shuts the socket of every connection the
    exchange took from the pool (again every 50 ms, for one still connecting), until stopped."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._connections: list[Any] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(seconds,), name="cloudflare-deadline", daemon=True)
        self._thread.start()

    def watch(self, connection: Any) -> None:
        self._connections.append(connection)

    def stop(self) -> None:
        self._stopped.set()

    def _watch(self, seconds: float) -> None:
        if self._stopped.wait(seconds):
            return
        self.fired = True
        while True:
            for connection in list(self._connections):
                sock = getattr(connection, "sock", None)
                if sock is not None:
                    with contextlib.suppress(OSError):  # the plain socket's shutdown, also under TLS
                        socket.socket.shutdown(sock, socket.SHUT_RDWR)
            if self._stopped.wait(0.05):
                return


def _watched(connection: Any) -> Any:
    guard = getattr(_ACTIVE, "guard", None)
    if guard is not None:
        guard.watch(connection)
    return connection


if HAS_REQUESTS:

    class _GuardedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
        def _get_conn(self, timeout: float | None = None) -> Any:
            return _watched(super()._get_conn(timeout))

    class _GuardedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
        def _get_conn(self, timeout: float | None = None) -> Any:
            return _watched(super()._get_conn(timeout))

    _GUARDED_POOLS = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}

    class _GuardedAdapter(requests.adapters.HTTPAdapter):
        """An adapter whose pools hand each connection to the current request's _Guard."""

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = _GUARDED_POOLS

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            manager.pool_classes_by_scheme = _GUARDED_POOLS
            return manager
