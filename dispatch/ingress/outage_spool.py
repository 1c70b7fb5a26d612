"""The ingress spool that survives a PostgreSQL outage: PostgreSQL first, else a local file.

`record` keeps IngressSpool's contract: the events are durable when it returns; False for
a retry of an event already spooled. In the process that relays the spool (`start`: the
web edge), when PostgreSQL refuses the insert or does not answer within `db_timeout_s`, the
events are appended to the fallback file (fsync'ed) instead, and so is every later event
until the mover has brought the file into PostgreSQL: the spool order, which the relay
publishes in, stays the order in which events were accepted. The mover inserts with ON
CONFLICT DO NOTHING, so an insert that timed out but did commit, or a file moved twice
after a crash, is spooled once. The relay is IngressSpool's, unchanged. Elsewhere (a
command) a refused insert stays an error, for the person to retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import asyncpg
import structlog

from dispatch.bus import EventPublisher
from dispatch.clock import Clock
from dispatch.events import Envelope
from dispatch.events.codec import EventDecodeError, decode, encode
from dispatch.ingress.broker_topics import BrokerTopics
from dispatch.ingress.fallback_file import FallbackFile
from dispatch.ingress.redrive import Redrive
from dispatch.ingress.spool import IngressSpool
from dispatch.settings import Settings
from dispatch.tasks import cancel_and_wait

log = structlog.get_logger(__name__)

# What a database that cannot be reached looks like (refused, reset, timed out, shutting down).
DATABASE_DOWN: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # a connection left mid-operation when the server went away
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
)
MOVE_BATCH = 200


class OutageSpool(IngressSpool):
    def __init__(
        self,
        pool: asyncpg.Pool,
        publisher: EventPublisher,
        clock: Clock,
        *,
        fallback: FallbackFile,
        db_timeout_s: float = 2.0,
        move_every_s: float = 1.0,
        topics: BrokerTopics | None = None,
        redrive: Redrive | None = None,
    ) -> None:
        super().__init__(
            pool, publisher, clock, topics=topics, redrive=redrive, write_timeout_s=db_timeout_s
        )
        self.fallback = fallback
        self._db_timeout_s = db_timeout_s
        self._move_every_s = move_every_s
        self._file_lock = asyncio.Lock()
        self._file_fallback = False
        self._using_file = False
        self._filed: set[UUID] = set()
        self._filed_wake = asyncio.Event()
        self._mover: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, pool: asyncpg.Pool, publisher: EventPublisher, clock: Clock
    ) -> OutageSpool:
        """The spool of a process: its fallback file in STATE_DIR/ingress-fallback, the
        broker's topics checked before each relayed batch, unpaged contacts re-driven."""
        return cls(
            pool,
            publisher,
            clock,
            fallback=FallbackFile(Path(settings.state_dir) / "ingress-fallback"),
            db_timeout_s=settings.edge_db_timeout_s,
            topics=BrokerTopics(settings.kafka_bootstrap_servers, partitions=None),
            redrive=Redrive(
                pool,
                clock,
                after=timedelta(seconds=settings.redrive_after_s),
                lookback=timedelta(seconds=settings.redrive_lookback_s),
            ),
        )

    @property
    def using_file(self) -> bool:
        """Events are going to the fallback file (PostgreSQL was down, or it is not emptied)."""
        return self._using_file

    def use_file_when_down(self) -> None:
        """Let `record` fall back to the file: only in a process that moves it (`start`);
        elsewhere (a command) a refused insert is an error for the person to retry."""
        self._file_fallback = True

    async def record(self, events: Sequence[Envelope]) -> bool:
        """Spool events durably: in PostgreSQL, else in the fallback file."""
        if not self._using_file:
            try:
                async with asyncio.timeout(self._db_timeout_s):
                    return await super().record(events)
            except DATABASE_DOWN as exc:
                if not self._file_fallback:
                    raise
                self._using_file = True
                log.error("spool_database_down_using_file", error=type(exc).__name__,
                          file=str(self.fallback.pending_path))  # fmt: skip
        return await self._append(events)

    async def _append(self, events: Sequence[Envelope]) -> bool:
        async with self._file_lock:
            self._using_file = True
            await asyncio.to_thread(self.fallback.append, [encode(e) for e in events])
        fresh = events[0].event_id not in self._filed
        self._filed.update(e.event_id for e in events)
        for event in events:
            log.warning("event_spooled_to_file", **event.log_context())
        self._filed_wake.set()
        return fresh

    async def file_backlog(self) -> int:
        """Events in the fallback file not yet moved into PostgreSQL."""
        return await asyncio.to_thread(self.fallback.backlog)

    def start(self) -> None:
        """The relay, and the mover of the fallback file (which `record` may now use)."""
        super().start()
        self.use_file_when_down()
        self._mover = asyncio.create_task(self._move_loop(), name="ingress-file-mover")

    async def stop(self) -> None:
        mover, self._mover = self._mover, None
        await cancel_and_wait(mover)
        await super().stop()

    async def move_once(self) -> int:
        """Move the fallback file into PostgreSQL; returns how many events were moved.

        Webhooks keep appending while earlier lines are moved; once nothing is left, later
        events go to PostgreSQL directly again."""
        moved = 0
        while True:
            for claimed in await asyncio.to_thread(self.fallback.claim):
                moved += await self._move_file(claimed)
                await asyncio.to_thread(self.fallback.done, claimed)
            async with self._file_lock:  # no append can slip in between the check and the switch
                if await asyncio.to_thread(self.fallback.empty):
                    self._using_file = False
                    self._filed.clear()
                    break
        if moved:
            log.info("spool_file_moved", events=moved)
        return moved

    async def _move_file(self, claimed: Path) -> int:
        events: list[Envelope] = []
        for line in await asyncio.to_thread(lambda: list(self.fallback.lines(claimed))):
            try:
                events.append(decode(line))
            except EventDecodeError as exc:
                log.error("spool_file_line_unreadable", file=str(claimed), error=str(exc))
                await asyncio.to_thread(self.fallback.set_aside, line)
        for start in range(0, len(events), MOVE_BATCH):
            async with asyncio.timeout(self._db_timeout_s * 5):
                await IngressSpool.record(self, events[start : start + MOVE_BATCH])
        return len(events)

    async def _move_loop(self) -> None:
        if await asyncio.to_thread(self.fallback.backlog):
            self._using_file = True  # left by an earlier process: moved before anything new
        waiting_since_logged = False
        while True:
            if not self._using_file:
                await self._filed_wake.wait()
            self._filed_wake.clear()
            try:
                await self.move_once()
                waiting_since_logged = False
                continue
            except DATABASE_DOWN as exc:
                if not waiting_since_logged:
                    log.warning("spool_file_waits_for_database", error=type(exc).__name__)
                    waiting_since_logged = True
            except Exception as exc:  # not an outage: keep the file, say so, try again
                log.error("spool_file_move_failed", error=repr(exc)[:300])
            await asyncio.sleep(self._move_every_s)
