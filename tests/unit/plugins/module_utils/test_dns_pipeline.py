"""Pipelined questions to one server: replies matched by id in any order; a dead server answers
every question with the same error instead of raising."""

from __future__ import annotations

import socket
import struct
import threading

from ansible_collections.fleetdns.ddns.plugins.module_utils import dnswire
from ansible_collections.fleetdns.ddns.plugins.module_utils.dns_pipeline import Answer, ask_all


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_server_that_is_not_there_gives_every_question_the_same_error() -> None:
    answers = ask_all("127.0.0.1", free_port(), [("a.test.", "A"), ("b.test.", "AAAA")], 1.0)
    assert len(answers) == 2 and answers[0] == answers[1] and answers[0].values is None
    assert answers[0].error


def reply(query: bytes, address: str | None, rcode: int = 0, aa: bool = True) -> bytes:
    """An answer to `query` (one question) holding `address` as its A record."""
    msg_id = query[:2]
    question = query[12:]
    flags = 0x8000 | (0x0400 if aa else 0) | rcode
    answer = b""
    if address:
        answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + socket.inet_aton(address)
    return msg_id + struct.pack(">HHHHH", flags, 1, 1 if address else 0, 0, 0) + question + answer


def test_replies_in_reverse_order_are_matched_to_their_questions() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    table = {"a.test.": ("192.0.2.1", 0, True), "b.test.": (None, 3, True), "c.test.": (None, 5, True),
             "d.test.": ("192.0.2.4", 0, False)}  # fmt: skip

    def serve() -> None:
        conn = listener.accept()[0]
        with conn:
            data = b""
            while len(_split(data)) < len(table):
                data += conn.recv(65536)
            frames = [reply(q, *table[_qname(q)]) for q in _split(data)]
            conn.sendall(b"".join(len(f).to_bytes(2, "big") + f for f in reversed(frames)))

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        answers = ask_all("127.0.0.1", port, [(name, "A") for name in table], 2.0)
    finally:
        thread.join(5)
        listener.close()
    assert answers[0] == Answer(frozenset({"192.0.2.1"}))
    assert answers[1] == Answer(frozenset())  # NXDOMAIN: nothing there
    assert answers[2] == Answer(None, "answered REFUSED")
    assert answers[3].values is None and "not authoritative" in (answers[3].error or "")


def _split(data: bytes) -> list[bytes]:
    frames, pos = [], 0
    while pos + 2 <= len(data):
        size = int.from_bytes(data[pos : pos + 2], "big")
        if pos + 2 + size > len(data):
            break
        frames.append(data[pos + 2 : pos + 2 + size])
        pos += 2 + size
    return frames


def _qname(query: bytes) -> str:
    name, _pos = dnswire.read_name(query, 12, {})
    return name
