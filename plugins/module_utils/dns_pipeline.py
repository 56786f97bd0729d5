"""Many questions to one DNS server over one TCP connection, pipelined (RFC 7766): what `status`
asks each authoritative server of a zone. Questions go out without recursion, so the server
answers from its own data; replies are matched by id and returned in question order.
"""

from __future__ import annotations

import random
import socket
from dataclasses import dataclass

from . import dnswire

# Questions in flight on one connection: servers take more (BIND: 100s), and this hides the round trip.
WINDOW = 64
RCODE_NOERROR = 0
RCODE_NXDOMAIN = 3
RCODE_NAMES = {1: "FORMERR", 2: "SERVFAIL", 4: "NOTIMP", 5: "REFUSED", 9: "NOTAUTH"}


@dataclass(frozen=True)
class Answer:
    """One server's answer for a name and type: its values, or why there are none to trust."""

    values: frozenset[str] | None  # None: `error` says why
    error: str | None = None


def ask_all(address: str, port: int, questions: list[tuple[str, str]], timeout: float) -> list[Answer]:
    """The answers of the server at `address`:`port` to (name, type) questions, in order. A server
    that cannot be reached gives every question the same error answer; nothing raises."""
    if not questions:
        return []
    try:
        replies = _pipelined(address, port, [(name, dnswire.type_code(rtype)) for name, rtype in questions], timeout)
    except TimeoutError:
        return [Answer(None, f"no answer within {timeout:g}s")] * len(questions)
    except OSError as exc:
        return [Answer(None, exc.strerror or str(exc) or type(exc).__name__)] * len(questions)
    except dnswire.WireError as exc:
        return [Answer(None, f"malformed answer ({exc})")] * len(questions)
    return [_answer(reply, name, rtype) for (name, rtype), reply in zip(questions, replies, strict=True)]


def _answer(reply: dnswire.Reply, name: str, rtype: str) -> Answer:
    if reply.rcode not in (RCODE_NOERROR, RCODE_NXDOMAIN):
        return Answer(None, f"answered {RCODE_NAMES.get(reply.rcode, f'RCODE{reply.rcode}')}")
    if not reply.authoritative:
        return Answer(None, "not authoritative for the zone (no zone data: not loaded or not transferred)")
    code = dnswire.type_code(rtype)
    values = frozenset(v for owner, t, _c, _ttl, v in reply.answer if owner == name and t == code)
    return Answer(values)


def _pipelined(address: str, port: int, questions: list[tuple[str, int]], timeout: float) -> list[dnswire.Reply]:
    replies: list[dnswire.Reply | None] = [None] * len(questions)
    with socket.create_connection((address, port), timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = bytearray()
        pending: dict[int, int] = {}
        next_id = random.getrandbits(16)
        sent = 0
        while sent < len(questions) or pending:
            if sent < len(questions) and len(pending) <= WINDOW // 2:
                burst = []
                while sent < len(questions) and len(pending) < WINDOW:
                    wire, _mac = dnswire.make_query(next_id, *questions[sent])
                    pending[next_id] = sent
                    next_id = (next_id + 1) & 0xFFFF
                    burst.append(len(wire).to_bytes(2, "big") + wire)
                    sent += 1
                sock.sendall(b"".join(burst))
            while len(buffer) < 2 or len(buffer) < 2 + int.from_bytes(buffer[:2], "big"):
                chunk = sock.recv(65536)
                if not chunk:
                    raise dnswire.WireError("the server closed the connection")
                buffer += chunk
            size = int.from_bytes(buffer[:2], "big")
            data = bytes(buffer[2 : 2 + size])
            del buffer[: 2 + size]
            reply = dnswire.parse_reply(data)
            index = pending.pop(reply.id, None)
            if index is None:
                raise dnswire.WireError("an answer to a question that was not asked")
            replies[index] = reply
    return replies  # type: ignore[return-value]
