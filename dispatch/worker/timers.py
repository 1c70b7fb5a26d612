"""The worker's timers by name: faust runs each at its interval; a tick can also be run once.

Timers read the wall clock (an edge) through the one clock the composition root was given,
and only ever emit events.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import faust

Tick = Callable[[], Awaitable[None]]


class Timers:
    def __init__(self, app: faust.App) -> None:
        self._app = app
        self.ticks: dict[str, Tick] = {}

    def every(self, interval_s: float, name: str) -> Callable[[Tick], Tick]:
        """Register `fn` as the timer `name`, run by faust every `interval_s` seconds."""

        def register(fn: Tick) -> Tick:
            if name in self.ticks:
                raise ValueError(f"two timers are named {name!r}")
            self.ticks[name] = fn
            self._app.timer(interval=interval_s, name=f"timer-{name}")(fn)
            return fn

        return register
