"""Python's cycle collector held off while a burst of pure work allocates.

The collector runs every few hundred container allocations, and each run walks what the
young generations hold: while a batch folds thousands of events, every run walks the
batch's growing results again and promotes them, until a full collection walks every
object the process keeps. Almost nothing a fold allocates is in a reference cycle (it is
freed by its reference count the moment it is dropped), so that work finds nothing.
Paused, the collector runs once when the burst is over, over what survived it.

`paused()` nests and may be held by several coroutines at once: the collector is on again
when the last holder leaves, and only if it was on when the first one came. Hold it over
CPU work, not over waits on the network (a wait does no harm, but it lengthens the pause
for everything else in the process). docs/decisions/041.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_holders = 0
_was_enabled = False


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """The cycle collector off for the block (see the module's doc)."""
    global _holders, _was_enabled
    if _holders == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _holders += 1
    try:
        yield
    finally:
        _holders -= 1
        if _holders == 0 and _was_enabled:
            gc.enable()
