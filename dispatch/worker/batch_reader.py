"""A topic read in batches by a consumer group of its own, outside faust's streams.

faust hands each event through its conductor, a channel queue and the stream's iterator
before an agent sees it: measured on this machine, two agents that do nothing on a topic
top out at about 4,300 events/s, while one aiokafka consumer reads about 275,000 (bench/).
A reader whose work is a pure fold over many events (the risk agent) reads its topic here
instead (docs/decisions/032): `getmany` fetches a batch, only the wanted event types are
decoded, the batch is handled under the agent's guard (dispatch/worker/batches.py: a
transient failure retries it in place, anything else splits it so that a poison event
alone is dead-lettered), and then its offsets are committed. Nothing is committed before
it is handled, so a crash at any point re-reads the batch (at-least-once).

A reader may also commit less often than once a batch (`commit_every_s`, decision 051):
the handled batches' offsets are then committed together, at most that often, once the
reader's `flush` has made durable what the handler keeps for them (the risk agent's changed
states, so that a client folded in several batches is written once). Whatever is not
flushed and committed yet is read again after a crash, exactly as an uncommitted batch is.
The reader also flushes and commits as soon as a poll finds nothing new, on a revocation
and on `stop()`.

A batch and a rebalance never overlap: a revocation waits for the batch in hand (at most
`drain_s`), flushes and commits what was handled; a batch that finishes after its
partitions were taken commits nothing and keeps none of its state: the new owner reads it
again. `stop()` finishes the batch in hand, flushes, commits and leaves the group.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from dispatch import gc_pause
from dispatch.events.codec import EventDecodeError, decode, decode_obj, type_at_head
from dispatch.settings import Settings
from dispatch.stack.restore_needs import carries_restored
from dispatch.worker.batches import DRAIN_S, drain_time, set_within
from dispatch.worker.guard import Delivery, Undecodable

log = structlog.get_logger(__name__)
Partitions = Callable[[Sequence[int]], Awaitable[None]]
COMMIT_FIRST_WAIT_S = 0.2  # a commit the broker could not take is tried again after this,
COMMIT_MAX_WAIT_S = 5.0  # doubling up to this


@dataclass(frozen=True)
class ReaderConfig:
    """Where and how the reader's consumer connects (from Settings, by the composition)."""

    bootstrap: str
    group_id: str
    session_timeout_s: float
    heartbeat_interval_s: float
    rebalance_timeout_s: float
    fetch_max_wait_ms: int
    batch_max: int = 2000
    poll_ms: int = 100  # how long an empty poll waits (also how soon a stop is seen)
    drain_s: float = DRAIN_S  # how long a revocation waits at most for the batch in hand
    commit_every_s: float = 0.0  # 0: commit after each batch; else at most this often


def deliveries(records: Sequence[object], wanted: Collection[str]) -> list[Delivery]:
    """The records an agent handles: events of a wanted type, decoded, and anything that is
    not an event at all (for the guard to dead-letter). Other event types are skipped
    without decoding the envelope."""
    out: list[Delivery] = []
    for record in records:
        raw: bytes = record.value  # type: ignore[attr-defined]
        topic, partition = record.topic, record.partition  # type: ignore[attr-defined]
        offset, key = record.offset, record.key  # type: ignore[attr-defined]
        try:
            event_type = type_at_head(raw) if isinstance(raw, bytes) else None
            if event_type is not None:  # laid out as the codec writes: no parse to skip it
                if event_type not in wanted:
                    continue
                value: object = decode(raw, event_type=event_type)
            else:
                data = orjson.loads(raw)
                if isinstance(data, dict) and data.get("type") not in wanted:
                    continue
                value = decode_obj(data)
        except (orjson.JSONDecodeError, EventDecodeError, TypeError) as exc:
            value = Undecodable(raw=bytes(raw or b""), error=str(exc))
        out.append(Delivery(topic, partition, offset, key, value, record))  # type: ignore[arg-type]
    return out


