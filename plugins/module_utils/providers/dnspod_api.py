"""Tencent Cloud API 3.0 for DNSPod over the shared HTTP layer: TC3 signing, the `Response` envelope
and what its error codes mean.

Every call is a POST of a JSON body to `/` with the action in `X-TC-Action`, signed afresh on each
attempt (signing.tc3_sign, service `dnspod`, version 2021-03-23). The API answers errors, throttling
included, as HTTP 200 with `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`: a code starting
with `RequestLimitExceeded` is handed to http_api as throttling (retried with backoff, like a 429);
authentication codes stop at once with a hint naming the credential to check; every other code is a
DnspodApiError for the provider to word. The SecretKey is scrubbed from every message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from ..errors import ProviderError
from .http_api import HttpApi, HttpStatusError, Outgoing, Throttled
from .signing import Credentials, tc3_sign

DEFAULT_ENDPOINT = "https://dnspod.tencentcloudapi.com"
SERVICE = "dnspod"
VERSION = "2021-03-23"
CONTENT_TYPE = "application/json"
REQUEST_DEADLINE = 120
THROTTLE_PREFIX = "RequestLimitExceeded"
RATE_LIMIT_HINT = (
    "DNSPod allows about 100 list requests per second and 20 ModifyDynamicDNS per second; wait and run again"
)

# Which credential (or setting) an authentication code points at.
AUTH_HINTS = {
    "AuthFailure.SecretIdNotFound": "check secret_id: DNSPod does not know this SecretId (or it was deleted)",
    "AuthFailure.InvalidSecretId": "check secret_id: it is not a valid SecretId (API keys start with AKID)",
    "AuthFailure.SignatureFailure": "check secret_key: the signature made with it was refused (wrong SecretKey "
    "for this SecretId)",
    "AuthFailure.SignatureExpire": "check this machine's clock: DNSPod refuses a request signed more than "
    "5 minutes from its own time",
    "AuthFailure.InvalidAuthorization": "check secret_id and secret_key: the Authorization header was refused",
    "AuthFailure.TokenFailure": "check secret_id and secret_key: temporary (STS) credentials are not supported",
    "AuthFailure.UnauthorizedOperation": "check the key's permissions: it may not use DNSPod (QcloudDNSPodFullAccess)",
    "UnauthorizedOperation": "check the key's permissions: it may not use DNSPod (QcloudDNSPodFullAccess)",
}
PERMISSION_CODES = frozenset(
    {"OperationDenied.NoPermissionToOperateDomain", "FailedOperation.NotDomainOwner", "OperationDenied.AccessDenied"}
)
PERMISSION_HINT = "check that the domain is in this account and that the key (secret_id) may change it"


class DnspodApiError(ProviderError):
    """DNSPod answered `Response.Error` (or something that is not its envelope)."""

    def __init__(self, message: str, code: str, api_message: str, hint: str = "") -> None:
        super().__init__(message, hint)
        self.code = code
        self.api_message = api_message

    @property
    def is_auth(self) -> bool:
        return self.code in AUTH_HINTS or self.code.startswith("AuthFailure") or self.code in PERMISSION_CODES


def error_of(data: Any) -> tuple[str, str] | None:
    """(code, message) of an envelope's Response.Error, or None when there is none."""
    response = data.get("Response") if isinstance(data, dict) else None
    error = response.get("Error") if isinstance(response, dict) else None
    if not isinstance(error, dict):
        return None
    return str(error.get("Code") or "Unknown"), str(error.get("Message") or "")


def throttled(response: Any) -> Throttled | None:
    """http_api's throttle hook: DNSPod says "slow down" as an error code in a 200 body."""
    if THROTTLE_PREFIX.encode("ascii") not in (response.content or b"")[:4096]:
        return None  # a throttling answer is short; a zone listing is not parsed twice
    try:
        data = response.json()
    except ValueError:
        return None
    error = error_of(data)
    if error and error[0].startswith(THROTTLE_PREFIX):
        return Throttled(error[0])
    return None


class DnspodClient:
    """The HTTP layer with TC3 signing and DNSPod's envelope: `call` returns the `Response` object."""

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
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self.clock = clock
        self.calls: dict[str, int] = {}
        self.http = HttpApi(
            endpoint,
            service="DNSPod",
            provider_type="dnspod",
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
        self._action = ""

    def close(self) -> None:
        self.http.close()

    def scrub(self, text: str) -> str:
        return self.http.scrub(text)

    def sleep(self, seconds: float) -> None:
        self.http.sleep(seconds)

    def backoff_for(self, attempt: int) -> float:
        return self.http.backoff_for(attempt)

    @property
    def requests_sent(self) -> int:
        return self.http.requests_sent

    def _sign(self, outgoing: Outgoing) -> None:
        signed = tc3_sign(
            self.credentials,
            service=SERVICE,
            host=outgoing.host,
            action=self._action,
            version=VERSION,
            body=outgoing.body,
            timestamp=int(self.clock()),
            content_type=CONTENT_TYPE,
        )
        outgoing.headers.update(signed.headers)

    def call(self, action: str, params: dict[str, Any], read: bool = False) -> dict:
        """The `Response` object of a successful call. A read (`read`) is retried after a 5xx or a lost
        connection; a write then raises AmbiguousWriteError (from http_api). DnspodApiError otherwise."""
        self._action = action
        self.calls[action] = self.calls.get(action, 0) + 1
        try:
            response = self.http.request("POST", "/", body=params, idempotent=read)
        except HttpStatusError as exc:
            error = _decoded_error(exc.response)
            code, message = error or ("", "")
            raise DnspodApiError(exc.message, code, message, exc.hint) from None
        try:
            data = response.json()
        except ValueError:
            data = None
        error = error_of(data)
        if error is None and isinstance(data, dict) and isinstance(data.get("Response"), dict) and response.ok:
            return data["Response"]
        if error is None:
            shown = f"HTTP {response.status_code} without a DNSPod answer"
            raise DnspodApiError(self.scrub(f"DNSPod {action}: {shown}"), "", shown)
        code, message = error
        hint = AUTH_HINTS.get(code, "")
        if not hint and code.startswith("AuthFailure"):
            hint = "check secret_id and secret_key"
        if not hint and code in PERMISSION_CODES:
            hint = PERMISSION_HINT
        raise DnspodApiError(self.scrub(f"DNSPod refused {action}: {code} {message}".strip()), code, message, hint)


def _decoded_error(response: Any) -> tuple[str, str] | None:
    try:
        return error_of(json.loads(response.content or b"null"))
    except (ValueError, AttributeError):
        return None
