"""A faithful local Cloudflare API v4 emulator (DNS part) on loopback, over HTTP and HTTPS.

In a test::

    from emulators.cloudflare import CloudflareEmulator   # tests/ is on sys.path under pytest

    with CloudflareEmulator(tls_dir=tmp_path) as cf:       # HTTPS with a test CA made in tmp_path
        zone = cf.add_zone("example.test")
        cf.add_record(zone, name="www", type="A", content="192.0.2.1")
        ... point a client at cf.https_url (trust cf.ca_file) or cf.http_url, token cf.token ...
        assert cf.counts["dns_records.batch"] == 1

As its own process (benchmarks, clients in other venvs)::

    PYTHONPATH=tests python -m emulators.cloudflare --tls-dir DIR [--http-port N] [--no-rate-limit]

prints one JSON line {"http_url", "https_url", "ca_file", "token", "admin_url"} and serves until
killed; `emulators.launch.EmulatorProcess` wraps that and the admin endpoints below.

What it enforces (the documented API v4 behaviour; data rules in cloudflare_store.py):

- the envelope `success/errors/messages/result` (+ `result_info` on lists) on every API answer;
- auth, strictly: `Authorization: Bearer <token>` or `X-Auth-Email` + `X-Auth-Key` together. No
  headers → 400/9106; a key that is not a Global API key (37 hex digits, e.g. a token sent as
  X-Auth-Key) → 400/6003 with error_chain 6103; a malformed e-mail → 6003/6102; an unknown token →
  401/9109; a token without access to the zone or without edit rights → 403/10000 "Authentication
  error"; an unknown e-mail/key pair → 403/9103 (code chosen here, none is documented);
- the rate limit per credential: more than `rate_limit` requests (1,200) in `rate_window` seconds
  (300) blocks every call for `rate_block` seconds (300) with 429, `retry-after` and code 971;
- injected faults (`inject`): an HTTP status (5xx), a slow answer, or a dropped connection, before the
  request is processed or after it was (the ambiguous case a client must handle);
- counters per endpoint (`counts`) and a request log (`requests`) without credentials.

Admin endpoints (no auth, not counted, outside the API base path) for out-of-process control:
`GET /__emulator/stats`, `POST /__emulator/reset`, `POST /__emulator/zones` {name, plan?, records?},
`GET /__emulator/zones/<id>/records`, `POST /__emulator/faults` [fault...], `POST /__emulator/rate`.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import math
import re
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .cloudflare_store import ApiError, Store, Zone, build_record, new_id
from .listeners import Listeners

API_BASE = "/client/v4"
ADMIN_BASE = "/__emulator"
DEFAULT_TOKEN = "fleetdns-test-token-0123456789abcdefABCD"  # 40 characters, like a real API token
_GLOBAL_KEY = re.compile(r"^[0-9a-f]{37}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BEARER = re.compile(r"^Bearer ([A-Za-z0-9_-]+)$")


@dataclass
class TokenGrant:
    """What a credential may do: `zones` None means every zone; `edit` False means read-only."""

    zones: set[str] | None = None
    edit: bool = True


@dataclass
class Fault:
    """An injected failure. `endpoint` (e.g. "dns_records.batch") and `method` narrow where it hits;
    `times` how often. kind: "status" (answer `status` with `body`), "slow" (sleep `delay`, then answer
    normally), "drop" (close the connection without an answer). `after` = the request is processed
    first (state changed) and then the answer is replaced by the fault."""

    kind: str = "status"
    endpoint: str | None = None
    method: str | None = None
    times: int = 1
    status: int = 502
    body: str | None = None
    delay: float = 0.0
    after: bool = False
    retry_after: int | None = None

    def matches(self, endpoint: str, method: str) -> bool:
        return (
            self.times > 0
            and (self.endpoint is None or self.endpoint == endpoint)
            and (self.method is None or self.method == method)
        )


@dataclass
class RateLimiter:
    """1,200 requests per 5 minutes per credential; beyond that every call is blocked."""

    limit: int = 1200
    window: float = 300.0
    block: float = 300.0
    enabled: bool = True
    _seen: dict[str, collections.deque] = field(default_factory=dict)
    _blocked_until: dict[str, float] = field(default_factory=dict)

    def check(self, who: str) -> int | None:
        """None when the request may pass, else the seconds to put in `retry-after`."""
        if not self.enabled:
            return None
        now = time.monotonic()
        until = self._blocked_until.get(who, 0.0)
        if now < until:
            return max(1, math.ceil(until - now))
        seen = self._seen.setdefault(who, collections.deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) >= self.limit:
            self._blocked_until[who] = now + self.block
            seen.clear()
            return max(1, math.ceil(self.block))
        seen.append(now)
        return None


class _Dropped(Exception):
    """The handler must close the connection without answering."""


class CloudflareEmulator:
    """The emulator: shared state plus an HTTP and (with `tls_dir`) an HTTPS listener on 127.0.0.1."""

    def __init__(
        self,
        tls_dir: str | Path | None = None,
        token: str = DEFAULT_TOKEN,
        rate_limit: int = 1200,
        rate_window: float = 300.0,
        rate_block: float = 300.0,
        host: str = "127.0.0.1",
        http_port: int = 0,
        https_port: int = 0,
    ) -> None:
        self.store = Store()
        self.token = token
        self.tokens: dict[str, TokenGrant] = {token: TokenGrant()}
        self.global_keys: dict[tuple[str, str], TokenGrant] = {}
        self.rate = RateLimiter(rate_limit, rate_window, rate_block)
        self.faults: list[Fault] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self._host = host
        self._ports = (http_port, https_port)
        self._listeners = Listeners(tls_dir)
        self.ca_file: str | None = None
        self.http_url = ""
        self.https_url = ""

    # ---- lifecycle -------------------------------------------------------------------------------
    def start(self) -> CloudflareEmulator:
        handler = _make_handler(self)
        port = self._listeners.serve(_Server((self._host, self._ports[0]), handler))
        self.http_url = f"http://{self._host}:{port}{API_BASE}"
        if self._listeners.tls_dir is not None:
            context = self._listeners.tls_context()
            self.ca_file = self._listeners.ca_file
            port = self._listeners.serve(_Server((self._host, self._ports[1]), handler, context))
            self.https_url = f"https://{self._host}:{port}{API_BASE}"
        return self

    def stop(self) -> None:
        self._listeners.stop()

    def __enter__(self) -> CloudflareEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---- test controls ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The HTTPS base URL when TLS is on, else the HTTP one."""
        return self.https_url or self.http_url

    def add_zone(self, name: str, plan: str = "free", zone_id: str | None = None) -> Zone:
        return self.store.add_zone(name, plan, zone_id)

    def add_record(self, zone: Zone, **fields: Any) -> dict:
        """Create a record directly (validated like the API, not counted, not rate limited)."""
        with self.store.lock:
            return self.store.transaction(zone, [("post", fields)])[0]

    def add_token(self, token: str, zones: set[str] | None = None, edit: bool = True) -> None:
        self.tokens[token] = TokenGrant(zones, edit)

    def add_global_key(self, email: str, key: str, zones: set[str] | None = None, edit: bool = True) -> None:
        self.global_keys[(email, key)] = TokenGrant(zones, edit)

    def records(self, zone: Zone | str) -> list[dict]:
        """Every record of a zone (by object or name), sorted by name, type, content."""
        if isinstance(zone, str):
            found = self.store.zone_by_name(zone)
            assert found is not None, f"no zone {zone}"
            zone = found
        with self.store.lock:
            return sorted(zone.records.values(), key=lambda r: (r["name"], r["type"], r["content"]))

    def inject(self, **fault: Any) -> Fault:
        item = Fault(**fault)
        with self.lock:
            self.faults.append(item)
        return item

    def reset_counts(self) -> None:
        with self.lock:
            self.counts.clear()
            self.requests.clear()

    # ---- request handling (called from handler threads) -------------------------------------------
    def take_fault(self, endpoint: str, method: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(endpoint, method):
                    fault.times -= 1
                    return fault
        return None

    def record_request(self, entry: dict) -> None:
        with self.lock:
            self.counts[entry["endpoint"]] += 1
            self.counts["total"] += 1
            if entry["status"] == 429:
                self.counts["rate_limited"] += 1
            self.requests.append(entry)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, context: ssl.SSLContext | None = None) -> None:
        self._context = context
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # headers and body go out as separate writes
        if self._context is not None:  # handshake in the handler thread, so a slow client blocks nobody
            sock = self._context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:  # quiet: clients hang up mid-test
        pass


