"""A strict local Alibaba Cloud DNS API (2015-01-09) emulator on loopback, over HTTP and HTTPS.

In a test::

    from emulators.alidns import AliDnsEmulator   # tests/ is on sys.path under pytest

    with AliDnsEmulator(tls_dir=tmp_path) as ali:
        ali.add_domain("example.test")
        ali.add_record("example.test", rr="www", type="A", value="192.0.2.1")
        ... point a client at ali.url (trust ali.ca_file), key ali.key_id / ali.key_secret ...
        assert ali.counts["AddDomainRecord"] == 1

As its own process (benchmarks)::

    PYTHONPATH=tests python -m emulators.alidns --tls-dir DIR

prints one JSON line {"http_url", "https_url", "ca_file", "key_id", "key_secret", "admin_url"} and
serves until killed.

What it enforces:

- RPC calls on `/` (GET or POST), parameters in the query string or a form body, the action in
  `x-acs-action`; every request's ACS3-HMAC-SHA256 signature is recomputed and checked
  (alidns_acs3.py): a wrong key or secret, a changed header, query or body, a date outside 15 minutes
  or a reused nonce is refused with the service's error body. Signature version 1.0 (HMAC-SHA1) is not
  implemented: such a request is refused as MissingAuthorization;
- answers as JSON; errors as `{RequestId, HostId, Code, Message, Recommend}` with the service's status;
- the record rules of alidns_store.py (stable ids, duplicates, CNAME conflicts, paging of 500 at most);
- injected faults (`inject`): an error code in a 4xx or 200 body (throttling), a 5xx, a slow answer, a
  dropped connection, before the request is processed or after it was;
- counters per action (`counts`) and a log of requests (`requests`) without credentials.

Admin endpoints (no auth, not counted) under `/__emulator`: `GET /stats`, `POST /reset`,
`POST /domains` {name, records?}, `GET /domains/<name>/records`, `POST /faults` [fault...].
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
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .alidns_acs3 import AcsError, Verifier
from .alidns_store import ApiError, Store
from .listeners import Listeners

API_VERSION = "2015-01-09"
ADMIN_BASE = "/__emulator"
DEFAULT_KEY_ID = "LTAI5tFleetdnsTestKey01"
DEFAULT_KEY_SECRET = "fleetdnsTestSecret0123456789abc"  # 30 characters, like a real AccessKey secret
ACTIONS = (
    "DescribeDomainRecords", "DescribeSubDomainRecords", "GetMainDomainName", "AddDomainRecord",
    "UpdateDomainRecord", "DeleteDomainRecord", "UpdateDomainRecordRemark",
)  # fmt: skip
NOT_FOUND = "Specified api is not found, please check your url and method."
WRITES = {"AddDomainRecord", "UpdateDomainRecord", "DeleteDomainRecord", "UpdateDomainRecordRemark"}


@dataclass
class Fault:
    """An injected failure for `action` (None: any), `times` times. kind: "code" (answer `status`,
    default 400, with error `code`), "status" (a bare `status` 5xx page), "slow" (sleep `delay`, then
    answer), "drop" (close the connection unanswered), "hook" (call `hook()` in the emulator, e.g. a
    concurrent edit by someone else, then answer normally; in-process only). `after`: process the
    request first."""

    kind: str = "code"
    action: str | None = None
    times: int = 1
    status: int | None = None
    code: str = "Throttling.User"
    message: str = "Request was denied due to user flow control."
    delay: float = 0.0
    after: bool = False
    hook: Callable[[], None] | None = None

    def matches(self, action: str) -> bool:
        return self.times > 0 and (self.action is None or self.action == action)


class _Dropped(Exception):
    pass


class AliDnsEmulator:
    def __init__(
        self,
        tls_dir: str | Path | None = None,
        key_id: str = DEFAULT_KEY_ID,
        key_secret: str = DEFAULT_KEY_SECRET,
        host: str = "127.0.0.1",
        http_port: int = 0,
        https_port: int = 0,
    ) -> None:
        self.store = Store()
        self.key_id, self.key_secret = key_id, key_secret
        self.clock_offset = 0.0  # seconds the emulator's clock runs ahead of the machine's
        self.verifier = Verifier({key_id: key_secret}, clock=lambda: time.time() + self.clock_offset)
        self.faults: list[Fault] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self._host = host
        self._ports = (http_port, https_port)
        self._listeners = Listeners(tls_dir)
        self.ca_file: str | None = None
        self.http_url = self.https_url = ""

    # ---- lifecycle --------------------------------------------------------------------------------
    def start(self) -> AliDnsEmulator:
        handler = _make_handler(self)
        port = self._listeners.serve(_Server((self._host, self._ports[0]), handler))
        self.http_url = f"http://{self._host}:{port}"
        if self._listeners.tls_dir is not None:
            context = self._listeners.tls_context()
            self.ca_file = self._listeners.ca_file
            port = self._listeners.serve(_Server((self._host, self._ports[1]), handler, context))
            self.https_url = f"https://{self._host}:{port}"
        return self

    def stop(self) -> None:
        self._listeners.stop()

    def __enter__(self) -> AliDnsEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.https_url or self.http_url

    # ---- test controls ----------------------------------------------------------------------------
    def add_domain(self, name: str) -> None:
        self.store.add_domain(name)

    def add_record(self, domain: str, rr: str, type: str, value: str, ttl: int = 600, line: str = "default",
                   remark: str | None = None, priority: int | None = None) -> dict:  # fmt: skip
        """Create a record directly (checked like AddDomainRecord, not counted)."""
        params = {"DomainName": domain, "RR": rr, "Type": type, "Value": value, "TTL": str(ttl), "Line": line}
        if priority is not None:
            params["Priority"] = str(priority)
        with self.store.lock:
            record = self.store.add(params)
            if remark:
                self.store.remark(record["RecordId"], remark)
            return dict(record)

    def records(self, domain: str) -> list[dict]:
        """Every record of a domain, sorted by RR, Type, Value."""
        with self.store.lock:
            found = self.store.domain(domain)
            return sorted((dict(r) for r in found.records.values()), key=lambda r: (r["RR"], r["Type"], r["Value"]))

    def inject(self, **fault: Any) -> Fault:
        item = Fault(**fault)
        with self.lock:
            self.faults.append(item)
        return item

    def reset_counts(self) -> None:
        with self.lock:
            self.counts.clear()
            self.requests.clear()

    # ---- request handling -------------------------------------------------------------------------
    def take_fault(self, action: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(action):
                    fault.times -= 1
                    return fault
        return None

    def log(self, entry: dict) -> None:
        with self.lock:
            self.counts[entry["action"]] += 1
            self.counts["total"] += 1
            if entry.get("code"):
                self.counts[f"error:{entry['code']}"] += 1
            self.requests.append(entry)

    def dispatch(self, action: str, params: dict[str, str]) -> dict:
        store = self.store
        with store.lock:
            if action == "DescribeDomainRecords":
                return store.list(params)
            if action == "DescribeSubDomainRecords":
                return store.subdomain(params)
            if action == "GetMainDomainName":
                if not params.get("InputString"):
                    raise ApiError(400, "MissingInputString", "InputString is mandatory for this action.")
                name, rr = store.main_domain(params["InputString"])
                return {"DomainName": name, "RR": rr}
            if action == "AddDomainRecord":
                return {"RecordId": store.add(params)["RecordId"]}
            if action == "UpdateDomainRecord":
                return {"RecordId": store.update(params)["RecordId"]}
            if action == "DeleteDomainRecord":
                return {"RecordId": store.delete(params.get("RecordId"))["RecordId"]}
            if action == "UpdateDomainRecordRemark":
                store.remark(params.get("RecordId"), params.get("Remark"))
                return {}
        raise ApiError(404, "InvalidAction.NotFound", NOT_FOUND)


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


def error_body(code: str, message: str) -> dict:
    request_id = str(uuid.uuid4()).upper()
    return {
        "RequestId": request_id,
        "HostId": "alidns.aliyuncs.com",
        "Code": code,
        "Message": message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}&product=Alidns&requestId={request_id}",
    }


def _make_handler(emulator: AliDnsEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "Tengine"
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
            self.send_header("Content-Type", "text/html" if raw is not None else "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _drop(self) -> None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def _handle(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if url.path.startswith(ADMIN_BASE):
                self._admin(method, url.path[len(ADMIN_BASE) :], body)
                return
            action = self.headers.get("x-acs-action", "")
            entry: dict[str, Any] = {"method": method, "action": action or "unknown"}
            try:
                status, answer, raw = self._api(method, url, body, entry)
            except _Dropped:
                entry["status"] = 0
                emulator.log(entry)
                self._drop()
                return
            entry["status"] = status
            if isinstance(answer, dict) and "Code" in answer:
                entry["code"] = answer["Code"]
            emulator.log(entry)
            self._send(status, answer, raw)

        def _api(self, method: str, url: Any, body: bytes, entry: dict) -> tuple[int, Any, str | None]:
            try:
                if url.path != "/":
                    raise ApiError(404, "InvalidAction.NotFound", NOT_FOUND)
                emulator.verifier.verify(method, url.query, dict(self.headers.items()), body)
                if self.headers.get("x-acs-version") != API_VERSION:
                    raise ApiError(400, "InvalidVersion", "Specified parameter Version is not valid.")
                params = dict(parse_qsl(url.query, keep_blank_values=True))
                content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                if body and content_type == "application/x-www-form-urlencoded":
                    params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
                entry["params"] = params
                action = entry["action"]
                fault = emulator.take_fault(action)
                if fault and not fault.after:
                    answer = self._fault(fault)
                    if answer is not None:
                        return answer
                result = emulator.dispatch(action, params)
                if fault and fault.after:
                    answer = self._fault(fault)
                    if answer is not None:
                        return answer
                return 200, {"RequestId": str(uuid.uuid4()).upper(), **result}, None
            except (AcsError, ApiError) as exc:
                return exc.status, error_body(exc.code, exc.message), None

        def _fault(self, fault: Fault) -> tuple[int, Any, str | None] | None:
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
                status = fault.status or 503
                return status, None, f"<html><body><h1>{status} Service Unavailable</h1></body></html>"
            return fault.status or 400, error_body(fault.code, fault.message), None

        def _admin(self, method: str, path: str, raw: bytes) -> None:
            body = json.loads(raw) if raw.strip() else {}
            if method == "GET" and path == "/stats":
                with emulator.lock:
                    self._send(200, {"counts": dict(emulator.counts)})
            elif method == "POST" and path == "/reset":
                emulator.reset_counts()
                self._send(200, {"ok": True})
            elif method == "POST" and path == "/domains":
                emulator.add_domain(body["name"])
                with emulator.store.lock:
                    for fields in body.get("records", []):
                        emulator.add_record(body["name"], **fields)
                self._send(200, {"ok": True})
            elif method == "GET" and path.startswith("/domains/") and path.endswith("/records"):
                self._send(200, emulator.records(path[len("/domains/") : -len("/records")]))
            elif method == "POST" and path == "/faults":
                for fault in body:
                    emulator.inject(**fault)
                self._send(200, {"ok": True})
            else:
                self._send(404, {"error": f"no admin endpoint {method} {path}"})

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Alibaba Cloud DNS API emulator on loopback")
    parser.add_argument("--tls-dir", required=True)
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--https-port", type=int, default=0)
    args = parser.parse_args(argv)
    emulator = AliDnsEmulator(args.tls_dir, http_port=args.http_port, https_port=args.https_port).start()
    info = {
        "http_url": emulator.http_url,
        "https_url": emulator.https_url,
        "ca_file": emulator.ca_file,
        "key_id": emulator.key_id,
        "key_secret": emulator.key_secret,
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
