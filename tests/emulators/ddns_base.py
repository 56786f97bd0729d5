"""What the four update-only DDNS emulators (dyndns2, DuckDNS, FreeDNS, Namecheap) share: HTTP and HTTPS
listeners on 127.0.0.1, a request log without secrets, per-endpoint counters and injected faults.

A service module subclasses `DdnsEmulator` and implements `answer(request)`; everything about sockets,
TLS (a test CA made at start, see tls.py), logging and faults lives here once::

    with DuckDnsEmulator(tls_dir=tmp_path / "tls") as duck:
        ... a client calls duck.https_url (trusting duck.ca_file) or duck.http_url ...
        duck.requests[-1]["answer"], duck.counts["update"]
        duck.inject(kind="body", body="911")          # the next request gets `911`
        duck.inject(kind="status", status=502)         # ... or a 502, or kind="slow"/"drop"
"""

from __future__ import annotations

import collections
import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .listeners import Listeners

REDACTED = "<redacted>"


@dataclass
class Request:
    """One HTTP request as a service sees it. `query` keeps the last value of a repeated parameter;
    `client_ip` is the peer address (what the services use when no address is sent)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    client_ip: str
    scheme: str
    host: str
    raw_query: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Answer:
    """What the service answers: status, body and content type (plus extra headers)."""

    body: str
    status: int = 200
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    endpoint: str | None = None  # the counter name; None: the one `endpoint_of` gave


@dataclass
class Fault:
    """An injected failure for the next `times` requests (optionally only of one `endpoint`).

    kind "body": answer `body` with 200 (e.g. `911`, `abuse`, `KO`); "status": answer `status` (5xx)
    with `body`; "slow": sleep `delay` seconds then answer normally (a stalled service); "drop": close the
    connection without an answer. `after`: the request is processed first (state changed), then the
    answer is replaced — the ambiguous case a client must survive."""

    kind: str = "body"
    body: str = ""
    status: int = 502
    delay: float = 0.0
    times: int = 1
    endpoint: str | None = None
    after: bool = False


class _Dropped(Exception):
    """The handler must close the connection without answering."""


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IPv4 or IPv6 address in canonical form, or None when `text` is not one (no scope ids)."""
    if "%" in text:  # a zone index is meaningless to a DNS service
        return None
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


_LABEL_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


def is_fqdn(name: str) -> bool:
    """A fully qualified host name: two or more LDH labels of 1-63 characters, 253 at most in all."""
    name = name.lower().removesuffix(".")
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2:
        return False
    return all(
        0 < len(label) <= 63 and set(label) <= _LABEL_CHARS and not label.startswith("-") and not label.endswith("-")
        for label in labels
    )


