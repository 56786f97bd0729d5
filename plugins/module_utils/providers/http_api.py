"""The HTTP client every REST provider uses: one requests session against one base URL, with the
transport policy in one place. It knows HTTP, not any provider's envelope.

- https anywhere, plain http only to a loopback host (tokens must not travel in clear); a CA bundle
  file to verify the server with, resolved relative to the inventory.
- Retries: a 5xx, a timeout or a dropped connection is retried with bounded exponential backoff when
  the request is safe to repeat (GET, or a read the provider marks idempotent). For a write the
  outcome of such a failure is unknown, so AmbiguousWriteError is raised and the provider decides
  (typically by reading back whether the write went through).
- Throttling: a 429 was not processed, so it is retried, also for a write, after `Retry-After`
  (seconds or an HTTP date) or the backoff; so is an answer the provider's `throttled` hook
  recognises in the body (some APIs answer throttling as HTTP 200 with an error code).
- Signing: the provider's `sign` hook sees each attempt's outgoing request (method, URL, query,
  headers, body bytes) and adds its signature, so a retry is signed afresh (new timestamp, new nonce).
- Secrets: every message is scrubbed of the credentials given (and of any `hide`s later, such as a
  URL the API handed out), through the one Redactor.
- A final transport failure of a safe request (deadline passed, TLS refused, unreachable) is a
  TransportError whose `kind` says which, so a provider can map it to its own error types.
- Time: `timeout` bounds each network read; `deadline` bounds one whole request, its retries and the
  waits between them included. Each attempt's timeout is the smaller of `timeout` and the time left,
  and no attempt starts (no backoff is slept) once it would end past the deadline. When the deadline
  passes during an exchange, a watchdog shuts its socket, so even a server that drips one byte every
  few seconds ends the request at once; such a request is not retried.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
SAFE_METHODS = frozenset({"GET", "HEAD"})


class AmbiguousWriteError(ProviderError):
    """A write failed in a way that does not tell whether the API applied it (5xx, timeout, reset)."""


class TransportError(ProviderError):
    """A safe request that could not get an answer. `kind` is "deadline", "tls" or "unreachable";
    `host`, `attempts` and `detail` (the scrubbed transport reason) let a caller word its own message."""

    def __init__(self, message: str, hint: str, kind: str, host: str, attempts: int, detail: str = "") -> None:
        super().__init__(message, hint)
        self.kind = kind
        self.host = host
        self.attempts = attempts
        self.detail = detail


class HttpStatusError(ProviderError):
    """The API kept failing (5xx) or throttling (429, or the provider's body check) past the retries
    or the deadline. `response` is the last answer, for the provider to read its error envelope from;
    `attempts` how many were sent."""

    def __init__(self, message: str, status: int, response: Any, hint: str = "", attempts: int = 1) -> None:
        super().__init__(message, hint)
        self.status = status
        self.response = response
        self.attempts = attempts


class RateLimitedError(HttpStatusError):
    """Throttled on every attempt, or asked to wait longer than `max_retry_after`."""


@dataclass(frozen=True)
class Throttled:
    """An answer that means "slow down": why (for messages) and how long the API asks to wait (None:
    it does not say, the backoff applies)."""

    reason: str
    wait: float | None = None


@dataclass
class Outgoing:
    """One attempt's request as it will be sent, for the `sign` hook to add headers or parameters to.
    `body` is the exact bytes sent (JSON-encoded by the client), so a signature over it holds."""

    method: str
    url: str  # without the query
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc


Signer = Callable[[Outgoing], None]  # adds the signature to the attempt, in place
ThrottleCheck = Callable[[Any], "Throttled | None"]  # a response -> Throttled when the body says so


def check_base_url(url: object, option: str | None = "base_url") -> str | None:
    """Problem with a base URL, or None: https anywhere, plain http only to loopback. With `option`
    None the message leaves out the option and the URL (an option check that names them itself)."""
    parts = urlsplit(str(url))
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return None
    shown = shorten(repr(str(url)))
    if parts.scheme == "http":
        problem = "plain http to a non-loopback host; use https (credentials must not travel in clear)"
        return problem if option is None else f"{option} {shown} uses {problem}"
    return f"{shown} is not an https:// URL" if option is None else f"{option} {shown} is not an https:// URL"


def resolve_ca_bundle(base_dir: str, ca_bundle: str | None, provider: str, who: str = "") -> bool | str:
    """What requests' `verify` takes: True (the system's CAs) or the CA file, relative to the
    inventory's directory; ProviderError when the file does not exist. `who` starts the message
    (default: provider '<provider>')."""
    if not ca_bundle:
        return True
    path = os.path.join(base_dir, str(ca_bundle))
    if not os.path.isfile(path):
        raise ProviderError(
            f"{who or f'provider {provider!r}'}: ca_bundle {path} does not exist",
            "give the path of a PEM CA certificate file (relative paths are relative to the inventory)",
        )
    return path


def retry_after(response: Any) -> float | None:
    """Seconds from a `Retry-After` header (seconds or an HTTP date), or None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class HttpApi:
    """One session against one base URL with one credential; `request` applies the policy above.

    `service` names the API in messages ("Cloudflare"), `provider_type` the provider that needs
    requests. `rate_limit_hint` is the hint of a final rate-limit error (the API's documented limit).
    """

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        provider_type: str,
        headers: dict[str, str] | None = None,
        secrets: Iterable[object] = (),
        verify: bool | str = True,
        timeout: float = 30,
        deadline: float = 120.0,
        attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 300.0,
        rate_limit_hint: str = "wait and run again",
        sign: Signer | None = None,
        throttled: ThrottleCheck | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not HAS_REQUESTS:
            raise ProviderError(
                f"the {provider_type} provider needs the Python package 'requests'", "pip install requests"
            )
        problem = check_base_url(base_url)
        if problem:
            raise ProviderError(problem)
        self.base_url = base_url.rstrip("/")
        self.service = service
        self._redactor = Redactor(secrets)
        self._verify = verify
        self.timeout = timeout
        self.deadline = deadline
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.rate_limit_hint = rate_limit_hint
        self._sign = sign
        self._throttled = throttled
        self.sleep = sleep
        self.requests_sent = 0
        self._session = requests.Session()
        adapter = _GuardedAdapter()
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers.update({"User-Agent": "fleetdns", **(headers or {})})

    def close(self) -> None:
        self._session.close()

    def scrub(self, text: str) -> str:
        return self._redactor.scrub(text)

    def hide(self, secret: str) -> None:
        """Scrub one more secret from now on (a URL with a token in it that the API handed out)."""
        self._redactor.add(secret)

    def backoff_for(self, attempt: int) -> float:
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1))

    # ---- requests ------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | Iterable[tuple[str, Any]] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """The response once it is neither a 5xx nor throttling (any other status is the caller's to
        read); retries as described in the module docstring. `body` is sent as JSON; `idempotent`
        says a request that is not a GET may be repeated after a failure (an API's POST reads).
        `path` may also be a whole URL the API handed out; it must pass the same https rule."""
        safe = method.upper() in SAFE_METHODS if idempotent is None else idempotent
        what = f"{method} {path}"
        payload = b"" if body is None else json.dumps(body, allow_nan=False).encode("utf-8")
        query = [(str(k), str(v)) for k, v in (params.items() if isinstance(params, dict) else params or ())]
        url = self.base_url + path
        if "://" in path:
            problem = check_base_url(path, "URL")
            if problem:
                raise ProviderError(self.scrub(f"{self.service}: {problem}"))
            url = path
            what = f"{method} {urlsplit(path).path}"
        ends = time.monotonic() + self.deadline
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            left = ends - time.monotonic()
            outgoing = Outgoing(method, url, list(query), {}, payload)
            if left <= 0:  # the wait before this attempt ran out the deadline: it is not sent
                raise self._too_slow(what, outgoing.host, safe, attempt - 1, f"{what}: attempt {attempt - 1} failed")
            if body is not None:
                outgoing.headers["Content-Type"] = "application/json"
            if self._sign is not None:
                self._sign(outgoing)
            timeout = min(self.timeout, left)
            try:
                response = self._exchange(outgoing, timeout, left)
            except DeadlineExceeded:
                raise self._too_slow(what, outgoing.host, safe, attempt) from None
            except requests.exceptions.SSLError as exc:
                detail = self.scrub(_reason(exc))
                raise TransportError(
                    f"TLS verification of {outgoing.host} failed: {detail}",
                    "set ca_bundle to the CA certificate that signed the server's certificate",
                    "tls",
                    outgoing.host,
                    attempt,
                    detail,
                ) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                if isinstance(exc, requests.exceptions.Timeout) and timeout < self.timeout:
                    raise self._too_slow(what, outgoing.host, safe, attempt) from None  # the deadline's cut
                reason = self.scrub(_reason(exc))
                detail = f"{_transport_failure(exc)}: {reason}"
                failure = self.scrub(f"{what}: {_transport_failure(exc)} ({reason})")
                if not safe:
                    raise AmbiguousWriteError(failure) from None
                wait = self.backoff_for(attempt)
                if not last and time.monotonic() + wait >= ends:
                    raise self._too_slow(what, outgoing.host, safe, attempt, failure, detail) from None
                if last:
                    raise TransportError(
                        f"{self.service} API unreachable after {attempt} attempts: {failure}",
                        f"check base_url ({self.base_url}) and the network; raise timeout if the zone is large",
                        "unreachable",
                        outgoing.host,
                        attempt,
                        detail,
                    ) from None
                self.sleep(wait)
                continue
            finally:
                self.requests_sent += 1
            throttle = self._throttle(response)
            if throttle is not None:
                wait = self.backoff_for(attempt) if throttle.wait is None else throttle.wait
                past = time.monotonic() + wait >= ends
                if last or wait > self.max_retry_after or past:
                    only_past = past and not last and wait <= self.max_retry_after
                    because = f", past the deadline of {self.deadline:g} s" if only_past else ""
                    raise RateLimitedError(
                        self.scrub(
                            f"{self.service} rate limit reached on {what} ({throttle.reason}, retry after "
                            f"{wait:.0f} s{because})"
                        ),
                        response.status_code,
                        response,
                        self.rate_limit_hint,
                        attempt,
                    )
                self.sleep(wait)
                continue
            if response.status_code >= 500:
                failure = f"{what}: HTTP {response.status_code} from {self.service}"
                if not safe:
                    raise AmbiguousWriteError(self.scrub(failure))
                past = time.monotonic() + self.backoff_for(attempt) >= ends
                if last or past:
                    within = f" within the deadline of {self.deadline:g} s" if past and not last else ""
                    raise HttpStatusError(
                        self.scrub(f"{failure}, still failing after {attempt} attempts{within}"),
                        response.status_code,
                        response,
                        f"{self.service} had a server error; try again later",
                        attempt,
                    )
                self.sleep(self.backoff_for(attempt))
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _too_slow(
        self, what: str, host: str, safe: bool, attempt: int, failure: str = "", detail: str = ""
    ) -> ProviderError:
        """The deadline passed (during attempt `attempt`, or before the next could start after
        `failure`): an AmbiguousWriteError for a write, a TransportError of kind "deadline" for a read."""
        if failure:
            message = f"{failure}; no time is left within the deadline of {self.deadline:g} s for attempt {attempt + 1}"
        else:
            message = f"{what}: {host} did not finish its answer within the deadline of {self.deadline:g} s"
            if attempt > 1:
                message += f" (attempt {attempt})"
        message = self.scrub(message)
        if not safe:
            return AmbiguousWriteError(message)
        return TransportError(
            f"{self.service} API too slow: {message}",
            f"check base_url ({self.base_url}) and the network; raise the option 'deadline' for a very large zone",
            "deadline",
            host,
            attempt,
            detail,
        )

    def _throttle(self, response: Any) -> Throttled | None:
        if response.status_code == 429:
            return Throttled("HTTP 429", retry_after(response))
        if self._throttled is not None and response.status_code < 500:
            return self._throttled(response)
        return None

    def _exchange(self, outgoing: Outgoing, timeout: float, left: float) -> Any:
        """One HTTP request and its whole answer, each read waiting at most `timeout`;
        DeadlineExceeded when the watchdog had to end it at the deadline, `left` seconds from now."""
        guard = _Guard(left)
        _ACTIVE.guard = guard
        try:
            response = self._session.request(
                outgoing.method,
                outgoing.url,
                params=outgoing.params or None,
                data=outgoing.body or None,
                headers=outgoing.headers,
                timeout=timeout,
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
        self._thread = threading.Thread(target=self._watch, args=(seconds,), name="http-deadline", daemon=True)
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
