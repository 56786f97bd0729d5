"""When the agent's service mode runs a pass: every `interval` (+/- `jitter`) seconds, sooner when an
update held back becomes due or an address event arrives, never two passes within `debounce`.

One loop for both ways of running passes: in the same process (Agent.run_forever) and in a
short-lived child process per pass (the one-file agent's small idle parent, which must not import
the engine). Standard library only, so the idle parent can import it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

TRIGGERED = "triggered: an address or route changed"


@dataclass(frozen=True)
class Timing:
    """The config file's loop settings and, after a pass, when a held-back update is due (clock time)."""

    interval: float
    jitter: float
    debounce: float
    due: float | None = None


def serve(
    run_pass: Callable[[], Timing],
    stop: threading.Event,
    trigger: threading.Event,
    log: Callable[[str], None],
    clock: Callable[[], float] = time.time,
    rand: Callable[[], float] = random.random,
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
