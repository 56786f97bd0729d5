"""Alibaba Cloud DNS (API version 2015-01-09) over the shared HTTP layer: ACS3-HMAC-SHA256 signing,
the JSON answers and what their error codes mean.

Every call is an RPC `POST /` with the action's parameters in the query string and an empty body,
signed with ACS3-HMAC-SHA256 (signing.acs3_sign) afresh at each attempt, so a retry carries a new
date and nonce. The older signature version 1.0 (HMAC-SHA1) is not used: every Alibaba Cloud DNS
endpoint accepts the V3 scheme.

An error answer is `{"RequestId", "HostId", "Code", "Message", "Recommend"}`, usually with HTTP 400
(404 for an unknown access key, 403 for a missing permission). Throttling arrives that way too
(`Throttling.User`, `Throttling.Api`, ...), not as a 429: the throttle hook makes http_api back off
and retry it like a 429. A refused signature or key stops at once, with a hint naming the
credential to check; every other code is an AliDnsApiError the provider words per record.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..errors import ProviderError, shorten
from .http_api import HttpApi, HttpStatusError, Outgoing, Throttled
from .signing import Credentials, acs3_sign

DEFAULT_ENDPOINT = "https://alidns.aliyuncs.com"
API_VERSION = "2015-01-09"
REQUEST_DEADLINE = 60
THROTTLE_CODES = frozenset(
    {"Throttling", "Throttling.User", "Throttling.Api", "Throttling.System", "ServiceUnavailable",
     "LastOperationNotFinished"}
)  # fmt: skip
KEY_ID_CODES = frozenset({"InvalidAccessKeyId.NotFound", "InvalidAccessKeyId.Inactive", "InvalidAccessKeyId"})
SECRET_CODES = frozenset({"SignatureDoesNotMatch", "IncompleteSignature", "InvalidSignature"})
CLOCK_CODES = frozenset({"InvalidTimeStamp.Expired", "InvalidTimeStamp.Format", "SignatureNonceUsed"})
PERMISSION_CODES = frozenset({"Forbidden", "Forbidden.RAM", "Forbidden.AccessKeyDisabled", "NoPermission"})
RATE_LIMIT_HINT = "Alibaba Cloud DNS throttled these requests; wait a few minutes and run again"


def auth_hint(code: str) -> str | None:
    """Which credential to check for an authentication or permission code; None for other codes."""
    if code in KEY_ID_CODES:
        return "check the provider's access_key_id: Alibaba Cloud does not know it or it is disabled"
    if code in SECRET_CODES:
        return (
            "check the provider's access_key_secret: it does not belong to access_key_id "
            "(or a proxy changed the request on the way)"
        )
    if code in CLOCK_CODES:
        return "check this machine's clock: signed requests must be within 15 minutes of Alibaba Cloud's time"
    if code in PERMISSION_CODES or code.startswith("Forbidden"):
        return (
            "the RAM user of access_key_id lacks permission on this domain; grant it AliyunDNSFullAccess "
            "(or alidns:Describe*/Add*/Update*/DeleteDomainRecord on the domain)"
        )
    return None


class AliDnsApiError(ProviderError):
    """Alibaba Cloud DNS refused a call: its `Code` and `Message` (scrubbed), the HTTP status."""

    def __init__(self, message: str, code: str, api_message: str, status: int, hint: str = "") -> None:
        super().__init__(message, hint)
        self.code = code
        self.api_message = api_message
        self.status = status
        # The agent stops asking again until the configuration changes: a refused key or permission.
        self.retry = code not in KEY_ID_CODES | SECRET_CODES | PERMISSION_CODES and not code.startswith("Forbidden")

    @property
    def auth(self) -> bool:
        return auth_hint(self.code) is not None


def _error_fields(response: Any) -> tuple[str, str]:
    try:
        data = response.json()
    except ValueError:
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    return str(data.get("Code") or ""), str(data.get("Message") or "")


def throttled(response: Any) -> Throttled | None:
    """The throttle hook: an error body whose Code says "slow down" (any status below 500)."""
    if response.status_code < 400 and len(response.content) > 4096:  # a page of records, not an error
        return None
    code, _message = _error_fields(response)
    if code in THROTTLE_CODES or code.startswith("Throttling"):
        return Throttled(f"{code} (HTTP {response.status_code})")
    return None


class AliDnsClient:
    """The HTTP layer with Alibaba's signature and error answers; `call` returns the decoded JSON."""

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials,
        verify: bool | str = True,
        timeout: float = 30,
        deadline: float = REQUEST_DEADLINE,
        attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._credentials = credentials
        self.http = HttpApi(
            endpoint,
            service="Alibaba Cloud DNS",
            provider_type="alidns",
            secrets=[credentials.secret],
            verify=verify,
            timeout=timeout,
            deadline=deadline,
            attempts=attempts,
            backoff=backoff,
            max_backoff=max_backoff,
            max_retry_after=max_retry_after,
            rate_limit_hint=RATE_LIMIT_HINT,
            sign=self._sign,
            throttled=throttled,
            sleep=sleep,
        )

    def close(self) -> None:
        self.http.close()

    @property
    def requests_sent(self) -> int:
        return self.http.requests_sent

    def sleep(self, seconds: float) -> None:
        self.http.sleep(seconds)

    def backoff_for(self, attempt: int) -> float:
        return self.http.backoff_for(attempt)

    def _sign(self, outgoing: Outgoing) -> None:
        action = dict(outgoing.params).get("Action", "")
        query = [(k, v) for k, v in outgoing.params if k != "Action"]
        outgoing.params[:] = query
        signed = acs3_sign(
            self._credentials,
            method=outgoing.method,
            host=outgoing.host,
            action=action,
            version=API_VERSION,
            query=query,
            body=outgoing.body,
        )
        outgoing.headers.update(signed.headers)

    def call(self, action: str, params: dict[str, Any], idempotent: bool = False) -> dict:
        """One action; its decoded answer, or AliDnsApiError (AmbiguousWriteError from http_api when a
        write's outcome is unknown)."""
        query = [("Action", action)] + [(k, str(v)) for k, v in params.items() if v is not None]
        try:
            response = self.http.request("POST", "/", params=query, idempotent=idempotent)
        except HttpStatusError as exc:
            code, message = _error_fields(exc.response)
            raise AliDnsApiError(exc.message, code, message, exc.status, exc.hint) from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.ok and isinstance(data, dict) and "Code" not in data:
            return data
        code, message = _error_fields(response)
        shown = f"{code}: {shorten(message, 300)}" if code else f"HTTP {response.status_code} without a JSON answer"
        hint = auth_hint(code) or ""
        raise AliDnsApiError(
            self.http.scrub(f"Alibaba Cloud DNS refused {action}: {shown}"),
            code,
            self.http.scrub(message),
            response.status_code,
            hint,
        )
