"""A strict local emulator of Tencent Cloud DNSPod API 3.0 on loopback, over HTTP and HTTPS.

In a test::

    from emulators.dnspod import DnspodEmulator

    with DnspodEmulator(tls_dir=tmp_path) as api:
        domain = api.add_domain("example.test")
        api.add_record(domain, SubDomain="www", RecordType="A", Value="192.0.2.1")
        ... point a client at api.https_url (trust api.ca_file), SecretId api.secret_id, SecretKey api.secret_key ...
        assert api.counts["CreateRecord"] == 1

As its own process (benchmarks, clients in other venvs)::

    PYTHONPATH=tests python -m emulators.dnspod --tls-dir DIR

prints one JSON line {"http_url", "https_url", "ca_file", "secret_id", "secret_key", "admin_url"}.

What it enforces:

- one endpoint, `POST /` with a JSON body, the action in X-TC-Action and version 2021-03-23 in
  X-TC-Version; every answer is HTTP 200 with `{"Response": {..., "RequestId"}}`, errors as
  `Response.Error` {Code, Message};
- TC3-HMAC-SHA256 recomputed on every request (tc3.py): an unknown SecretId, a wrong SecretKey, a
  credential scope with another date or service, a changed signed header or body, a timestamp more
  than 300 s from the emulator's clock are each refused with the real code;
- per-action rate limits per SecretId, the documented ones (DescribeRecordList 100/s,
  ModifyDynamicDNS 20/s, ModifyRecord and DeleteRecord 500/s), answered with RequestLimitExceeded;
- data rules (dnspod_store.py): stable numeric ids, Offset/Limit paging up to 3000, the field
  spellings, the empty-list error, TTL and line checks;
- injected faults (`inject`): an error code in a 200 body (throttling storms), an HTTP status (5xx),
  a dropped connection, a slow answer, before the action is processed or after it was.

Admin endpoints (no auth, not counted) under /__emulator: GET /stats, POST /reset, POST /domains
{name, records?}, GET /domains/<name>/records, POST /faults [fault...], POST /rate {enabled}.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import socket
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import tc3
from .dnspod_store import ApiError, Domain, Store
from .listeners import Listeners

ADMIN_BASE = "/__emulator"
VERSION = "2021-03-23"
SERVICE = "dnspod"
DEFAULT_SECRET_ID = "AKIDfleetdnsTEST0123456789abcdefEXAMPLE"
DEFAULT_SECRET_KEY = "fleetdnsTestSecretKey0123456789ab"
RATE_LIMITS = {"DescribeRecordList": 100, "ModifyDynamicDNS": 20, "ModifyRecord": 500, "DeleteRecord": 500}
THROTTLE_MESSAGE = "请求的次数超过了频率限制。"


@dataclass
class Fault:
    """An injected failure. `action` narrows where it hits; the first `skip` matching requests pass,
    then `times` are hit. kind: "error" (HTTP 200 with Response.Error `code`), "status" (HTTP `status`
    with an HTML body), "drop" (close without an answer), "slow" (sleep `delay`, then answer), "hook"
    (call `hook()` in the emulator, e.g. someone else's concurrent edit, then answer normally; in-process
    only). `after`: the action is carried out first, then its answer is replaced (the ambiguous case)."""

    kind: str = "error"
    action: str | None = None
    code: str = "RequestLimitExceeded"
    message: str = THROTTLE_MESSAGE
    status: int = 502
    delay: float = 0.0
    after: bool = False
    skip: int = 0
    times: int = 1
    hook: Callable[[], None] | None = None

    def take(self, action: str) -> bool:
        if self.times <= 0 or (self.action is not None and self.action != action):
            return False
        if self.skip > 0:
            self.skip -= 1
            return False
        self.times -= 1
        return True


@dataclass
class RateLimiter:
    enabled: bool = True
    limits: dict[str, int] = field(default_factory=lambda: dict(RATE_LIMITS))
    clock: Callable[[], float] = time.monotonic
    _seen: dict[tuple[str, str], collections.deque] = field(default_factory=dict)

    def exceeded(self, who: str, action: str) -> bool:
        limit = self.limits.get(action)
        if not self.enabled or limit is None:
            return False
        now = self.clock()
        seen = self._seen.setdefault((who, action), collections.deque())
        while seen and seen[0] <= now - 1.0:
            seen.popleft()
        if len(seen) >= limit:
            return True
        seen.append(now)
        return False


class _Dropped(Exception):
    pass


class DnspodEmulator:
    def __init__(
        self,
        tls_dir: str | Path | None = None,
        secret_id: str = DEFAULT_SECRET_ID,
        secret_key: str = DEFAULT_SECRET_KEY,
        host: str = "127.0.0.1",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = Store()
        self.secret_id, self.secret_key = secret_id, secret_key
        self.keys: dict[str, str] = {secret_id: secret_key}
        self.rate = RateLimiter()
        self.faults: list[Fault] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.clock = clock
        self._host = host
        self._listeners = Listeners(tls_dir)
        self.ca_file: str | None = None
        self.http_url = self.https_url = ""

    def start(self) -> DnspodEmulator:
        handler = _make_handler(self)
        port = self._listeners.serve(_Server((self._host, 0), handler))
        self.http_url = f"http://{self._host}:{port}"
        if self._listeners.tls_dir is not None:
            context = self._listeners.tls_context()
            self.ca_file = self._listeners.ca_file
            port = self._listeners.serve(_Server((self._host, 0), handler, context))
            self.https_url = f"https://{self._host}:{port}"
        return self

    def stop(self) -> None:
        self._listeners.stop()

    def __enter__(self) -> DnspodEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.https_url or self.http_url

    # ---- test controls -------------------------------------------------------------------------------
    def add_domain(self, name: str, min_ttl: int = 600) -> Domain:
        return self.store.add_domain(name, min_ttl)

    def add_record(self, domain: Domain, **fields: Any) -> dict:
        return self.store.add_record(domain, **fields)

    def records(self, name: str, with_default_ns: bool = False) -> list[dict]:
        """The domain's records in id order (without the two default NS unless asked)."""
        domain = self.store.domains[name.lower().rstrip(".")]
        with self.store.lock:
            found = sorted(domain.records.values(), key=lambda r: r["RecordId"])
            return [dict(r) for r in found if with_default_ns or not r.get("DefaultNS")]

    def inject(self, **fault: Any) -> Fault:
        item = Fault(**fault)
        with self.lock:
            self.faults.append(item)
        return item

    def reset_counts(self) -> None:
        with self.lock:
            self.counts.clear()
            self.requests.clear()

    def take_fault(self, action: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.take(action):
                    return fault
        return None

    def record_request(self, entry: dict) -> None:
        with self.lock:
            self.counts[entry["action"]] += 1
            self.counts["total"] += 1
            if entry.get("error"):
                self.counts[f"error:{entry['error']}"] += 1
            self.requests.append(entry)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, context: ssl.SSLContext | None = None) -> None:
        self._context = context
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._context is not None:
            sock = self._context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