class BatchReader:
    """`handle` gets each batch's deliveries (in partition order, each partition's in offset
    order) and returns once every one is handled or dead-lettered; then they are committed."""

    def __init__(
        self,
        topic: str,
        config: ReaderConfig,
        *,
        wanted: Collection[str],
        handle: Callable[[Sequence[Delivery]], Awaitable[None]],
        assigned: Partitions | None = None,
        prepare: Callable[[], Awaitable[None]] | None = None,
        flush: Callable[[], Awaitable[None]] | None = None,
        flush_now: Callable[[], bool] = lambda: False,
    ) -> None:
        self._topic = topic
        self._config = config
        self._wanted = frozenset(wanted)
        self._handle_batch = handle
        self._assigned = assigned
        self._prepare = prepare  # run once before the first read (a topic to declare)
        self._flush = flush  # makes what the handler keeps durable, before a commit
        self._flush_now = flush_now  # the handler holds enough: flush before the interval
        self._assigned_once = asyncio.Event()
        self._handled: dict[TopicPartition, int] = {}  # handled, not committed yet
        self._last_commit = time.monotonic()
        self._lock = asyncio.Lock()  # held by a batch, and by a rebalance
        self._generation = 0  # moves on each revocation
        self._owned: set[TopicPartition] = set()  # assigned, and their state in hand
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stopped.set()  # not running
        self._consumer: AIOKafkaConsumer | None = None
        self._committed: dict[TopicPartition, int] = {}  # by this reader, per partition

    async def run(self) -> None:
        """Read until stop(); the caller decides what an exception here means."""
        c = self._config
        consumer = self._consumer = AIOKafkaConsumer(
            bootstrap_servers=c.bootstrap,
            group_id=c.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",  # a new group reads the topic from its start
            session_timeout_ms=int(c.session_timeout_s * 1000),
            heartbeat_interval_ms=int(c.heartbeat_interval_s * 1000),
            rebalance_timeout_ms=int(c.rebalance_timeout_s * 1000),
            fetch_max_wait_ms=c.fetch_max_wait_ms,
            max_poll_records=c.batch_max,
        )
        self._stopped.clear()
        try:
            if self._prepare is not None:
                await self._prepare()
            await consumer.start()
            consumer.subscribe([self._topic], listener=_Listener(self))
            while not self._stopping.is_set():
                fetched = await consumer.getmany(timeout_ms=c.poll_ms, max_records=c.batch_max)
                if fetched:
                    await self._handle(consumer, fetched)
                elif self._handled:  # nothing new: what was handled is made durable now
                    async with self._lock:
                        await self._settle(consumer)
            async with self._lock:  # on stop: flushed and committed, or read again
                await self._settle_within(consumer, "reader_last_commit_failed")
        finally:
            try:
                await consumer.stop()  # leaves the group: the partitions move on at once
            finally:
                self._stopped.set()

    async def stop(self) -> None:
        """Finish the batch in hand, commit it and leave the group."""
        self._stopping.set()
        try:
            await asyncio.wait_for(self._stopped.wait(), self._config.drain_s + 10.0)
        except TimeoutError:
            log.warning("reader_stop_timed_out", group=self._config.group_id)

    async def _handle(
        self, consumer: AIOKafkaConsumer, fetched: dict[TopicPartition, list[object]]
    ) -> None:
        async with self._lock:
            generation = self._generation
            fetched = {tp: recs for tp, recs in fetched.items() if tp in self._owned and recs}
            records = [r for tp in sorted(fetched) for r in fetched[tp]]
            # A batch decoded and handled: thousands of objects, no cycles, nearly all freed
            # by their reference counts when the batch is done. Paused over the whole of it
            # (the handler's broker acks included, a few ms), the collector's first run
            # afterwards walks only what outlives the batch (decision 041).
            with gc_pause.paused():
                await self._decode_and_handle(records)  # its objects gone as it returns
            if generation != self._generation:
                return  # revoked meanwhile: the new owner reads these again
            for tp, recs in fetched.items():
                self._handled[tp] = recs[-1].offset + 1  # type: ignore[attr-defined]
            since = time.monotonic() - self._last_commit
            if since >= self._config.commit_every_s or self._flush_now():
                await self._settle(consumer)

    async def _settle(self, consumer: AIOKafkaConsumer) -> None:
        """Flush what the handler keeps, then commit every batch handled so far (the
        caller holds the lock)."""
        if not self._handled:
            return
        if self._flush is not None:
            await self._flush()
        ends, self._handled = self._handled, {}
        await self._commit(consumer, ends)
        self._last_commit = time.monotonic()

    async def _settle_within(self, consumer: AIOKafkaConsumer, failed: str) -> None:
        """On stop or revocation: `_settle` within `drain_s` (the caller holds the lock); if
        that fails (the broker away), what was handled is read again by the next owner."""
        try:
            await asyncio.wait_for(self._settle(consumer), self._config.drain_s)
        except Exception as exc:
            log.warning(failed, group=self._config.group_id, error=repr(exc))

    async def _decode_and_handle(self, records: list[object]) -> None:
        batch = deliveries(records, self._wanted)
        if batch:
            await self._handle_batch(batch)

    async def _commit(self, consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> None:
        attempt = 0
        while True:
            try:
                await consumer.commit(ends)
                self._committed.update(ends)
                return
            except CommitFailedError as exc:  # the group moved on: the new owner re-reads
                log.warning("reader_commit_refused", group=self._config.group_id, error=repr(exc))
                return
            except KafkaError as exc:
                attempt += 1
                wait = min(COMMIT_FIRST_WAIT_S * 2 ** (attempt - 1), COMMIT_MAX_WAIT_S)
                log.warning(
                    "reader_commit_retrying",
                    group=self._config.group_id,
                    error=repr(exc),
                    retry_in_s=wait,
                )
                await asyncio.sleep(wait)

    def _held(self, within_s: float) -> _Waited:
        return _Waited(self._lock, within_s)

    def lag(self) -> int | None:
        """Records between what this reader committed and each owned partition's end, from
        what its consumer already knows (nothing here waits on the broker)."""
        consumer = self._consumer
        if consumer is None or not self._owned:
            return None
        total, known = 0, False
        for tp in list(self._owned):
            end = consumer.highwater(tp)
            done = self._committed.get(tp)
            if end is not None and done is not None:
                total, known = total + max(0, end - done), True
        return total if known else None

    async def on_revoked(self, revoked: Collection[TopicPartition]) -> None:
        started = time.monotonic()
        async with self._held(self._config.drain_s) as got:
            if got and self._consumer is not None:  # kept, as a finished batch's commit keeps it
                await self._settle_within(self._consumer, "reader_revoked_uncommitted")
            self._generation += 1
            self._owned.clear()
            self._handled.clear()
            if not got:
                log.warning(
                    "reader_revoked_in_a_batch",
                    group=self._config.group_id,
                    waited_s=round(time.monotonic() - started, 2),
                )

    async def on_assigned(self, assigned: Collection[TopicPartition]) -> None:
        async with self._lock:
            owned = {tp for tp in assigned if tp.topic == self._topic}
            partitions = sorted(tp.partition for tp in owned)
            if self._assigned is not None:
                await self._assigned(partitions)
            self._owned = owned
            self._assigned_once.set()
            log.info("reader_assigned", group=self._config.group_id, partitions=partitions)

    def owned(self) -> list[TopicPartition]:
        """The partitions this reader owns now."""
        return sorted(self._owned)

    async def assigned_within(self, timeout_s: float) -> bool:
        """Has the reader's group given it its first assignment (within `timeout_s`)?"""
        return await set_within(self._assigned_once, timeout_s)


class _Waited:
    """`async with`: the lock if it comes within the time, else go on without it."""

    def __init__(self, lock: asyncio.Lock, within_s: float) -> None:
        self._lock = lock
        self._within_s = within_s
        self._got = False

    async def __aenter__(self) -> bool:
        try:
            await asyncio.wait_for(self._lock.acquire(), self._within_s)
        except TimeoutError:
            return False
        self._got = True
        return True

    async def __aexit__(self, *exc: object) -> None:
        if self._got:
            self._lock.release()


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, reader: BatchReader) -> None:
        self._reader = reader

    async def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        await self._reader.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        await self._reader.on_assigned(assigned)


