"""Pausing Python's cyclic garbage collector around work that builds many long-lived objects.

A zone transfer or a whole plan creates a few hundred thousand objects that all survive and hold no
reference cycles; the collector would rescan them again and again without finding garbage. Reference
counting still frees everything as usual while the collector is paused.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc(pause: bool = True) -> Iterator[None]:
    """Disable the cyclic collector for the block (when `pause`), then turn it back on.

    It is turned back on only if it was on before, so a caller that keeps it off (or an outer
    paused_gc) keeps it off; it is restored even when the block raises.
    """
    enabled = gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
