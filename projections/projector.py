"""The projector: Kafka topics -> event archive + read models, exactly-once in effect.

No consumer group: every partition of the topics is assigned by hand and sought to the
next offset stored in projection_offsets (or the beginning). Each fetched batch of one
partition is applied in one transaction with its offset row, so a crash can only replay
messages whose effects were rolled back, and project() is idempotent besides.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from dispatch.events.codec import EventDecodeError, decode
from dispatch.log_throttle import LogThrottle
from projections.handlers import ReadModelRegistry
from projections.project import READ_MODELS, Position, archive, project

log = structlog.get_logger(__name__)

_REFUSED = (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError)


class ProjectorError(RuntimeError):
    """The projector could not start (e.g. its topics do not exist)."""


class Projector:
    def __init__(
        self,
        pool: asyncpg.Pool,
        bootstrap_servers: str,
        topics: Sequence[str],
        name: str = "read-models",
        *,
        fetch_max_wait_ms: int = 20,
        max_batch: int = 500,
        poll_timeout_ms: int = 200,
        retry_backoff_s: float = 0.2,
        topic_wait_s: float = 30.0,
        read_models: ReadModelRegistry = READ_MODELS,
    ) -> None:
        self.name = name
        self._read_models = read_models
        self._pool = pool
        self._servers = bootstrap_servers
        self._topics = tuple(topics)
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._max_batch = max_batch
        self._poll_timeout_ms = poll_timeout_ms
        self._backoff_s = retry_backoff_s
        self._topic_wait_s = topic_wait_s
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._assigned: list[TopicPartition] = []
        self._next: dict[TopicPartition, int] = {}
        # While the broker or the database is away these repeat every poll: bounded.
        self._quiet = LogThrottle(every_s=30.0)

    # --- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """Assign every partition, seek to the stored offsets, start consuming."""
        if self._consumer is not None:
            raise ProjectorError(f"projector {self.name} already started")
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self._fetch_max_wait_ms,
            client_id=f"projector-{self.name}",
        )
        await consumer.start()
        try:
            self._assigned = await self._partitions(consumer)
            consumer.assign(self._assigned)
            stored = await self._stored_offsets()
            for tp in self._assigned:
                next_offset = stored.get((tp.topic, tp.partition))
                if next_offset is None:
                    await consumer.seek_to_beginning(tp)
                else:
                    consumer.seek(tp, next_offset)
                self._next[tp] = next_offset or 0
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        self._task = asyncio.create_task(self._run(consumer), name=f"projector-{self.name}")
        log.info(
            "projector_started",
            projection=self.name,
            partitions=len(self._assigned),
            resumed=len(stored),
        )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            try:
                await consumer.stop()
            except asyncio.CancelledError:
                # With the broker gone, aiokafka's stop() lets out the CancelledError of
                # its own cancelled fetch; only a cancellation of this task goes on.
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
            log.info("projector_stopped", projection=self.name)

    # --- progress ------------------------------------------------------------------------
    def lag(self) -> dict[str, int | None]:
        """Messages behind the last fetched high watermark, per topic/partition."""
        consumer = self._require_consumer()
        out: dict[str, int | None] = {}
        for tp in self._assigned:
            highwater = consumer.highwater(tp)
            out[f"{tp.topic}/{tp.partition}"] = (
                None if highwater is None else max(0, highwater - self._next.get(tp, 0))
            )
        return out

    async def wait_until_caught_up(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Return once every message published before this call has been projected.

        The target is the high watermark the consumer's own fetch responses report, taken
        from the second fetch response that arrives after this call (the first may answer
        a request sent before it). end_offsets() is not used: the embedded broker (tansu)
        answers ListOffsets "latest" with the first offset of the newest batch + 1, which
        is short of the real end whenever that batch held more than one record.
        """
        consumer = self._require_consumer()
        since_ms = int(time.time() * 1000)
        fresh: dict[TopicPartition, set[int]] = {tp: set() for tp in self._assigned}
        deadline = time.monotonic() + timeout
        while True:
            if self._task is None or self._task.done():
                raise ProjectorError(f"projector {self.name} is not running")
            behind = False
            for tp in self._assigned:
                polled = consumer.last_poll_timestamp(tp)
                if polled is not None and polled > since_ms:
                    fresh[tp].add(polled)
                highwater = consumer.highwater(tp)
                # next > highwater: the log restarted below our position; _run rewinds it.
                if len(fresh[tp]) < 2 or highwater is None or self._next[tp] != highwater:
                    behind = True
            if not behind:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"projector {self.name} not caught up within {timeout}s; lag {self.lag()}"
                )
            await asyncio.sleep(0.01)

    # --- the loop ------------------------------------------------------------------------
    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                batches = await consumer.getmany(
                    timeout_ms=self._poll_timeout_ms, max_records=self._max_batch
                )
            except KafkaError as exc:
                self._quiet.emit(
                    "fetch_failed",
                    log.warning,
                    "projector_fetch_failed",
                    projection=self.name,
                    error=repr(exc),
                )
                await asyncio.sleep(self._backoff_s)
                continue
            for tp in self._assigned:
                records = batches.get(tp) or []
                if self._log_rewound(consumer, tp, records):
                    await self._retrying(tp, partial(self._rewind, tp, reposition=not records))
                if records:
                    await self._retrying(tp, partial(self._apply, tp, records))

    def _log_rewound(
        self, consumer: AIOKafkaConsumer, tp: TopicPartition, records: Sequence[Any]
    ) -> bool:
        """Is the partition's log now behind our stored position? (An embedded broker that
        restarted empty while PostgreSQL kept the offsets.) Real Kafka answers a fetch past
        the end with OFFSET_OUT_OF_RANGE and aiokafka resets to the earliest offset, so
        records arrive from below our position; tansu answers with no records and a high
        watermark below our position."""
        highwater = consumer.highwater(tp)
        below = bool(records) and records[0].offset < self._next[tp]
        return below or (highwater is not None and highwater < self._next[tp])

    async def _rewind(self, tp: TopicPartition, *, reposition: bool) -> None:
        """Project the partition again from its beginning (idempotent: no row changes twice)."""
        consumer = self._require_consumer()
        self._quiet.emit(
            ("rewound", tp),
            log.warning,
            "projection_log_rewound",
            projection=self.name,
            topic=tp.topic,
            partition=tp.partition,
            stored_next_offset=self._next[tp],
            highwater=consumer.highwater(tp),
        )
        await self._pool.execute(
            """UPDATE projection_offsets SET next_offset = 0
               WHERE projection = $1 AND topic = $2 AND partition = $3""",
            self.name,
            tp.topic,
            tp.partition,
        )
        self._next[tp] = 0
        if reposition:  # aiokafka did not reset the position itself
            await consumer.seek_to_beginning(tp)

    async def _retrying(self, tp: TopicPartition, step: Callable[[], Awaitable[None]]) -> None:
        """Run one database step for a partition, retrying (loudly) while it fails."""
        backoff = self._backoff_s
        while True:
            try:
                await step()
                return
            except Exception as exc:  # database down or a bug: never skip, keep trying
                self._quiet.emit(
                    ("batch_failed", tp),
                    log.error,
                    "projection_batch_failed",
                    projection=self.name,
                    topic=tp.topic,
                    partition=tp.partition,
                    next_offset=self._next[tp],
                    error=repr(exc),
                    retry_in_s=backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _apply(self, tp: TopicPartition, records: Sequence[Any]) -> None:
        next_offset = records[-1].offset + 1
        async with self._pool.acquire() as conn, conn.transaction():
            for record in records:
                with structlog.contextvars.bound_contextvars(
                    topic=record.topic, partition=record.partition, offset=record.offset
                ):
                    await self._apply_one(conn, record)
            await conn.execute(
                """INSERT INTO projection_offsets AS o (projection, topic, partition, next_offset)
                   VALUES ($1, $2, $3, $4)
                   ON CONFLICT (projection, topic, partition) DO UPDATE
                   SET next_offset = GREATEST(o.next_offset, EXCLUDED.next_offset)""",
                self.name,
                tp.topic,
                tp.partition,
                next_offset,
            )
        self._next[tp] = max(self._next.get(tp, 0), next_offset)
        log.debug("projection_batch_applied", projection=self.name, records=len(records))

    async def _apply_one(self, conn: asyncpg.Connection, record: Any) -> None:
        position = Position(record.topic, record.partition, record.offset)
        try:
            if record.value is None:
                raise EventDecodeError("message has no value")
            event = decode(record.value)
        except EventDecodeError as exc:
            await self._dead_letter(conn, record, "decode", str(exc), None)
            return
        with structlog.contextvars.bound_contextvars(**event.log_context()):
            try:
                async with conn.transaction():  # a savepoint: a refused event spoils no other
                    await project(conn, event, position, read_models=self._read_models)
            except _REFUSED as exc:
                with contextlib.suppress(*_REFUSED):
                    async with conn.transaction():
                        await archive(conn, event, position)
                await self._dead_letter(conn, record, "project", repr(exc), event.event_id)

    async def _dead_letter(
        self, conn: asyncpg.Connection, record: Any, stage: str, error: str, event_id: Any
    ) -> None:
        stamp = (
            datetime.fromtimestamp(record.timestamp / 1000, tz=UTC)
            if record.timestamp is not None and record.timestamp >= 0
            else None
        )
        await conn.execute(
            """INSERT INTO dead_letters (projection, topic, partition, "offset", stage, error,
                                         event_id, key, raw, message_timestamp)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
               ON CONFLICT DO NOTHING""",
            self.name,
            record.topic,
            record.partition,
            record.offset,
            stage,
            error,
            event_id,
            record.key,
            record.value,
            stamp,
        )
        log.error("event_dead_lettered", projection=self.name, stage=stage, error=error[:500])

    # --- helpers -------------------------------------------------------------------------
    def _require_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise ProjectorError(f"projector {self.name} is not started")
        return self._consumer

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        deadline = time.monotonic() + self._topic_wait_s
        while True:
            await consumer.topics()  # refreshes the cluster metadata
            found = {t: consumer.partitions_for_topic(t) for t in self._topics}
            missing = sorted(t for t, parts in found.items() if not parts)
            if not missing:
                return [TopicPartition(t, p) for t in self._topics for p in sorted(found[t])]
            if time.monotonic() >= deadline:
                raise ProjectorError(f"topics {missing} do not exist on {self._servers}")
            await asyncio.sleep(0.2)

    async def _stored_offsets(self) -> dict[tuple[str, int], int]:
        rows = await self._pool.fetch(
            """SELECT topic, partition, next_offset FROM projection_offsets
               WHERE projection = $1 AND topic = ANY($2::text[])""",
            self.name,
            list(self._topics),
        )
        return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
