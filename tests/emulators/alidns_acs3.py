"""The server side of ACS3-HMAC-SHA256 as Alibaba Cloud checks it, written independently of the
client signing code it is used to test.

`verify` takes what arrived (method, raw query, headers, body bytes) and either returns the access
key id or raises AcsError with the error code and message the real service answers. Checks, in the
order the service reports them: the Authorization header's form, the access key, the signed-header
list (host and every x-acs-* header sent must be signed, and content-type when there is one), the
date format and skew (15 minutes), the body hash, the signature itself, and the nonce (each nonce
once per key within the skew window).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, quote

ALGORITHM = "ACS3-HMAC-SHA256"
SKEW = 15 * 60
_AUTHORIZATION = re.compile(
    rf"^{ALGORITHM} Credential=([^,]+),SignedHeaders=([a-z0-9;._-]+),Signature=([0-9a-f]{{64}})$"
)
_DATE = "%Y-%m-%dT%H:%M:%SZ"
REQUIRED = ("x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version")


class AcsError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(raw_query: str) -> str:
    pairs = sorted((_encode(k), _encode(v)) for k, v in parse_qsl(raw_query, keep_blank_values=True))
    return "&".join(f"{k}={v}" for k, v in pairs)


def string_to_sign(
    method: str, raw_query: str, headers: Mapping[str, str], signed: list[str], payload_hash: str
) -> tuple[str, str]:
    """(canonical request, string to sign) over the headers named in `signed`, as received."""
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed)
    canonical = "\n".join([method.upper(), "/", canonical_query(raw_query), canonical_headers, ";".join(signed),
                           payload_hash])  # fmt: skip
    return canonical, f"{ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"


class Verifier:
    """Checks requests against known key pairs; remembers nonces for the skew window."""

    def __init__(self, keys: Mapping[str, str], clock: Callable[[], float] = time.time, skew: float = SKEW) -> None:
        self.keys = dict(keys)
        self.clock = clock
        self.skew = skew
        self._nonces: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def verify(self, method: str, raw_query: str, headers: Mapping[str, str], body: bytes) -> str:
        lowered = {name.lower(): value for name, value in headers.items()}
        authorization = lowered.get("authorization", "").strip()
        if not authorization:
            raise AcsError(400, "MissingAuthorization", "Authorization is mandatory for this action.")
        match = _AUTHORIZATION.match(authorization)
        if not match:
            raise AcsError(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards.")
        key_id, signed_text, signature = match.groups()
        secret = self.keys.get(key_id)
        if secret is None:
            raise AcsError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        signed = signed_text.split(";")
        must = {"host"} | {name for name in lowered if name.startswith("x-acs-")}
        if "content-type" in lowered and body:
            must.add("content-type")
        missing = sorted(must - set(signed))
        if signed != sorted(set(signed)) or missing or any(name not in lowered for name in signed):
            raise AcsError(
                400,
                "IncompleteSignature",
                "The request signature does not conform to Aliyun standards. SignedHeaders must be the sorted, "
                f"lower-case names of host and every x-acs-* header sent (missing: {', '.join(missing) or 'none'}).",
            )
        absent = [name for name in REQUIRED if not lowered.get(name)]
        if absent:
            raise AcsError(400, "MissingParameter", f"The input parameter \"{absent[0]}\" that is mandatory for "
                           "processing this request is not supplied.")  # fmt: skip
        try:
            stamp = datetime.datetime.strptime(lowered["x-acs-date"], _DATE).replace(tzinfo=datetime.UTC).timestamp()
        except ValueError:
            raise AcsError(
                400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."
            ) from None
        if abs(self.clock() - stamp) > self.skew:
            raise AcsError(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
        payload_hash = hashlib.sha256(body).hexdigest()
        _canonical, sts = string_to_sign(method, raw_query, lowered, signed, payload_hash)
        expected = hmac.new(secret.encode(), sts.encode(), hashlib.sha256).hexdigest()
        if lowered["x-acs-content-sha256"] != payload_hash or not hmac.compare_digest(expected, signature):
            raise AcsError(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation. server string to sign is:" + sts,
            )
        self._use_nonce(key_id, lowered["x-acs-signature-nonce"])
        return key_id

    def _use_nonce(self, key_id: str, nonce: str) -> None:
        now = self.clock()
        with self._lock:
            for seen, when in list(self._nonces.items()):
                if when < now - 2 * self.skew:
                    del self._nonces[seen]
            if (key_id, nonce) in self._nonces:
                raise AcsError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            self._nonces[(key_id, nonce)] = now
