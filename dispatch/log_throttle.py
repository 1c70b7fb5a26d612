"""Bounded logging for things that repeat while a part is down (reconnects, rewinds).

A throttle lets the first line of a kind through at once, then at most one line per
`every_s` seconds, and says how many lines it held back meanwhile: an outage of minutes
is a handful of lines, never thousands.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from typing import Any


class LogThrottle:
    """At most one line per key every `every_s` seconds."""

    def __init__(
        self, every_s: float = 30.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._every_s = every_s
        self._clock = clock
        self._last: dict[Hashable, float] = {}
        self._held: dict[Hashable, int] = {}

    def allow(self, key: Hashable) -> int | None:
        """None: stay quiet this time. A number: log now; it is how many lines of this key
        were held back since the last one logged."""
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._every_s:
            self._held[key] = self._held.get(key, 0) + 1
            return None
        self._last[key] = now
        return self._held.pop(key, 0)

    def emit(self, key: Hashable, method: Callable[..., Any], event: str, **fields: Any) -> None:
        """Call a structlog method (`log.warning`) with the event when `allow(key)` lets it
        through, adding `held`: the lines of this key held back since the last one."""
        held = self.allow(key)
        if held is not None:
            method(event, **fields, held=held)


class RepeatedRecordFilter(logging.Filter):
    """A stdlib logging filter for third-party libraries (aiokafka) that log every failed
    reconnect: a message template (logger, level, format string) passes at most once per
    `every_s` seconds, with the count of the held-back repeats appended."""

    def __init__(self, every_s: float = 30.0, *, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self._throttle = LogThrottle(every_s, clock=clock)

    def filter(self, record: logging.LogRecord) -> bool:
        held = self._throttle.allow((record.name, record.levelno, str(record.msg)))
        if held is None:
            return False
        if held:
            record.msg = f"{record.msg} [{held} similar lines held back]"
        return True
