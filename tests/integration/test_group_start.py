"""A reader whose consumer group is new starts where an earlier group had committed, on the
session broker (dispatch/worker/group_start.py, decision 052): the crisis contacts moved
from faust's group to a reader of their own, and neither may an old call be decided again
nor a call made while no worker ran be skipped."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError

from dispatch.events.codec import encode
from dispatch.worker.batch_reader import BatchReader
from dispatch.worker.group_start import commit_as, hand_over
from tests.e2e.helpers import until
from tests.fixtures.broker import KafkaUnderTest, new_topic
from tests.integration.test_batch_reader import (
    Recorder,
    RecordingSink,
    contact,
    producer,
    reader_for,
    until_seen,
)

__all__ = ["producer"]  # the fixture, shared with test_batch_reader.py


async def publish(producer: AIOKafkaProducer, topic: str, numbers: range) -> dict[int, int]:
    """Publish contacts; each partition's offset of the first one published here."""
    first: dict[int, int] = {}
    for i in numbers:
        meta = await producer.send_and_wait(topic, encode(contact(i)), key=f"c{i % 5}".encode())
        first.setdefault(meta.partition, meta.offset)
    return first


async def read_all(running: asyncio.Task[None], reader: BatchReader) -> None:
    """Until the reader committed all it was given, then stopped."""

    async def caught_up() -> bool:
        return reader.lag() == 0

    await until(caught_up, within_s=30, what="the reader's lag to reach 0")
    await reader.stop()
    await running


async def test_a_new_group_starts_where_the_earlier_group_committed(
    kafka_broker: KafkaUnderTest, producer: AIOKafkaProducer
) -> None:
    topic = await new_topic(kafka_broker, "test-handover", 2)
    earlier = f"test-faust-{uuid.uuid4().hex[:8]}"
    before = await publish(producer, topic, range(0, 40))  # decided by the earlier group
    after = await publish(producer, topic, range(40, 60))  # while no worker ran
    assert set(before) == set(after) == {0, 1}
    await commit_as(kafka_broker.bootstrap, earlier, {TopicPartition(topic, 0): after[0]})

    group = f"test-reader-{uuid.uuid4().hex[:8]}"
    prepare = hand_over(kafka_broker.bootstrap, topic, group=group, earlier=earlier)
    first = Recorder()
    reader = reader_for(topic, group, kafka_broker, first, RecordingSink(), prepare=prepare)
    await read_all(asyncio.create_task(reader.run()), reader)
    p0 = sorted(o for p, o, _ in first.seen if p == 0)
    p1 = sorted(o for p, o, _ in first.seen if p == 1)
    assert p0 and p0[0] == after[0], "partition 0 starts where the earlier group committed"
    assert p1 and p1[0] == before[1], "partition 1, never committed by either: from its start"
    assert len(first.seen) == len(set(first.seen)) == len(p0) + len(p1)

    # The earlier group's offsets move back; the new group goes on from its own.
    await commit_as(
        kafka_broker.bootstrap,
        earlier,
        {TopicPartition(topic, 0): before[0], TopicPartition(topic, 1): before[1]},
    )
    await publish(producer, topic, range(60, 70))
    second = Recorder()
    reader = reader_for(topic, group, kafka_broker, second, RecordingSink(), prepare=prepare)
    running = asyncio.create_task(reader.run())
    await until_seen(second, 10)
    await read_all(running, reader)
    assert len(second.seen) == 10, "once it committed, the group goes on from its own offsets"
    assert not set(second.seen) & set(first.seen)


async def test_a_reader_that_cannot_learn_where_to_start_reads_nothing_and_fails(
    kafka_broker: KafkaUnderTest, producer: AIOKafkaProducer
) -> None:
    """The broker unreachable when the earlier group's offsets are asked: rather than start
    at the topic's start (every old call again), the reader fails before it joins, and its
    supervisor crashes the worker to be restarted (batch_reader.py `supervised`)."""
    topic = await new_topic(kafka_broker, "test-handover", 2)
    await publish(producer, topic, range(0, 20))
    group = f"test-reader-{uuid.uuid4().hex[:8]}"
    unreachable = hand_over("127.0.0.1:9", topic, group=group, earlier="any", timeout_s=1.0)
    seen = Recorder()
    reader = reader_for(topic, group, kafka_broker, seen, RecordingSink(), prepare=unreachable)
    with pytest.raises(KafkaConnectionError):
        await asyncio.wait_for(reader.run(), 60)
    assert seen.seen == [], "nothing handled"
