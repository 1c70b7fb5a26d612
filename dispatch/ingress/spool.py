"""The ingress spool: events are stored in PostgreSQL first, then relayed to Kafka.

A webhook answers the caller as soon as its event is durably spooled; Kafka being slow or
down never delays the TwiML. The relay publishes in spool order and marks rows published
only after the broker acknowledged them, so nothing is lost and a retry can only repeat
an event (same event id), which every consumer deduplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import asyncpg
import structlog

from dispatch.bus import EventPublisher
from dispatch.clock import Clock
from dispatch.events import Envelope
from dispatch.events.codec import decode, encode
from dispatch.events.registry import topic_of

log = structlog.get_logger(__name__)


class IngressSpool:
    def __init__(
        self,
        pool: asyncpg.Pool,
        publisher: EventPublisher,
        clock: Clock,
        *,
        batch_size: int = 200,
        idle_poll_s: float = 1.0,
    ) -> None:
        self._pool = pool
        self._publisher = publisher
        self._clock = clock
        self._batch = batch_size
        self._idle_poll_s = idle_poll_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def record(self, events: Sequence[Envelope]) -> bool:
        """Spool events atomically; False when the first was already spooled (a retry)."""
        now = self._clock.now()
        async with self._pool.acquire() as conn, conn.transaction():
            fresh = False
            for i, event in enumerate(events):
                inserted = await conn.fetchval(
                    """INSERT INTO ingress_spool (event_id, topic, key, value, spooled_at)
                       VALUES ($1, $2, $3, $4, $5)
                       ON CONFLICT (event_id) DO NOTHING RETURNING seq""",
                    event.event_id,
                    topic_of(event),
                    event.key,
                    encode(event),
                    now,
                )
                if i == 0:
                    fresh = inserted is not None
        self._wake.set()
        return fresh

    async def pending(self) -> int:
        count: int = await self._pool.fetchval(
            "SELECT count(*) FROM ingress_spool WHERE published_at IS NULL"
        )
        return count

    def start(self) -> None:
        self._task = asyncio.create_task(self._relay(), name="ingress-spool-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def relay_once(self) -> int:
        """Publish one batch of unpublished events in spool order; returns how many."""
        rows = await self._pool.fetch(
            """SELECT seq, value FROM ingress_spool WHERE published_at IS NULL
               ORDER BY seq LIMIT $1""",
            self._batch,
        )
        if not rows:
            return 0
        await self._publisher.publish([decode(bytes(r["value"])) for r in rows])
        await self._pool.execute(
            "UPDATE ingress_spool SET published_at = $2 WHERE seq = ANY($1::bigint[])",
            [r["seq"] for r in rows],
            self._clock.now(),
        )
        log.info("spool_relayed", events=len(rows))
        return len(rows)

    async def _relay(self) -> None:
        backoff = 0.2
        while True:
            self._wake.clear()
            try:
                sent = await self.relay_once()
                backoff = 0.2
            except Exception as exc:  # broker or database down: keep the rows, retry later
                log.warning("spool_relay_failed", error=str(exc), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._idle_poll_s)
