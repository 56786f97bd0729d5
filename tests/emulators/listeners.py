"""The listeners of one emulator: HTTP, and HTTPS with a test CA when a TLS directory is given, each
served on 127.0.0.1 by a thread of its own, all stopped together."""

from __future__ import annotations

import ssl
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

from .tls import make_test_ca


class Listeners:
    def __init__(self, tls_dir: str | Path | None) -> None:
        self.tls_dir = Path(tls_dir) if tls_dir else None
        self.ca_file: str | None = None  # the CA certificate clients must trust, once TLS is on
        self._servers: list[ThreadingHTTPServer] = []
        self._threads: list[threading.Thread] = []

    def tls_context(self) -> ssl.SSLContext:
        """A server context with a certificate from a fresh test CA in `tls_dir`."""
        assert self.tls_dir is not None
        self.tls_dir.mkdir(parents=True, exist_ok=True)
        ca = make_test_ca(str(self.tls_dir))
        self.ca_file = ca.ca_cert
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(ca.server_cert, ca.server_key)
        return context

    def serve(self, server: ThreadingHTTPServer) -> int:
        """Serve `server` on a thread of its own; returns its port."""
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        self._servers.append(server)
        self._threads.append(thread)
        return server.server_address[1]

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()