def restored(delivery: Delivery) -> bool:
    """Did a broker restore publish this record (dispatch/stack/restore_needs.py)?"""
    return carries_restored(getattr(delivery.event, "headers", None))


def reader_config(settings: Settings, *, group: str, pages_wait: bool = False) -> ReaderConfig:
    """A reader's consumer, with the worker's group timings; its group is <app id>-<group>.
    A reader that pages wait on (`pages_wait`) long-polls as briefly as faust's consumer."""
    wait_ms = settings.consumer_fetch_max_wait_ms
    fetch_max_wait_ms = wait_ms if pages_wait else settings.risk_reader_fetch_max_wait_ms
    return ReaderConfig(
        bootstrap=settings.kafka_bootstrap_servers,
        group_id=f"{settings.faust_app_id}-{group}",
        session_timeout_s=settings.broker_session_timeout_s,
        heartbeat_interval_s=settings.broker_heartbeat_interval_s,
        rebalance_timeout_s=settings.broker_rebalance_timeout_s,
        fetch_max_wait_ms=fetch_max_wait_ms,
        drain_s=drain_time(settings),
    )


async def supervised(app: Any, name: str, run: Callable[[], Awaitable[None]]) -> None:
    """Run a reader inside the worker: if it fails (its own faults are retried inside it, so
    this is a bug or a broken dependency), log it once, loudly, and crash the worker, which
    its supervisor restarts; a worker never runs on without one of its readers."""
    try:
        await run()
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.exception("reader_failed", alert=True, reader=name)
        await app.crash(exc)
