"""Server side of Tencent Cloud's TC3-HMAC-SHA256, written apart from the client's signer so that a
mistake in one is not repeated in the other.

`verify` recomputes the signature of a received request from what was received: the headers the
client lists in SignedHeaders (lower-cased, trimmed), the exact body bytes, the query string, the
X-TC-Timestamp, and the credential scope, and answers the error the real API gives, or None.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

ALGORITHM = "TC3-HMAC-SHA256"
MAX_SKEW = 300  # seconds either way
_AUTH = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/,\s]+)/(?P<date>[^/]+)/(?P<service>[^/]+)/(?P<term>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[a-z0-9;._-]+),\s*Signature=(?P<sig>[0-9a-f]{64})$"
)

SIGNATURE_FAILURE = "The provided credentials could not be validated. Please check your signature is correct."
EXPIRED = "Timestamp and server time cannot differ by more than five minutes"


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def signature(secret_key: str, date: str, service: str, string_to_sign: str) -> str:
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode("utf-8"), date), service), "tc3_request")
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def string_to_sign(
    method: str, query: str, headers: Mapping[str, str], signed: list[str], body: bytes, timestamp: str, scope: str
) -> str:
    lowered = {name.lower(): value.strip() for name, value in headers.items()}
    canonical_headers = "".join(f"{name}:{lowered.get(name, '').lower()}\n" for name in signed)
    canonical = "\n".join([method, "/", query, canonical_headers, ";".join(signed), hashlib.sha256(body).hexdigest()])
    return "\n".join([ALGORITHM, timestamp, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])


def verify(
    method: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    secret_for: Callable[[str], str | None],
    service: str,
    now: float,
) -> tuple[str, Refusal | None]:
    """(SecretId or "", the refusal or None) for one received request."""
    lowered = {name.lower(): value for name, value in headers.items()}
    authorization = lowered.get("authorization", "").strip()
    if not authorization:
        return "", Refusal("AuthFailure.SignatureFailure", "The request does not carry an Authorization header.")
    match = _AUTH.match(authorization)
    if not match:
        return "", Refusal("AuthFailure.InvalidAuthorization", "Authorization header is invalid.")
    secret_id = match.group("id")
    secret = secret_for(secret_id)
    if secret is None:
        return secret_id, Refusal("AuthFailure.SecretIdNotFound", "The SecretId is not found, please ensure that "
                                  "your SecretId is correct.")  # fmt: skip
    stamp = lowered.get("x-tc-timestamp", "").strip()
    if not stamp.isdigit():
        return secret_id, Refusal("MissingParameter", "The request is missing a required parameter `Timestamp`.")
    if abs(now - int(stamp)) > MAX_SKEW:
        return secret_id, Refusal("AuthFailure.SignatureExpire", EXPIRED)
    date = datetime.datetime.fromtimestamp(int(stamp), datetime.UTC).strftime("%Y-%m-%d")
    scope_ok = (
        match.group("date") == date and match.group("service") == service and match.group("term") == "tc3_request"
    )
    signed = match.group("signed").split(";")
    if not scope_ok or signed != sorted(signed) or not {"content-type", "host"} <= set(signed):
        return secret_id, Refusal("AuthFailure.SignatureFailure", SIGNATURE_FAILURE)
    scope = f"{match.group('date')}/{service}/tc3_request"
    expected = signature(secret, date, service, string_to_sign(method, query, headers, signed, body, stamp, scope))
    if not hmac.compare_digest(expected, match.group("sig")):
        return secret_id, Refusal("AuthFailure.SignatureFailure", SIGNATURE_FAILURE)
    return secret_id, None