# ---- routing ---------------------------------------------------------------------------------------
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"^/zones/?$"), "zones.list"),
    ("GET", re.compile(r"^/zones/(?P<zone>[^/]+)$"), "zones.get"),
    ("GET", re.compile(r"^/zones/(?P<zone>[^/]+)/dns_records/?$"), "dns_records.list"),
    ("POST", re.compile(r"^/zones/(?P<zone>[^/]+)/dns_records/?$"), "dns_records.create"),
    ("POST", re.compile(r"^/zones/(?P<zone>[^/]+)/dns_records/batch$"), "dns_records.batch"),
    ("GET", re.compile(r"^/zones/(?P<zone>[^/]+)/dns_records/(?P<record>[^/]+)$"), "dns_records.get"),
    ("PATCH", re.compile(r"^/zones/(?P<zone>[^/]+)/dns_records/(?P<record>[^/]+)$"), "dns_records.patch"),
    ("PUT", re.compile(r"^/zones/(?P<zone>[^/]+)/dns_records/(?P<record>[^/]+)$"), "dns_records.put"),
    ("DELETE", re.compile(r"^/zones/(?P<zone>[^/]+)/dns_records/(?P<record>[^/]+)$"), "dns_records.delete"),
    ("GET", re.compile(r"^/user/tokens/verify$"), "user.tokens.verify"),
]
_WRITES = {"dns_records.create", "dns_records.batch", "dns_records.patch", "dns_records.put", "dns_records.delete"}


