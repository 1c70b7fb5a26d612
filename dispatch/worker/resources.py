"""The worker's services: bootstrapped once, on first use, inside faust's event loop."""

from __future__ import annotations

import asyncio

from dispatch.bootstrap import Services, bootstrap
from dispatch.clock import Clock
from dispatch.paging.telephony import Telephony
from dispatch.settings import Settings


class WorkerServices:
    """Holds the composition root's services for the agents and timers of one worker.

    faust starts its own event loop after the app is declared, so the services (a connection
    pool, an aiohttp session) are built by the first agent or timer that asks.
    """

    def __init__(
        self, settings: Settings, *, clock: Clock, telephony: Telephony | None = None
    ) -> None:
        self._settings = settings
        self.clock = clock
        self._telephony = telephony
        self._services: Services | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Services:
        async with self._lock:
            if self._services is None:
                self._services = await bootstrap(
                    self._settings, clock=self.clock, telephony=self._telephony
                )
            return self._services

    async def close(self) -> None:
        async with self._lock:
            if self._services is not None:
                await self._services.close()
                self._services = None
