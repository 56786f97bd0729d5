"""Local stand-ins for public IP echo services, on loopback only: an HTTP echo server and a DNS
responder whose answers the test sets (agree, disagree, stall, garbage). Used by the engine and
module tests of public_ip."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.rcode
import dns.rrset


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class _V6Server(_Server):
    address_family = socket.AF_INET6


class EchoServer:
    """Answers every GET with `status` and `body` after `delay` seconds; counts requests."""

    def __init__(self, body: str = "", host: str = "127.0.0.1", status: int = 200, delay: float = 0.0) -> None:
        self.body = body
        self.status = status
        self.delay = delay
        self.requests: list[str] = []
        echo = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                echo.requests.append(self.path)
                time.sleep(echo.delay)
                data = echo.body.encode()
                try:
                    self.send_response(echo.status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (a timeout test)
                    pass

            def log_message(self, *args: object) -> None:
                """Quiet."""

        cls = _V6Server if ":" in host else _Server
        self._server = cls((host, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class DnsBehaviour:
    """What the responder does: answer `values` as `rtype`, or stay silent, or send garbage, or an rcode."""

    values: list[str] = field(default_factory=list)
    rtype: str = "A"
    mode: str = "answer"  # answer | silent | garbage | rcode
    rcode: str = "REFUSED"


class DnsResponder:
    """A UDP DNS server on loopback answering every query by `behaviour`; records the queries."""

    def __init__(self, behaviour: DnsBehaviour, host: str = "127.0.0.1") -> None:
        self.behaviour = behaviour
        self.queries: list[dns.message.Message] = []
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._sock.bind((host, 0))
        self._sock.settimeout(0.05)
        self.host = host
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self._sock.recvfrom(65535)
            except (TimeoutError, OSError):
                continue
            query = dns.message.from_wire(wire)
            self.queries.append(query)
            reply = self._reply(query)
            if reply is not None:
                self._sock.sendto(reply, peer)

    def _reply(self, query: dns.message.Message) -> bytes | None:
        behaviour = self.behaviour
        if behaviour.mode == "silent":
            return None
        if behaviour.mode == "garbage":
            return query.id.to_bytes(2, "big") + b"\x81\x80 this is not DNS"
        response = dns.message.make_response(query)
        if behaviour.mode == "rcode":
            response.set_rcode(dns.rcode.from_text(behaviour.rcode))
            return response.to_wire()
        question = query.question[0]
        if behaviour.values:
            values = [f'"{v}"' if behaviour.rtype == "TXT" else v for v in behaviour.values]
            rrset = dns.rrset.from_text_list(question.name, 60, question.rdclass, behaviour.rtype, values)
            response.answer.append(rrset)
        response.flags |= dns.flags.AA
        return response.to_wire()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        self._sock.close()


def closed_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (bound, then released)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
