"""A virtual clock for the soak's timing code: sleeps return at once, in wake-up order."""

from __future__ import annotations

import asyncio


class FakeClock:
    """Virtual time: tasks ready now run first, then the earliest pending sleep wakes."""

    def __init__(self) -> None:
        self.now = 100.0
        self._pending: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake = self.now + seconds
        self._pending.append(wake)
        try:
            await asyncio.sleep(0)
            while self.now < wake:
                if wake == min(self._pending):
                    self.now = wake
                else:
                    await asyncio.sleep(0)
        finally:
            self._pending.remove(wake)
