"""Request signing for the Tencent Cloud (TC3-HMAC-SHA256) and Alibaba Cloud (ACS3-HMAC-SHA256, RPC v1
HMAC-SHA1) APIs.

Pure functions: the caller gives the request (method, host, query, body bytes) and the clock values
(timestamp, nonce) so that tests can pin them; each function returns what to send (headers, or the
signed parameters). Credentials hide their secret from repr, and nothing here raises with a secret in it.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

TC3_ALGORITHM = "TC3-HMAC-SHA256"
ACS3_ALGORITHM = "ACS3-HMAC-SHA256"


@dataclass(frozen=True)
class Credentials:
    """An access key pair: the public id (SecretId / AccessKeyId) and the secret, which repr never shows."""

    key_id: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class SignedRequest:
    """What a signer computed: the headers to send and the two texts the signature covers (no secret in
    either), which a caller can log or compare with a server's echo when a signature is refused."""

    headers: dict[str, str]
    canonical_request: str
    string_to_sign: str


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac_sha256(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as both Alibaba schemes want it: only A-Z a-z 0-9 - _ . ~ stay, UTF-8 bytes
    become upper-case %XY, a space is %20 (never +)."""
    return quote(value, safe="-_.~")


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    """`k=v&...` sorted by encoded name then value, names and values percent-encoded."""
    pairs = sorted((percent_encode(name), percent_encode(value)) for name, value in params)
    return "&".join(f"{name}={value}" for name, value in pairs)


def _canonical_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    """(CanonicalHeaders, SignedHeaders): lower-case names sorted, values trimmed, one `name:value\\n` each."""
    lowered = {name.strip().lower(): value.strip() for name, value in headers.items()}
    names = sorted(lowered)
    return "".join(f"{name}:{lowered[name]}\n" for name in names), ";".join(names)


def tc3_sign(
    credentials: Credentials,
    *,
    service: str,
    host: str,
    action: str,
    version: str,
    body: bytes,
    timestamp: int | None = None,
    content_type: str = "application/json; charset=utf-8",
    region: str | None = None,
) -> SignedRequest:
    """Sign a Tencent Cloud API 3.0 POST to `/` (JSON body) with TC3-HMAC-SHA256.

    Signs `content-type` and `host` (what the service requires); the key is derived from the secret,
    the UTC date of `timestamp` and `service`. Returns every header to send, Authorization included.
    """
    stamp = int(time.time()) if timestamp is None else int(timestamp)
    date = datetime.datetime.fromtimestamp(stamp, datetime.UTC).strftime("%Y-%m-%d")
    # TC3 lower-cases header values too (an endpoint written with capitals must still verify).
    canonical_headers, signed_headers = _canonical_headers({"content-type": content_type.lower(), "host": host.lower()})
    canonical_request = "\n".join(["POST", "/", "", canonical_headers, signed_headers, _sha256_hex(body)])
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join([TC3_ALGORITHM, str(stamp), scope, _sha256_hex(canonical_request.encode("utf-8"))])
    key = _hmac_sha256(("TC3" + credentials.secret).encode("utf-8"), date)
    key = _hmac_sha256(key, service)
    key = _hmac_sha256(key, "tc3_request")
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    headers = {
        "Authorization": (
            f"{TC3_ALGORITHM} Credential={credentials.key_id}/{scope}, "
            f"SignedHeaders={signed_headers}, Signature={signature}"
        ),
        "Content-Type": content_type,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Version": version,
        "X-TC-Timestamp": str(stamp),
    }
    if region:
        headers["X-TC-Region"] = region
    return SignedRequest(headers, canonical_request, string_to_sign)


def acs_date(timestamp: float | None = None) -> str:
    """ISO 8601 UTC to the second (`2023-10-26T10:22:32Z`), the form both Alibaba schemes carry."""
    moment = datetime.datetime.fromtimestamp(time.time() if timestamp is None else timestamp, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_nonce() -> str:
    """A fresh 128-bit nonce in hex: Alibaba refuses a nonce seen before."""
    return secrets.token_hex(16)


def acs3_sign(
    credentials: Credentials,
    *,
    method: str,
    host: str,
    action: str,
    version: str,
    query: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    content_type: str | None = None,
    date: str | None = None,
    nonce: str | None = None,
) -> SignedRequest:
    """Sign an Alibaba Cloud RPC call to `/` with ACS3-HMAC-SHA256 (the V3 scheme).

    Signs host, content-type (when there is one) and every x-acs-* header; the body hash travels as
    x-acs-content-sha256. `date` defaults to now, `nonce` to a fresh one. Returns the headers to send.
    """
    payload_hash = _sha256_hex(body)
    signed = {
        "host": host,
        "x-acs-action": action,
        "x-acs-content-sha256": payload_hash,
        "x-acs-date": date or acs_date(),
        "x-acs-signature-nonce": nonce or new_nonce(),
        "x-acs-version": version,
    }
    if content_type is not None:
        signed["content-type"] = content_type
    canonical_headers, signed_headers = _canonical_headers(signed)
    canonical_request = "\n".join(
        [method.upper(), "/", canonical_query(query), canonical_headers, signed_headers, payload_hash]
    )
    string_to_sign = f"{ACS3_ALGORITHM}\n{_sha256_hex(canonical_request.encode('utf-8'))}"
    signature = hmac.new(credentials.secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    headers = dict(signed)
    headers["Authorization"] = (
        f"{ACS3_ALGORITHM} Credential={credentials.key_id},SignedHeaders={signed_headers},Signature={signature}"
    )
    return SignedRequest(headers, canonical_request, string_to_sign)


def rpc_v1_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """`METHOD&%2F&enc(canonical query)` over every parameter but Signature."""
    query = canonical_query((name, value) for name, value in params.items() if name != "Signature")
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(query)}"


def rpc_v1_sign(
    credentials: Credentials,
    *,
    method: str,
    params: Mapping[str, str],
    timestamp: str | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Sign Alibaba Cloud RPC parameters with HMAC-SHA1 (signature version 1.0).

    `params` holds the call's own parameters (Action, Version, Format, ...); this adds AccessKeyId,
    SignatureMethod, SignatureNonce, SignatureVersion, Timestamp and Signature, and returns them all,
    to be sent in the query (GET) or the form body (POST): the method is part of the signature.
    """
    signed = dict(params)
    signed.update(
        AccessKeyId=credentials.key_id,
        SignatureMethod="HMAC-SHA1",
        SignatureNonce=nonce or new_nonce(),
        SignatureVersion="1.0",
        Timestamp=timestamp or acs_date(),
    )
    digest = hmac.new(
        (credentials.secret + "&").encode("utf-8"),
        rpc_v1_string_to_sign(method, signed).encode("utf-8"),
        hashlib.sha1,
    ).digest()
    signed["Signature"] = base64.b64encode(digest).decode("ascii")
    return signed
