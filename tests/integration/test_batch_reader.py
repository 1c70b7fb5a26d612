"""A reader outside faust's streams, on the session broker: its keyed state comes back
exactly from its changelog, and its consumer group hands work on without losing or
repeating what was committed (dispatch/worker/batch_reader.py, keyed_state.py)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from dispatch.bus import EventPublisher
from dispatch.clients.events import ContactRecorded
from dispatch.events import Envelope, new_event
from dispatch.events.codec import encode
from dispatch.worker.batch_reader import BatchReader, ReaderConfig
from dispatch.worker.batches import handle_batch, retried
from dispatch.worker.guard import AgentGuard, Delivery, GuardPolicy, Handler
from dispatch.worker.keyed_state import KeyedStateLog
from tests.e2e.helpers import until
from tests.fixtures.broker import KafkaUnderTest, new_topic

PARTITIONS = 2
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
async def producer(kafka_broker: KafkaUnderTest) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.bootstrap, acks="all")
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


def state_log(topic: str, kafka_broker: KafkaUnderTest, publisher: EventPublisher) -> Any:
    return KeyedStateLog(topic, bootstrap=kafka_broker.bootstrap, write=publisher.write)


async def test_state_comes_back_from_the_changelog_exactly(
    kafka_broker: KafkaUnderTest, publisher: EventPublisher
) -> None:
    """Many small batches (the embedded broker's newest batch is where a restore used to
    stop short): a new holder gets each key's newest value, per partition."""
    topic = await new_topic(kafka_broker, "test-state", PARTITIONS)
    writer = state_log(topic, kafka_broker, publisher)
    await writer.assigned([0, 1])
    want: dict[str, bytes] = {}
    for round_ in range(30):
        changes = [
            (i % PARTITIONS, f"k{i}", f"v{round_}-{i}".encode()) for i in range(round_ % 7 + 1)
        ]
        await writer.save(changes)
        want.update({key: value for _, key, value in changes})

    reader = state_log(topic, kafka_broker, publisher)
    await reader.assigned([0, 1])
    assert dict(reader.items()) == want == dict(writer.items())
    only_one = state_log(topic, kafka_broker, publisher)
    await only_one.assigned([1])
    assert dict(only_one.items()) == {k: v for k, v in want.items() if int(k[1:]) % 2 == 1}


async def test_a_partition_written_by_another_holder_is_read_again(
    kafka_broker: KafkaUnderTest, publisher: EventPublisher
) -> None:
    """A partition that comes back after another worker held it is not trusted from memory."""
    topic = await new_topic(kafka_broker, "test-state", PARTITIONS)
    first, second = (state_log(topic, kafka_broker, publisher) for _ in range(2))
    await first.assigned([0, 1])
    await first.save([(0, "a", b"1"), (1, "b", b"1")])
    await first.assigned([1])  # partition 0 moves to the second holder
    await second.assigned([0])
    assert dict(second.items()) == {"a": b"1"}
    await second.save([(0, "a", b"2")])
    await first.assigned([0, 1])  # and back
    assert dict(first.items()) == {"a": b"2", "b": b"1"}


class RecordingSink:
    def __init__(self) -> None:
        self.records: list[bytes] = []

    async def send(self, key: bytes | None, record: bytes) -> None:
        self.records.append(record)


