"""The projector: Kafka topics -> event archive + read models, exactly-once in effect.

Projectors of one name form a consumer group (projector-<name>), so two of them on one
database share the partitions. Offsets are never committed to Kafka: on each assignment the
partitions are sought to the next offset stored in projection_offsets (or the beginning).
Each poll's records (of every partition fetched) are decoded once, then applied in one
transaction that first locks their partitions' offset rows (in one order) and skips records
below them; the events are archived by one statement, their handlers' statements sent in
waves (projections.statements), the undecodable records dead-lettered and the offsets
written by one statement. When a handler refuses an event, that transaction is rolled back
and the poll applied again in a new one, event by event with a savepoint each
(docs/decisions/029). So a crash can only replay messages whose effects were rolled back,
and two projectors briefly holding one partition during a rebalance apply each record once,
in order (docs/decisions/012).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from dispatch.events import Envelope
from dispatch.events.codec import EventDecodeError, decode
from dispatch.log_throttle import LogThrottle
from dispatch.tasks import cancel_and_wait
from projections.handlers import ReadModelRegistry
from projections.project import READ_MODELS, Position, archive, archive_many, project
from projections.statements import record as record_statements
from projections.statements import run_waves

log = structlog.get_logger(__name__)

_REFUSED = (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError)


class ProjectorError(RuntimeError):
    """The projector could not start (e.g. its topics do not exist)."""


@dataclass(frozen=True, slots=True)
class Read:
    """A fetched record and what decoding its value gave, once: the event, or why not."""

    record: Any  # aiokafka's ConsumerRecord
    event: Envelope | None
    error: str | None = None

    @classmethod
    def of(cls, record: Any) -> Read:
        try:
            if record.value is None:
                raise EventDecodeError("message has no value")
            return cls(record, decode(record.value))
        except EventDecodeError as exc:
            return cls(record, None, str(exc))

    @property
    def position(self) -> Position:
        return Position(self.record.topic, self.record.partition, self.record.offset)


BUSY_TRANSACTIONS = 25  # begun within one second: the projector paces (decision 037)


class Projector:
    def __init__(
        self,
        pool: asyncpg.Pool,
        bootstrap_servers: str,
        topics: Sequence[str],
        name: str = "read-models",
        *,
        fetch_max_wait_ms: int = 20,
        max_batch: int = 2000,
        poll_timeout_ms: int = 200,
        pace_s: float = 0.0,
        busy_transactions: int = BUSY_TRANSACTIONS,
        retry_backoff_s: float = 0.2,
        topic_wait_s: float = 30.0,
        read_models: ReadModelRegistry = READ_MODELS,
        session_timeout_s: float = 6.0,
        heartbeat_interval_s: float = 1.0,
    ) -> None:
        self.name = name
        self._read_models = read_models
        self._pool = pool
        self._servers = bootstrap_servers
        self._topics = tuple(topics)
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._max_batch = max_batch
        self._poll_timeout_ms = poll_timeout_ms
        # Busy (that many transactions begun within the last second): at most one
        # transaction per pace_s, each taking what gathered meanwhile (decision 037).
        self._pace_s = pace_s
        self._began: deque[float] = deque(maxlen=busy_transactions)
        self._backoff_s = retry_backoff_s
        self._topic_wait_s = topic_wait_s
        # tansu holds a group join for half the session timeout (decision 003)
        self._session_ms = int(session_timeout_s * 1000)
        self._heartbeat_ms = int(heartbeat_interval_s * 1000)
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._assigned: list[TopicPartition] = []
        self._next: dict[TopicPartition, int] = {}
        self._joined = asyncio.Event()
        self._sought_ms: dict[TopicPartition, int] = {}  # when each partition was last sought
        # While the broker or the database is away these repeat every poll: bounded.
        self._quiet = LogThrottle(every_s=30.0)

    # --- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """Join the projector's consumer group and return once partitions are assigned (and
        sought to the stored offsets)."""
        if self._consumer is not None:
            raise ProjectorError(f"projector {self.name} already started")
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._servers,
            group_id=f"projector-{self.name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self._fetch_max_wait_ms,
            client_id=f"projector-{self.name}",
            session_timeout_ms=self._session_ms,
            heartbeat_interval_ms=self._heartbeat_ms,
        )
        await consumer.start()
        try:
            await self._partitions(consumer)  # the topics exist before the group is joined
            consumer.subscribe(list(self._topics), listener=_SeekToStoredOffsets(self))
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        self._task = asyncio.create_task(self._run(consumer), name=f"projector-{self.name}")
        try:
            await asyncio.wait_for(self._joined.wait(), self._topic_wait_s)
        except TimeoutError:
            await self.stop()
            raise ProjectorError(f"projector {self.name} got no assignment") from None

    async def _assigned_now(
        self, consumer: AIOKafkaConsumer, assigned: set[TopicPartition]
    ) -> None:
        """The group gave this projector `assigned`: seek each to its stored offset."""
        self._assigned = sorted(assigned)
        stored = await self._stored_offsets()
        for tp in assigned:
            # Offset 0 is the beginning (event topics keep everything); a log that starts
            # later answers out of range and aiokafka resets to its earliest offset.
            next_offset = stored.get((tp.topic, tp.partition), 0)
            consumer.seek(tp, next_offset)
            self._next[tp] = next_offset
            self._sought_ms[tp] = int(time.time() * 1000)
        self._joined.set()
        log.info(
            "projector_assigned",
            projection=self.name,
            partitions=len(self._assigned),
            resumed=sum(1 for tp in assigned if (tp.topic, tp.partition) in stored),
        )

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await stop_consumer(consumer, name=self.name)
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
        fresh: dict[TopicPartition, set[int]] = {}
        deadline = time.monotonic() + timeout
        while True:
            if self._task is None or self._task.done():
                raise ProjectorError(f"projector {self.name} is not running")
            behind = not self._joined.is_set()
            for tp in self._assigned:
                polled = consumer.last_poll_timestamp(tp)
                if polled is not None and polled > since_ms:
                    fresh.setdefault(tp, set()).add(polled)
                highwater = consumer.highwater(tp)
                # next > highwater: the log restarted below our position; _run rewinds it.
                seen = fresh.get(tp, set())
                if len(seen) < 2 or highwater is None or self._next.get(tp) != highwater:
                    behind = True
            if not behind:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"projector {self.name} not caught up within {timeout}s; lag {self.lag()}"
                )
            await asyncio.sleep(0.01)

    # --- the loop ------------------------------------------------------------------------
    def _pace_wait(self, now: float) -> float:
        """Seconds to wait before the next poll: none unless the projector is busy."""
        began = self._began
        busy = len(began) == began.maxlen and now - began[0] < 1.0
        return began[-1] + self._pace_s - now if busy else 0.0

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        loop = asyncio.get_running_loop()
        while True:
            wait = self._pace_wait(loop.time())
            if wait > 0:  # records are coming fast: gather them into fewer transactions
                await asyncio.sleep(wait)
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
            # Records may arrive for a partition whose assignment is still being sought:
            # _apply skips what the stored offset says was applied already.
            for tp in sorted({*self._assigned, *batches}):
                self._next.setdefault(tp, 0)
                if self._log_rewound(consumer, tp):
                    reposition = not batches.get(tp)
                    await self._retrying([tp], partial(self._rewind, tp, reposition=reposition))
            fetched = {
                tp: [Read.of(r) for r in records] for tp, records in batches.items() if records
            }
            if fetched:
                self._began.append(loop.time())
                await self._retrying(sorted(fetched), partial(self._apply, fetched))

    def _log_rewound(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> bool:
        """Is the partition's log now behind our stored position? (An embedded broker that
        restarted empty while PostgreSQL kept the offsets.) Both brokers then report a high
        watermark below our position: tansu with no records, real Kafka with records from
        its earliest offset (aiokafka resets after OFFSET_OUT_OF_RANGE). Only a watermark
        fetched after the partition was last sought counts: records and watermarks fetched
        before a rebalance's seek are not a rewind (docs/decisions/012)."""
        highwater = consumer.highwater(tp)
        polled = consumer.last_poll_timestamp(tp)
        fresh = polled is not None and polled > self._sought_ms.get(tp, 0)
        return fresh and highwater is not None and highwater < self._next[tp]

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

    async def _retrying(
        self, tps: Sequence[TopicPartition], step: Callable[[], Awaitable[None]]
    ) -> None:
        """Run one database step for some partitions, retrying (loudly) while it fails."""
        backoff = self._backoff_s
        while True:
            try:
                await step()
                return
            except Exception as exc:  # database down or a bug: never skip, keep trying
                self._quiet.emit(
                    ("batch_failed", tps[0]),
                    log.error,
                    "projection_batch_failed",
                    projection=self.name,
                    topic=tps[0].topic,
                    partition=tps[0].partition,
                    partitions=len(tps),
                    next_offset=self._next[tps[0]],
                    error=repr(exc),
                    retry_in_s=backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _apply(self, batches: Mapping[TopicPartition, Sequence[Read]]) -> None:
        """One poll's records, of every partition, in one transaction with their offsets:
        together (a few statements) first; when a handler refuses an event, that
        transaction is rolled back and a second one applies the records one by one."""
        parts = sorted(batches)
        ends = {tp: batches[tp][-1].record.offset + 1 for tp in parts}
        async with self._pool.acquire() as conn:
            try:
                async with conn.transaction():
                    reads = await self._unapplied(conn, batches)
                    await self._apply_together(conn, reads)
                    await self._store_offsets(conn, ends)
            except _REFUSED:
                async with conn.transaction():
                    # Locked again: what another projector applied meanwhile is skipped.
                    reads = await self._unapplied(conn, batches)
                    for read in reads:
                        with structlog.contextvars.bound_contextvars(
                            topic=read.record.topic,
                            partition=read.record.partition,
                            offset=read.record.offset,
                        ):
                            await self._apply_one(conn, read)
                    await self._store_offsets(conn, ends)
        for tp in parts:
            self._next[tp] = max(self._next.get(tp, 0), ends[tp])
        log.debug("projection_batch_applied", projection=self.name, records=len(reads))

    async def _unapplied(
        self, conn: asyncpg.Connection, batches: Mapping[TopicPartition, Sequence[Read]]
    ) -> list[Read]:
        """The poll's records not applied yet, their partitions' offset rows locked: another
        projector of this name may have held a partition until a rebalance; its offset row
        says where it stopped, and what it applied is not applied again."""
        parts = sorted(batches)
        stored = await self._lock_offsets(conn, parts)
        return [r for tp in parts for r in batches[tp] if r.record.offset >= stored[tp]]

    async def _apply_together(self, conn: asyncpg.Connection, reads: Sequence[Read]) -> None:
        """The records in a few round trips: every event archived by one statement, then
        the handlers' statements in waves (projections.statements); an undecodable record
        dead-lettered. A handler's refusal (_REFUSED) spoils the caller's transaction."""
        events = [(r.event, r.position) for r in reads if r.event is not None]
        await archive_many(conn, events)
        await run_waves(conn, await record_statements(self._read_models, (e for e, _ in events)))
        for read in reads:
            if read.event is None:
                with structlog.contextvars.bound_contextvars(
                    topic=read.record.topic,
                    partition=read.record.partition,
                    offset=read.record.offset,
                ):
                    await self._dead_letter(conn, read.record, "decode", read.error or "", None)

    async def _apply_one(self, conn: asyncpg.Connection, read: Read) -> None:
        event, position = read.event, read.position
        if event is None:
            await self._dead_letter(conn, read.record, "decode", read.error or "", None)
            return
        with structlog.contextvars.bound_contextvars(**event.log_context()):
            try:
                async with conn.transaction():  # a savepoint: a refused event spoils no other
                    await project(conn, event, position, read_models=self._read_models)
            except _REFUSED as exc:
                with contextlib.suppress(*_REFUSED):
                    async with conn.transaction():
                        await archive(conn, event, position)
                await self._dead_letter(conn, read.record, "project", repr(exc), event.event_id)

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

    async def _lock_offsets(
        self, conn: asyncpg.Connection, parts: Sequence[TopicPartition]
    ) -> dict[TopicPartition, int]:
        """The partitions' stored next offsets, their rows locked (in one order, so two
        projectors never wait for each other in a circle) until the transaction ends. One
        statement: a missing row is made (offset 0); an existing one is locked by the
        no-op update, which returns its newest committed offset (after waiting for a
        projector that held it), as SELECT ... FOR UPDATE would."""
        rows = await conn.fetch(
            """INSERT INTO projection_offsets AS o (projection, topic, partition, next_offset)
               SELECT $1, t, p, 0 FROM unnest($2::text[], $3::int[]) AS x(t, p)
               ORDER BY t, p
               ON CONFLICT (projection, topic, partition) DO UPDATE
               SET next_offset = o.next_offset
               RETURNING topic, partition, next_offset""",
            self.name,
            [tp.topic for tp in parts],
            [tp.partition for tp in parts],
        )
        return {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}

    async def _store_offsets(
        self, conn: asyncpg.Connection, ends: Mapping[TopicPartition, int]
    ) -> None:
        """Each partition's next offset, by one statement (never moved back)."""
        await conn.execute(
            """INSERT INTO projection_offsets AS o (projection, topic, partition, next_offset)
               SELECT $1, t, p, n FROM unnest($2::text[], $3::int[], $4::bigint[]) AS x(t, p, n)
               ON CONFLICT (projection, topic, partition) DO UPDATE
               SET next_offset = GREATEST(o.next_offset, EXCLUDED.next_offset)""",
            self.name,
            [tp.topic for tp in ends],
            [tp.partition for tp in ends],
            list(ends.values()),
        )

    async def _stored_offsets(self) -> dict[tuple[str, int], int]:
        rows = await self._pool.fetch(
            """SELECT topic, partition, next_offset FROM projection_offsets
               WHERE projection = $1 AND topic = ANY($2::text[])""",
            self.name,
            list(self._topics),
        )
        return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


class _SeekToStoredOffsets(ConsumerRebalanceListener):  # type: ignore[misc]
    """The projector's rebalance listener: offsets live in PostgreSQL, not in Kafka."""

    def __init__(self, projector: Projector) -> None:
        self._projector = projector

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        gone = set(revoked)
        self._projector._assigned = [tp for tp in self._projector._assigned if tp not in gone]

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._projector._assigned_now(self._projector._require_consumer(), set(assigned))


CONSUMER_STOP_S = 10.0  # aiokafka's stop waits on its coordinator: at most this long


async def stop_consumer(consumer: AIOKafkaConsumer, *, name: str) -> None:
    """aiokafka's `stop()`, bounded. With the broker gone, its group coordinator can be
    looking for a coordinator when asked to close and wait for one until the broker is back;
    the supervisor restarts the broker only once the consumer stopped, so it would wait
    forever. After CONSUMER_STOP_S its fetcher and connections are closed anyway, and the
    stop is logged."""
    try:
        async with asyncio.timeout(CONSUMER_STOP_S):
            await consumer.stop()
    except TimeoutError:
        log.warning("consumer_stop_abandoned", projection=name, after_s=CONSUMER_STOP_S)
        for part in (getattr(consumer, "_fetcher", None), getattr(consumer, "_client", None)):
            if part is not None:
                with contextlib.suppress(Exception):
                    await part.close()
    except asyncio.CancelledError:
        # With the broker gone, aiokafka's stop() lets out the CancelledError of its own
        # cancelled fetch; only a cancellation of this task goes on.
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
