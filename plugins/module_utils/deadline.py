"""An overall time limit for one network operation, on top of the per-read timeout.

A socket timeout bounds each read, not the whole exchange: a server that announces a long answer
and then sends one byte every few seconds never trips it. A Deadline bounds the sum.
"""

from __future__ import annotations

import time
from typing import Any

DEFAULT_DEADLINE = 300.0  # seconds; generous for a large zone over a slow link, finite for a stalled one


class DeadlineExceeded(Exception):
    """The operation ran past its deadline."""


class Deadline:
    """`seconds` from now; `wait(timeout)` is the socket timeout for the next step."""

    def __init__(self, seconds: float) -> None:
        self._ends = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._ends - time.monotonic()

    def extend(self, seconds: float) -> None:
        """Move the end `seconds` later: time spent on other work does not count."""
        self._ends += seconds

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def wait(self, timeout: float) -> float:
        """`timeout`, or less when the deadline is nearer; DeadlineExceeded once it has passed."""
        left = self.remaining()
        if left <= 0:
            raise DeadlineExceeded
        return timeout if timeout <= left else left


def check_deadline(value: Any) -> str | None:
    """Problem with a `deadline` provider option, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 86400:
        return "must be a number of seconds, more than 0 and at most 86400"
    return None