class DdnsEmulator:
    """Listeners, log, counters and faults; subclasses answer requests (called under `self.lock`)."""

    #: query parameters whose values never reach the log (tokens, passwords)
    secret_params: frozenset[str] = frozenset()
    server_version = "emulator"

    def __init__(self, tls_dir: str | Path | None = None, host: str = "127.0.0.1") -> None:
        self.lock = threading.RLock()
        self.requests: list[dict[str, Any]] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self.faults: list[Fault] = []
        self._host = host
        self._listeners = Listeners(tls_dir)
        self.ca_file: str | None = None
        self.http_url = self.https_url = ""

    # ---- what a service implements -----------------------------------------------------------------
    def answer(self, request: Request) -> Answer:
        raise NotImplementedError

    def log_path(self, path: str) -> str:
        """The path as logged; services that carry secrets in the path override this."""
        return path

    def log_extra(self, request: Request) -> dict[str, Any]:
        """More fields for the log entry (e.g. the Basic auth user name, never its password)."""
        return {}

    def log_answer(self, body: str) -> str:
        """The answer as logged; services whose answers carry secrets override this."""
        return body

    def log_query(self, request: Request) -> dict[str, str]:
        """The query as logged: values of `secret_params` replaced."""
        return {k: (REDACTED if k in self.secret_params else v) for k, v in request.query.items()}

    # ---- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> DdnsEmulator:
        handler = _make_handler(self)
        port = self._listeners.serve(_Server((self._host, 0), handler, "http"))
        self.http_url = f"http://{self._host}:{port}"
        if self._listeners.tls_dir is not None:
            context = self._listeners.tls_context()
            self.ca_file = self._listeners.ca_file
            port = self._listeners.serve(_Server((self._host, 0), handler, "https", context))
            self.https_url = f"https://{self._host}:{port}"
        return self

    def stop(self) -> None:
        self._listeners.stop()

    def __enter__(self) -> DdnsEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The HTTPS base URL when TLS is on, else the HTTP one."""
        return self.https_url or self.http_url

    @property
    def https_server(self) -> str:
        """host:port of the HTTPS listener, the form ddclient's `server=` takes."""
        return self.https_url.removeprefix("https://")

    @property
    def http_server(self) -> str:
        return self.http_url.removeprefix("http://")

    # ---- test controls ------------------------------------------------------------------------------
    def inject(self, **fault: Any) -> Fault:
        item = Fault(**fault)
        with self.lock:
            self.faults.append(item)
        return item

    def reset_log(self) -> None:
        with self.lock:
            self.requests.clear()
            self.counts.clear()

    # ---- request handling ---------------------------------------------------------------------------
    def _take_fault(self, endpoint: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.endpoint in (None, endpoint):
                fault.times -= 1
                return fault
        return None

    def _apply(self, fault: Fault, answer: Answer) -> Answer:
        if fault.kind == "drop":
            raise _Dropped
        if fault.kind == "body":
            return Answer(fault.body, 200, answer.content_type, endpoint=answer.endpoint)
        if fault.kind == "status":
            body = fault.body or f"<html><body><h1>{fault.status} Bad Gateway</h1></body></html>"
            return Answer(body, fault.status, "text/html", endpoint=answer.endpoint)
        return answer

    def process(self, request: Request) -> Answer:
        """Answer one request with faults applied, and log it (secrets replaced)."""
        entry: dict[str, Any] = {
            "method": request.method,
            "path": self.log_path(request.path),
            "query": self.log_query(request),
            "user_agent": request.header("User-Agent"),
            "scheme": request.scheme,
            **self.log_extra(request),
        }
        with self.lock:
            endpoint = self.endpoint_of(request)
            fault = self._take_fault(endpoint)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)  # outside the lock: a stalled answer stalls only its own client
            fault = None
        try:
            with self.lock:
                if fault is not None and not fault.after:
                    answer = self._apply(fault, Answer("", endpoint=endpoint))
                else:
                    answer = self.answer(request)
                    if fault is not None:
                        answer = self._apply(fault, answer)
        except _Dropped:
            entry.update(endpoint=endpoint, status=0, answer=None)
            self._log(entry)
            raise
        entry.update(endpoint=answer.endpoint or endpoint, status=answer.status, answer=self.log_answer(answer.body))
        self._log(entry)
        return answer

    def endpoint_of(self, request: Request) -> str:
        """The counter name of a request before it is answered (for faults aimed at one endpoint)."""
        return "update"

    def _log(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append(entry)
            self.counts[entry["endpoint"]] += 1
            self.counts["total"] += 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, scheme: str, context: ssl.SSLContext | None = None):
        self.scheme = scheme
        self._context = context
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self._context is not None:  # handshake in the handler thread, so a slow client blocks nobody
            sock = self._context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:  # quiet: clients hang up mid-test
        pass


def _make_handler(emulator: DdnsEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = emulator.server_version
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def _handle(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            query = dict(parse_qsl(url.query, keep_blank_values=True))
            if method == "POST" and body:  # Dyn "permits" form posts to /nic/update
                query.update(parse_qsl(body, keep_blank_values=True))
            request = Request(
                method=method,
                path=url.path,
                query=query,
                headers={k.lower(): v for k, v in self.headers.items()},
                client_ip=self.client_address[0],
                scheme=self.server.scheme,  # type: ignore[attr-defined]
                host=self.headers.get("Host", ""),
                raw_query=url.query,  # FreeDNS v1 keys are the bare query string
            )
            try:
                answer = emulator.process(request)
            except _Dropped:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            data = answer.body.encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
