"""A TCP server on 127.0.0.1 that answers, but too slowly: it reads the request, sends a preamble
(a DNS length prefix, HTTP status and headers), then one byte every `interval` seconds, forever.
Such a server never trips a per-read timeout; only an overall deadline ends a client's wait."""

from __future__ import annotations

import contextlib
import socket
import threading

DRIP = 0.2  # seconds between two bytes: far below any per-read timeout


class DripServer:
    """A TCP server on 127.0.0.1: reads the request, sends `preamble`, then one byte every `interval` seconds."""

    def __init__(self, preamble: bytes, interval: float = DRIP) -> None:
        self.preamble = preamble
        self.interval = interval
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(5)
            conn.recv(65536)
            conn.sendall(self.preamble)
            while not self._stop.wait(self.interval):
                conn.sendall(b"x")

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