class Recorder:
    """A batch handler that records what it was handed."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int, str]] = []

    async def batch(self, deliveries: Sequence[Delivery]) -> None:
        for d in deliveries:
            assert isinstance(d.value, Envelope)
            self.seen.append((d.partition, d.offset, d.value.key))

    def single(self, delivery: Delivery) -> Handler:
        async def one(_: Envelope) -> None:
            await self.batch([delivery])

        return one


def reader_for(
    topic: str,
    group: str,
    kafka_broker: KafkaUnderTest,
    recorder: Recorder,
    sink: RecordingSink,
    *,
    commit_every_s: float = 0.0,
    flush: Callable[[], Awaitable[None]] | None = None,
    prepare: Callable[[], Awaitable[None]] | None = None,
) -> BatchReader:
    config = ReaderConfig(
        bootstrap=kafka_broker.bootstrap,
        group_id=group,
        session_timeout_s=2.0,  # a join takes half of it on tansu (tests/conftest.py)
        heartbeat_interval_s=0.5,
        rebalance_timeout_s=5.0,
        fetch_max_wait_ms=20,
        batch_max=50,
        commit_every_s=commit_every_s,
    )

    guard = AgentGuard("test-reader", sink, GuardPolicy(first_wait_s=0.01))
    return BatchReader(
        topic,
        config,
        wanted={"ContactRecorded"},
        handle=lambda batch: handle_batch(guard, batch, recorder.batch, recorder.single),
        flush=flush,
        prepare=prepare,
    )


def contact(i: int) -> Envelope:
    payload = ContactRecorded(client_id=f"c{i % 5}", staff_id="s1", kind="phone")
    return new_event(payload, key=f"c{i % 5}", occurred_at=T0, recorded_at=T0, actor="test")


async def until_seen(recorder: Recorder, count: int) -> None:
    async def seen() -> bool:
        return len(recorder.seen) >= count

    await until(seen, within_s=60, what=f"{count} events handled")


async def test_a_stopped_reader_commits_and_the_next_one_goes_on_from_there(
    kafka_broker: KafkaUnderTest, producer: AIOKafkaProducer
) -> None:
    topic = await new_topic(kafka_broker, "test-reader", PARTITIONS)
    group = f"test-reader-{uuid.uuid4().hex[:8]}"
    for i in range(120):
        await producer.send_and_wait(topic, encode(contact(i)), key=f"c{i % 5}".encode())
    await producer.send_and_wait(topic, b"not an event", key=b"c0")
    sink = RecordingSink()
    first = Recorder()
    reader = reader_for(topic, group, kafka_broker, first, sink)
    running = asyncio.create_task(reader.run())
    await until_seen(first, 120)

    async def caught_up() -> bool:
        return reader.lag() == 0  # what the worker's heartbeat reports for it

    await until(caught_up, within_s=30, what="the reader's lag to reach 0")
    await reader.stop()
    await running
    assert len(first.seen) == len(set(first.seen)) == 120
    assert len(sink.records) == 1, "the record that is no event is dead-lettered, once"

    for i in range(120, 150):
        await producer.send_and_wait(topic, encode(contact(i)), key=f"c{i % 5}".encode())
    second = Recorder()
    reader = reader_for(topic, group, kafka_broker, second, sink)
    running = asyncio.create_task(reader.run())
    await until_seen(second, 30)
    await reader.stop()
    await running
    assert len(second.seen) == 30, "the second reader starts after what the first committed"
    assert not set(second.seen) & set(first.seen)
    assert len(sink.records) == 1


async def test_a_reader_that_commits_less_often_commits_only_what_it_flushed(
    kafka_broker: KafkaUnderTest, producer: AIOKafkaProducer
) -> None:
    """Decision 051: with an hour between commits, the batches handled are committed once
    the reader finds nothing new, and only after its flush succeeded (a broker error in the
    flush is retried). A reader that dies before its flush went through commits nothing:
    the next one reads every event again."""
    topic = await new_topic(kafka_broker, "test-reader", PARTITIONS)
    group = f"test-reader-{uuid.uuid4().hex[:8]}"
    for i in range(60):
        await producer.send_and_wait(topic, encode(contact(i)), key=f"c{i % 5}".encode())
    sink = RecordingSink()

    never = asyncio.Event()
    stuck = Recorder()
    reader = reader_for(
        topic, group, kafka_broker, stuck, sink, commit_every_s=3600.0, flush=never.wait
    )
    running = asyncio.create_task(reader.run())
    await until_seen(stuck, 60)
    running.cancel()  # as a crash: the flush never finished
    with contextlib.suppress(asyncio.CancelledError):
        await running
    assert len(stuck.seen) == 60

    flushed: list[int] = []  # how many events were handled when a flush went through
    failures = [KafkaConnectionError("broker away")]
    kept = Recorder()

    async def flush_once() -> None:
        if failures:
            raise failures.pop()
        flushed.append(len(kept.seen))

    guard = AgentGuard("test-reader", sink, GuardPolicy(first_wait_s=0.01))

    async def flush() -> None:
        await retried(guard, flush_once, what="flush", events=len(kept.seen))

    reader = reader_for(topic, group, kafka_broker, kept, sink, commit_every_s=3600.0, flush=flush)
    running = asyncio.create_task(reader.run())
    await until_seen(kept, 60)

    async def committed() -> bool:
        return reader.lag() == 0

    await until(committed, within_s=30, what="the handled batches committed")
    assert sorted(kept.seen) == sorted(stuck.seen), "nothing was committed before: all again"
    assert flushed and flushed[-1] == 60 and not failures, "flushed (once retried) first"
    await reader.stop()
    await running

    last = Recorder()
    reader = reader_for(topic, group, kafka_broker, last, sink)
    running = asyncio.create_task(reader.run())
    await producer.send_and_wait(topic, encode(contact(60)), key=b"c0")
    await until_seen(last, 1)
    await reader.stop()
    await running
    assert len(last.seen) == 1, "what was flushed and committed is not read again"
