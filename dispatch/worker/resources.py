"""The worker's services: bootstrapped once, on first use, inside faust's event loop."""

from __future__ import annotations

import asyncio
import gc

import structlog

from dispatch.bootstrap import SERVING_POOL_FLOOR, Services, bootstrap
from dispatch.clock import Clock
from dispatch.paging.provider_link import ProviderLink
from dispatch.paging.telephony import Telephony
from dispatch.settings import Settings
from dispatch.worker.rehearsal import rehearse

log = structlog.get_logger(__name__)
WARM_TIMEOUT_S = 10.0


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
        self._frozen = False
        self._rehearsed = False
        self.link: ProviderLink | None = None  # reads the provider's account (from warm())

    async def get(self) -> Services:
        async with self._lock:
            if self._services is None:
                self._services = await bootstrap(
                    self._settings,
                    clock=self.clock,
                    telephony=self._telephony,
                    pool_floor=SERVING_POOL_FLOOR,
                )
                # every call reads its staff member and policy: kept while unchanged
                await self._services.memo.start()
            return self._services

    async def warm(self) -> None:
        """Everything the first page needs, before the worker says it is ready: the
        services (a pool with its connections, the telephony client with the SDK's
        resources loaded), a crisis call rehearsed (decided and read for, never appended or
        sent: dispatch/worker/rehearsal.py), a connection to the provider open
        (ProviderLink, which keeps it open from then on), then the objects of the start
        frozen out of the garbage collector's scans (they live as long as the worker:
        scanning them again and again only adds pauses). Never raises: a worker whose
        database is away still starts, and builds its services on first use as before; a
        provider away is logged by the link and the worker starts all the same (each page
        is retried on its own)."""
        try:
            async with asyncio.timeout(WARM_TIMEOUT_S):
                services = await self.get()
            warm = getattr(services.telephony, "warm", None)
            if callable(warm):
                warm()
        except Exception as exc:
            log.warning("worker_warm_up_failed", error=f"{type(exc).__name__}: {exc}"[:300])
            return
        if not self._rehearsed:  # once: warm() runs again after each rebalance
            self._rehearsed = True
            await rehearse(services, timeout_s=WARM_TIMEOUT_S)  # never raises
        if self.link is None:  # once
            self.link = ProviderLink(
                services.telephony, every_s=self._settings.twilio_keep_warm_s, timeout_s=5.0
            )
            await self.link.reach()
            self.link.start()
        if not self._frozen:  # once: later rebalances find the same long-lived objects
            gc.collect()
            gc.freeze()
            self._frozen = True

    async def close(self) -> None:
        if self.link is not None:
            await self.link.stop()
            self.link = None
        async with self._lock:
            if self._services is not None:
                await self._services.close()
                self._services = None