def _route(method: str, path: str) -> tuple[str, dict[str, str]]:
    known_path = False
    for route_method, pattern, name in _ROUTES:
        match = pattern.match(path)
        if match:
            known_path = True
            if route_method == method:
                return name, match.groupdict()
    if known_path:
        raise ApiError(405, 10405, f"Method {method} not allowed for {API_BASE}{path}")
    raise ApiError(400, 7003, "No route for the URI", [{"code": 7000, "message": "No route for that URI"}])


def _envelope(result: Any, info: dict | None = None) -> dict:
    body: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if info is not None:
        body["result_info"] = info
    return body


def _failure(errors: list[dict]) -> dict:
    return {"success": False, "errors": errors, "messages": [], "result": None}


def _make_handler(emulator: CloudflareEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "cloudflare"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def do_PUT(self) -> None:
            self._handle("PUT")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

        # ---- plumbing -----------------------------------------------------------------------------
        def _read_body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, raw: str | None = None) -> None:
            data = (raw if raw is not None else json.dumps(body)).encode()
            self.send_response(status)
            content_type = "text/html" if raw is not None else "application/json"
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _drop(self) -> None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def _handle(self, method: str) -> None:
            url = urlsplit(self.path)
            raw_body = self._read_body()
            if url.path.startswith(ADMIN_BASE + "/") or url.path == ADMIN_BASE:
                self._admin(method, url.path[len(ADMIN_BASE) :], raw_body)
                return
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            entry: dict[str, Any] = {"method": method, "path": url.path, "query": params, "endpoint": "unknown"}
            try:
                status, body, headers, raw = self._api(method, url.path, params, raw_body, entry)
            except _Dropped:
                entry["status"] = 0
                emulator.record_request(entry)
                self._drop()
                return
            entry["status"] = status
            emulator.record_request(entry)
            self._send(status, body, headers, raw)

        def _api(
            self, method: str, path: str, params: dict[str, str], raw_body: bytes, entry: dict
        ) -> tuple[int, Any, dict[str, str], str | None]:
            if not path.startswith(API_BASE + "/"):
                return 404, _failure([{"code": 7003, "message": "No route for the URI"}]), {}, None
            path = path[len(API_BASE) :]
            try:
                endpoint, args = _route(method, path)
                entry["endpoint"] = endpoint
                who, grant = self._authenticate()
                entry["auth"] = who.split(":", 1)[0]
                retry_after = emulator.rate.check(who)
                if retry_after is not None:
                    return (
                        429,
                        _failure([{"code": 971, "message": "Please wait and consider throttling your request speed"}]),
                        {"retry-after": str(retry_after)},
                        None,
                    )
                fault = emulator.take_fault(endpoint, method)
                if fault and not fault.after:
                    answer = self._fault(fault)
                    if answer is not None:
                        return answer
                body = json.loads(raw_body) if raw_body.strip() else None
                entry["body"] = body
                result = self._dispatch(endpoint, args, params, body, grant, API_BASE + path)
                if fault and fault.after:
                    answer = self._fault(fault)
                    if answer is not None:
                        return answer
                return 200, result, {}, None
            except json.JSONDecodeError:
                return 400, _failure([{"code": 9207, "message": "Request body is not valid JSON."}]), {}, None
            except ApiError as exc:
                return exc.status, _failure(exc.errors), {}, None

        def _fault(self, fault: Fault) -> tuple[int, Any, dict[str, str], str | None] | None:
            if fault.kind == "drop":
                raise _Dropped
            if fault.kind == "slow":
                time.sleep(fault.delay)
                return None
            headers = {"retry-after": str(fault.retry_after)} if fault.retry_after is not None else {}
            if fault.status == 429:
                body = _failure([{"code": 971, "message": "Please wait and consider throttling your request speed"}])
                return 429, body, headers, None
            raw = (
                fault.body
                if fault.body is not None
                else f"<html><body><h1>{fault.status} Bad Gateway</h1></body></html>"
            )
            return fault.status, None, headers, raw

        def _authenticate(self) -> tuple[str, TokenGrant]:
            authorization = self.headers.get("Authorization")
            email = self.headers.get("X-Auth-Email")
            key = self.headers.get("X-Auth-Key")
            if authorization is not None:
                match = _BEARER.match(authorization.strip())
                if not match:
                    raise ApiError(
                        400, 6003, "Invalid request headers",
                        [{"code": 6111, "message": "Invalid format for Authorization header"}],
                    )  # fmt: skip
                grant = emulator.tokens.get(match.group(1))
                if grant is None:
                    raise ApiError(401, 9109, "Invalid access token")
                return f"token:{match.group(1)}", grant
            if email is None or key is None:
                raise ApiError(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
            if not _EMAIL.match(email):
                chain = [{"code": 6102, "message": "Invalid format for X-Auth-Email header"}]
                raise ApiError(400, 6003, "Invalid request headers", chain)
            if not _GLOBAL_KEY.match(key):
                chain = [{"code": 6103, "message": "Invalid format for X-Auth-Key header"}]
                raise ApiError(400, 6003, "Invalid request headers", chain)
            grant = emulator.global_keys.get((email, key))
            if grant is None:
                raise ApiError(403, 9103, "Unknown X-Auth-Key or X-Auth-Email")
            return f"key:{email}", grant

        def _dispatch(
            self, endpoint: str, args: dict, params: dict, body: Any, grant: TokenGrant, full_path: str
        ) -> dict:
            store = emulator.store
            if endpoint == "user.tokens.verify":
                return _envelope({"id": new_id(), "status": "active"})
            if endpoint == "zones.list":
                result, info = store.list_zones(params, grant.zones)
                return _envelope(result, info)
            zone = store.zone(args["zone"], full_path)
            if grant.zones is not None and zone.id not in grant.zones:
                raise ApiError(403, 10000, "Authentication error")
            if endpoint in _WRITES and not grant.edit:
                raise ApiError(403, 10000, "Authentication error")
            if endpoint == "zones.get":
                return _envelope(zone.to_api())
            if endpoint == "dns_records.list":
                result, info = store.list_records(zone, params)
                return _envelope(result, info)
            if endpoint == "dns_records.batch":
                return _envelope(store.batch(zone, body))
            if endpoint == "dns_records.create":
                return _envelope(store.create(zone, body))
            record_id = args["record"]
            if endpoint == "dns_records.get":
                return _envelope(store.get_record(zone, record_id, full_path))
            if endpoint == "dns_records.patch":
                return _envelope(store.patch(zone, record_id, body, full_path))
            if endpoint == "dns_records.put":
                return _envelope(store.put(zone, record_id, body, full_path))
            return _envelope(store.delete(zone, record_id, full_path))

        # ---- admin ------------------------------------------------------------------------------
        def _admin(self, method: str, path: str, raw_body: bytes) -> None:
            body = json.loads(raw_body) if raw_body.strip() else {}
            if method == "GET" and path == "/stats":
                with emulator.lock:
                    self._send(200, {"counts": dict(emulator.counts)})
                return
            if method == "POST" and path == "/reset":
                emulator.reset_counts()
                self._send(200, {"ok": True})
                return
            if method == "POST" and path == "/zones":
                zone = emulator.add_zone(body["name"], body.get("plan", "free"))
                with emulator.store.lock:
                    for fields in body.get("records", []):
                        record = build_record(zone, fields)
                        zone.put_record(record)
                self._send(200, {"id": zone.id})
                return
            match = re.match(r"^/zones/([^/]+)/records$", path)
            if method == "GET" and match:
                zone = emulator.store.zones[match.group(1)]
                self._send(200, emulator.records(zone))
                return
            if method == "POST" and path == "/faults":
                for fault in body:
                    emulator.inject(**fault)
                self._send(200, {"ok": True})
                return
            if method == "POST" and path == "/rate":
                emulator.rate.enabled = bool(body.get("enabled", True))
                for key in ("limit", "window", "block"):
                    if key in body:
                        setattr(emulator.rate, key, body[key])
                self._send(200, {"ok": True})
                return
            self._send(404, {"error": f"no admin endpoint {method} {path}"})

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cloudflare API v4 emulator on loopback")
    parser.add_argument("--tls-dir", required=True, help="directory for the test CA and server key (made here)")
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--https-port", type=int, default=0)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--no-rate-limit", action="store_true")
    args = parser.parse_args(argv)
    emulator = CloudflareEmulator(args.tls_dir, args.token, http_port=args.http_port, https_port=args.https_port)
    emulator.rate.enabled = not args.no_rate_limit
    emulator.start()
    admin = emulator.http_url[: -len(API_BASE)] + ADMIN_BASE
    info = {
        "http_url": emulator.http_url,
        "https_url": emulator.https_url,
        "ca_file": emulator.ca_file,
        "token": emulator.token,
        "admin_url": admin,
    }
    print(json.dumps(info), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
