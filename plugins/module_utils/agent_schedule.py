"""When the agent's service mode runs a pass: every `interval` (+/- `jitter`) seconds, sooner when an
update held back becomes due or an address event arrives, never two passes within `debounce`.

One loop for both ways of running passes: in the same process (Agent.run_forever) and in a
short-lived child process per pass (the one-file agent's small idle parent, which must not import
the engine). It imports no more than the parent needs anyway (threading, collections.abc), so the
idle parent stays small: no dataclasses, typing or random here.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

TRIGGERED = "triggered: an address or route changed"


class Timing:
    """The config file's loop settings and, after a pass, when a held-back update is due (clock time)."""

    __slots__ = ("debounce", "due", "interval", "jitter")

    def __init__(self, interval: float, jitter: float, debounce: float, due: float | None = None) -> None:
        self.interval = interval
        self.jitter = jitter
        self.debounce = debounce
        self.due = due

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timing) and self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        return f"Timing({self.interval!r}, {self.jitter!r}, {self.debounce!r}, {self.due!r})"

    def as_dict(self) -> dict[str, float | None]:
        return {"interval": self.interval, "jitter": self.jitter, "debounce": self.debounce, "due": self.due}


def uniform() -> float:
    """A number in [0, 1) without importing random (which the idle parent would keep in memory)."""
    return int.from_bytes(os.urandom(4), "big") / 2**32


def serve(
    run_pass: Callable[[], Timing],
    stop: threading.Event,
    trigger: threading.Event,
    log: Callable[[str], None],
    clock: Callable[[], float] = time.time,
    rand: Callable[[], float] = uniform,
) -> None:
    """Pass after pass until `stop` is set; `run_pass` runs one and says how long to wait."""
    while not stop.is_set():
        started = time.monotonic()
        trigger.clear()
        timing = run_pass()
        wait = timing.interval + (rand() * 2 - 1) * timing.jitter
        if timing.due is not None:  # a held-back update is tried when it is due, not a poll later
            wait = min(wait, timing.due - clock() + 1)
        next_at = started + max(wait, timing.debounce)
        while not stop.is_set():
            left = next_at - time.monotonic()
            if left <= 0:
                break
            if trigger.wait(min(left, 1.0)):
                log(TRIGGERED)
                stop.wait(max(0.0, started + timing.debounce - time.monotonic()))
                break
