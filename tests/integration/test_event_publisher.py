"""The publisher sends a call's records as one batch per partition (dispatch/bus.py): each
record lands where its key (or its given partition) says, in order, at the offset it
reported, also when one partition's records need more than one batch (session broker)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.partitioner import DefaultPartitioner

from dispatch.bus import MAX_BATCH_BYTES, EventPublisher
from dispatch.clients.events import ContactRecorded
from dispatch.events import Envelope, new_event
from dispatch.events.codec import decode
from dispatch.events.registry import topic_of
from dispatch.stack.end_offsets import true_end_offsets
from tests.fixtures.broker import KafkaUnderTest, new_topic

PARTITIONS = 3
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


async def _read(
    kafka_broker: KafkaUnderTest, topic: str, partitions: range, since: dict[int, int]
) -> dict[int, list[tuple[int, bytes, bytes]]]:
    """(offset, key, value) of each partition's records from `since` to its end."""
    tps = [TopicPartition(topic, p) for p in partitions]
    ends = await true_end_offsets(kafka_broker.bootstrap, tps)
    out: dict[int, list[tuple[int, bytes, bytes]]] = {p: [] for p in partitions}
    left = {tp for tp in tps if since.get(tp.partition, 0) < ends[tp]}
    if not left:
        return out
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_broker.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(left))
        for tp in left:
            consumer.seek(tp, since.get(tp.partition, 0))
        while left:
            fetched = await consumer.getmany(*left, timeout_ms=1000)
            for tp, records in fetched.items():
                out[tp.partition] += [(r.offset, r.key or b"", r.value or b"") for r in records]
                if records and records[-1].offset >= ends[tp] - 1:
                    left.discard(tp)
        return out
    finally:
        await consumer.stop()


def _contact(client_id: str) -> Envelope:
    payload = ContactRecorded(client_id=client_id, staff_id="s1", kind="phone")
    return new_event(payload, key=client_id, occurred_at=T0, recorded_at=T0, actor="test")


async def test_events_land_on_their_keys_partitions_in_order(
    kafka_broker: KafkaUnderTest, publisher: EventPublisher
) -> None:
    """Events of many clients in one call: each on the partition aiokafka's default
    partitioner gives its key (what every other producer of the topic uses), and each
    client's in the order published."""
    run = uuid.uuid4().hex[:6]
    events = [_contact(f"c-{run}-{i % 17}") for i in range(120)]
    topic = topic_of(events[0])
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_broker.bootstrap)
    await consumer.start()
    try:
        await consumer.topics()  # the cluster's metadata, fetched
        parts = sorted(consumer.partitions_for_topic(topic) or set())
    finally:
        await consumer.stop()
    tps = [TopicPartition(topic, p) for p in parts]
    ends = await true_end_offsets(kafka_broker.bootstrap, tps)
    before = {tp.partition: offset for tp, offset in ends.items()}

    await publisher.publish(events)

    read = await _read(kafka_broker, topic, range(len(parts)), before)
    ours = {e.event_id for e in events}
    landed: dict[str, list[uuid.UUID]] = {}
    for partition, records in read.items():
        for _, key, value in records:
            event = decode(value)
            if event.event_id in ours:
                want = DefaultPartitioner()(key, parts, parts)
                assert partition == want, f"{event.key} on {partition}, its key's is {want}"
                landed.setdefault(event.key, []).append(event.event_id)
    published: dict[str, list[uuid.UUID]] = {}
    for e in events:
        published.setdefault(e.key, []).append(e.event_id)
    assert landed == published


async def test_offsets_are_each_records_own_across_several_batches(
    kafka_broker: KafkaUnderTest, publisher: EventPublisher
) -> None:
    """Records too big for one batch together (three of 400 kB on one partition) and
    small ones on another: every offset returned holds that very record."""
    topic = await new_topic(kafka_broker, "test-publisher", PARTITIONS)
    big = MAX_BATCH_BYTES * 2 // 5
    records = [
        (b"a", b"1" * big, 0),
        (b"b", b"small-1", 1),
        (b"c", b"2" * big, 0),
        (b"d", b"3" * big, 0),
        (b"e", b"small-2", 1),
    ]
    offsets = await publisher.write(topic, records)

    read = await _read(kafka_broker, topic, range(PARTITIONS), {})
    at = {(p, offset): (key, value) for p, rs in read.items() for offset, key, value in rs}
    assert [at[(p, o)] for (_, _, p), o in zip(records, offsets, strict=True)] == [
        (k, v) for k, v, _ in records
    ]
    assert [key for _, key, _ in read[0]] == [b"a", b"c", b"d"]


async def test_a_record_no_batch_can_hold_is_refused(
    kafka_broker: KafkaUnderTest, publisher: EventPublisher
) -> None:
    topic = await new_topic(kafka_broker, "test-publisher", PARTITIONS)
    with pytest.raises(MessageSizeTooLargeError):
        await publisher.write(topic, [(b"k", b"x" * (MAX_BATCH_BYTES + 1), 0)])
    assert (await _read(kafka_broker, topic, range(PARTITIONS), {}))[0] == []
