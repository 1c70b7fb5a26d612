"""In-memory readings for the health monitor, metrics and the web app's /health and /metrics."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

from aiohttp.test_utils import TestClient, TestServer

from dispatch.bootstrap import bootstrap
from dispatch.bus import EventPublisher
from dispatch.health import HealthServices
from dispatch.health.metrics import Metrics
from dispatch.health.monitor import HealthMonitor
from dispatch.health.ports import FirstPage, StepMove
from dispatch.health.report import (
    BrokerReading,
    ContactReading,
    Fullest,
    Limits,
    SpoolReading,
    WorkerBeat,
)
from dispatch.settings import Settings
from dispatch.web.app import make_web_app

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
LIMITS = Limits(worker_stale_s=15, spool_stale_s=30, page_wait_s=30)


class MovableClock:
    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class Hangs:
    """What a part does when asked: answer, refuse (raise) or never answer."""

    def __init__(self) -> None:
        self.hang = False
        self.error: Exception | None = None
        self.calls = 0

    async def _answer(self) -> None:
        self.calls += 1
        if self.hang:
            await asyncio.Event().wait()
        if self.error is not None:
            raise self.error


class FakeReadings(Hangs):
    """A healthy system by default: one worker consuming now, nothing waiting."""

    def __init__(self, clock: MovableClock) -> None:
        super().__init__()
        self.beats = [WorkerBeat("host:1", clock.at, clock.at, ("act.client-events:0",), 0)]
        self.spooled = SpoolReading(pending=0, oldest_unpublished_at=None)
        self.contacts = ContactReading(unpaged=0, oldest_at=None)

    async def ping(self) -> None:
        await self._answer()

    async def worker_beats(self) -> list[WorkerBeat]:
        await self._answer()
        return self.beats

    async def spool(self) -> SpoolReading:
        await self._answer()
        return self.spooled

    async def unpaged_contacts(self, since: datetime) -> ContactReading:
        await self._answer()
        return self.contacts


class FakeBroker(Hangs):
    def __init__(self) -> None:
        super().__init__()
        self.missing: tuple[str, ...] = ()
        self.fullest: Fullest | None = None

    async def read(self) -> BrokerReading:
        await self._answer()
        return BrokerReading(topics_missing=self.missing, fullest=self.fullest)


class FakeArchive:
    def __init__(self) -> None:
        self.pages: list[FirstPage] = []
        self.moves: list[StepMove] = []
        self.redriven: list[tuple[uuid.UUID, datetime]] = []

    async def first_pages(self, since: datetime) -> list[FirstPage]:
        return [p for p in self.pages if p.contact_at >= since]

    async def step_moves(self, since: datetime) -> list[StepMove]:
        return [m for m in self.moves if m.deadline_at >= since]

    async def redrives(self, since: datetime) -> list[tuple[uuid.UUID, datetime]]:
        return [r for r in self.redriven if r[1] >= since]


class Restarts:
    def __init__(self, counts: Mapping[str, int]) -> None:
        self.counts = counts

    def restart_counts(self) -> Mapping[str, int]:
        return self.counts


class FakeHealth:
    """A monitor and metrics over fakes, as the composition root would wire them."""

    def __init__(self, *, timeout_s: float = 0.5, cache_s: float = 0.0) -> None:
        self.clock = MovableClock()
        self.readings = FakeReadings(self.clock)
        self.broker = FakeBroker()
        self.archive = FakeArchive()
        self.monitor = HealthMonitor(
            self.readings, self.broker, self.clock, LIMITS,
            lookback_s=3600, timeout_s=timeout_s, cache_s=cache_s,
        )  # fmt: skip
        self.metrics = Metrics(
            self.monitor, self.archive, self.clock, lookback_s=3600, timeout_s=timeout_s
        )
        self.services = HealthServices(monitor=self.monitor, metrics=self.metrics, heartbeat=None)


Client = TestClient[Any, Any]


@asynccontextmanager
async def health_api(health: FakeHealth) -> AsyncIterator[Client]:
    """The whole web app with its health services over fakes (no database, no broker)."""
    real = await bootstrap(
        Settings(), clock=health.clock, pool=cast(Any, object()),
        publisher=EventPublisher("127.0.0.1:9"),
    )  # fmt: skip
    services = replace(real, health=health.services)
    async with TestClient(TestServer(make_web_app(services))) as client:
        yield client
    await real.close()