_ACTIONS = {
    "DescribeDomain": Store.describe_domain,
    "DescribeRecordList": Store.describe_record_list,
    "CreateRecord": Store.create_record,
    "ModifyRecord": Store.modify_record,
    "ModifyDynamicDNS": Store.modify_dynamic_dns,
    "DeleteRecord": Store.delete_record,
}
_WRITES = {"CreateRecord", "ModifyRecord", "ModifyDynamicDNS", "DeleteRecord"}


def _error(code: str, message: str) -> dict:
    return {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": str(uuid.uuid4())}}


def _make_handler(emulator: DnspodEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "tencentcloud"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def _send(self, status: int, body: Any, raw: str | None = None) -> None:
            data = (raw if raw is not None else json.dumps(body, ensure_ascii=False)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if raw is not None else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw_body = self.rfile.read(length) if length else b""
            if url.path == ADMIN_BASE or url.path.startswith(ADMIN_BASE + "/"):
                self._admin(method, url.path[len(ADMIN_BASE) :], raw_body)
                return
            action = self.headers.get("X-TC-Action", "")
            entry: dict[str, Any] = {"action": action or "unknown", "method": method}
            try:
                status, body, raw = self._api(method, url, raw_body, action, entry)
            except _Dropped:
                entry["status"] = 0
                emulator.record_request(entry)
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            entry["status"] = status
            if body is not None and "Error" in body.get("Response", {}):
                entry["error"] = body["Response"]["Error"]["Code"]
            emulator.record_request(entry)
            self._send(status, body, raw)

        def _api(self, method: str, url: Any, raw_body: bytes, action: str, entry: dict) -> tuple[int, Any, Any]:
            if url.path != "/":
                return 404, None, "<html><body>404 Not Found</body></html>"
            if method != "POST":
                return 200, _error("InvalidParameter", "Only POST with a JSON body is served here."), None
            headers = dict(self.headers.items())
            who, refusal = tc3.verify(
                method, url.query, headers, raw_body, emulator.keys.get, SERVICE, emulator.clock()
            )
            if refusal is not None:
                return 200, _error(refusal.code, refusal.message), None
            content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if content_type != "application/json":
                return 200, _error("InvalidParameter", "Content-Type must be application/json."), None
            if self.headers.get("X-TC-Version") != VERSION:
                return (
                    200,
                    _error(
                        "InvalidParameterValue", f"The version {self.headers.get('X-TC-Version')!r} is not supported."
                    ),
                    None,
                )
            handler = _ACTIONS.get(action)
            if handler is None:
                return 200, _error("InvalidAction", f"The action {action!r} is not supported."), None
            if emulator.rate.exceeded(who, action):
                return 200, _error("RequestLimitExceeded", THROTTLE_MESSAGE), None
            try:
                params = json.loads(raw_body or b"{}")
            except ValueError:
                return 200, _error("InvalidParameter", "The body is not valid JSON."), None
            if not isinstance(params, dict):
                return 200, _error("InvalidParameter", "The body must be a JSON object."), None
            entry["params"] = params
            fault = emulator.take_fault(action)
            if fault is not None and not fault.after:
                answer = self._fault(fault)
                if answer is not None:
                    return answer
            try:
                with emulator.store.lock:
                    result = handler(emulator.store, params)
            except ApiError as exc:
                return 200, _error(exc.code, exc.message), None
            if fault is not None and fault.after:
                answer = self._fault(fault)
                if answer is not None:
                    return answer
            return 200, {"Response": {**result, "RequestId": str(uuid.uuid4())}}, None

        def _fault(self, fault: Fault) -> tuple[int, Any, Any] | None:
            if fault.kind == "drop":
                raise _Dropped
            if fault.kind == "slow":
                time.sleep(fault.delay)
                return None
            if fault.kind == "hook":
                if fault.hook is not None:
                    fault.hook()
                return None
            if fault.kind == "status":
                return fault.status, None, f"<html><body><h1>{fault.status}</h1></body></html>"
            return 200, _error(fault.code, fault.message), None

        def _admin(self, method: str, path: str, raw_body: bytes) -> None:
            body = json.loads(raw_body) if raw_body.strip() else {}
            if method == "GET" and path == "/stats":
                with emulator.lock:
                    self._send(200, {"counts": dict(emulator.counts)})
            elif method == "POST" and path == "/reset":
                emulator.reset_counts()
                self._send(200, {"ok": True})
            elif method == "POST" and path == "/domains":
                domain = emulator.add_domain(body["name"], int(body.get("min_ttl", 600)))
                with emulator.store.lock:
                    for fields in body.get("records", []):
                        emulator.add_record(domain, **fields)
                self._send(200, {"id": domain.id})
            elif method == "GET" and path.startswith("/domains/") and path.endswith("/records"):
                self._send(200, emulator.records(path[len("/domains/") : -len("/records")]))
            elif method == "POST" and path == "/faults":
                for fault in body:
                    emulator.inject(**fault)
                self._send(200, {"ok": True})
            elif method == "POST" and path == "/rate":
                emulator.rate.enabled = bool(body.get("enabled", True))
                self._send(200, {"ok": True})
            else:
                self._send(404, {"error": f"no admin endpoint {method} {path}"})

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="DNSPod API 3.0 emulator on loopback")
    parser.add_argument("--tls-dir", required=True)
    parser.add_argument("--no-rate-limit", action="store_true")
    args = parser.parse_args(argv)
    emulator = DnspodEmulator(args.tls_dir)
    emulator.rate.enabled = not args.no_rate_limit
    emulator.start()
    info = {
        "http_url": emulator.http_url,
        "https_url": emulator.https_url,
        "ca_file": emulator.ca_file,
        "secret_id": emulator.secret_id,
        "secret_key": emulator.secret_key,
        "admin_url": emulator.http_url + ADMIN_BASE,
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
