"""Cloudflare API v4 over the shared HTTP layer: auth headers, the response envelope and its error codes.

Transport, retries, throttling, the deadline and secret scrubbing are http_api's; what is Cloudflare's
is here. Cloudflare documents that a 429 is never processed and answers it with `retry-after` seconds,
which http_api honours; every answer is an envelope `{success, errors, messages, result}`, and an
`errors` entry may carry an `error_chain` and, for a batch, a `source.pointer` naming the operation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ProviderError
from .http_api import HttpApi, HttpStatusError

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
REQUEST_DEADLINE = 120  # seconds for one whole request: a batch of thousands of operations fits easily
AUTH_CODES = frozenset({9106, 9109, 9103, 10000, 6003, 6100, 6101, 6102, 6103, 6111})
AUTH_HINT = (
    "check the provider's api_token (it needs Zone:Read and DNS:Edit on this zone) "
    "or its api_email + api_key (the Global API key, not a token)"
)
RATE_LIMIT_HINT = "Cloudflare allows 1,200 requests per 5 minutes per user; wait and run again"


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


class CloudflareClient:
    """The HTTP layer with Cloudflare's envelope: `request` returns the decoded envelope of a success."""

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
        self.http = HttpApi(
            base_url,
            service="Cloudflare",
            provider_type="cloudflare",
            headers={"Content-Type": "application/json", **headers},
            secrets=secrets,
            verify=verify,
            timeout=timeout,
            deadline=deadline,
            attempts=attempts,
            backoff=backoff,
            max_backoff=max_backoff,
            max_retry_after=max_retry_after,
            rate_limit_hint=RATE_LIMIT_HINT,
            sleep=sleep,
        )

    def close(self) -> None:
        self.http.close()

    def scrub(self, text: str) -> str:
        return self.http.scrub(text)

    def sleep(self, seconds: float) -> None:
        self.http.sleep(seconds)

    def backoff_for(self, attempt: int) -> float:
        return self.http.backoff_for(attempt)

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict:
        return self.request("GET", path, params=params)

    def request(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None) -> dict:
        """The decoded envelope of a successful answer; AmbiguousWriteError (from http_api) when a
        write's outcome is unknown, CloudflareApiError for every refusal."""
        try:
            response = self.http.request(method, path, params=params, body=body)
        except HttpStatusError as exc:
            raise CloudflareApiError(exc.message, exc.status, _problems(exc.response), exc.hint) from None
        return self._envelope(response, f"{method} {path}")

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
