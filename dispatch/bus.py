"""Publishing events to Kafka from outside faust (ingress relay, risk agent, seeding, replays).

A call's records go out as one batch per partition (aiokafka's `create_batch` and
`send_batch`), in their order within each partition, not one `send` per record: about a
third of the client's CPU per record (decision 045), and one batch in the broker per
partition and call.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.partitioner import murmur2

from dispatch.events import Envelope
from dispatch.events.codec import encode
from dispatch.events.registry import topic_of

MAX_BATCH_BYTES = 1_000_000  # Kafka's default message.max.bytes is about 1 MB
KEY_HASHES_KEPT = 16_384  # a service's clients and dispatches in flight, about 1 MB at most
Record = tuple[str, int | None, bytes, bytes]  # topic, partition (None: by key), key, value


class KeyPartitioner:
    """aiokafka's default partitioner for a keyed record (Kafka's Java client's: murmur2
    of the key), with the hashes of recent keys kept: the same clients come again and
    again, and each hash is about 2 us of pure Python."""

    def __init__(self) -> None:
        self._hash = functools.lru_cache(maxsize=KEY_HASHES_KEPT)(murmur2)

    def __call__(self, key: bytes, all_partitions: Sequence[int]) -> int:
        hashed: int = self._hash(key)
        return all_partitions[(hashed & 0x7FFFFFFF) % len(all_partitions)]


def _batches(
    producer: AIOKafkaProducer, records: Sequence[Record], indexes: Sequence[int]
) -> list[tuple[Any, list[int]]]:
    """The records at `indexes` (one partition's) in batches of at most MAX_BATCH_BYTES,
    in order: each batch with the indexes it holds."""
    out: list[tuple[Any, list[int]]] = []
    batch, held = producer.create_batch(), list[int]()
    for i in indexes:
        _, _, key, value = records[i]
        if len(key) + len(value) > MAX_BATCH_BYTES:  # as `send` refuses one over the limit
            raise MessageSizeTooLargeError(f"a record of {len(key) + len(value)} bytes")
        if batch.append(key=key, value=value, timestamp=None) is None:  # full: the next one
            out.append((batch, held))
            batch, held = producer.create_batch(), []
            batch.append(key=key, value=value, timestamp=None)  # an empty batch takes any
        held.append(i)
    out.append((batch, held))
    return out


class EventPublisher:
    """acks=all, no idempotent producer (the embedded broker has none): dedup is by event id.

    The producer connects on first use and again after a failed connect, so a publisher
    created while Kafka is down starts working when Kafka comes back.
    """

    def __init__(self, bootstrap_servers: str, *, request_timeout_ms: int = 10_000) -> None:
        self._bootstrap = bootstrap_servers
        self._timeout_ms = request_timeout_ms
        self._producer: AIOKafkaProducer | None = None
        self._partitioner = KeyPartitioner()

    async def start(self) -> None:
        if self._producer is not None:
            return
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            acks="all",
            enable_idempotence=False,
            linger_ms=0,  # publish() sends a whole batch before awaiting: no need to wait
            # A whole batch in a few requests, not one per 16 KiB (aiokafka's default): one
            # request is in flight per partition and a full batch holds the next send back.
            max_batch_size=MAX_BATCH_BYTES,
            max_request_size=MAX_BATCH_BYTES,
            request_timeout_ms=self._timeout_ms,
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer

    async def warm(self, topics: Sequence[str]) -> None:
        """Connected, with every topic's partitions known: the first publish to a topic
        otherwise waits for a metadata round trip (a start warms this before it says ready)."""
        await self.start()
        assert self._producer is not None
        for topic in topics:
            await self._producer.partitions_for(topic)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, events: Sequence[Envelope]) -> None:
        """Send in order (per partition) and wait until the broker has every one."""
        await self.publish_encoded([(topic_of(e), e.key, encode(e)) for e in events])

    async def publish_encoded(self, records: Sequence[tuple[str, str, bytes]]) -> None:
        """`publish` for events already encoded: (topic, key, the codec's bytes) each."""
        await self._send([(topic, None, key.encode(), value) for topic, key, value in records])

    async def write(self, topic: str, records: Sequence[tuple[bytes, bytes, int]]) -> list[int]:
        """Send (key, value, partition) records to a topic that is not an event topic (a
        reader's changelog), in order; wait for every ack; their offsets."""
        return await self._send([(topic, partition, k, v) for k, v, partition in records])

    async def _send(self, records: Sequence[Record]) -> list[int]:
        """One batch per partition (more when one would pass MAX_BATCH_BYTES), each holding
        its records in the order given; every ack awaited; each record's offset."""
        await self.start()
        producer = self._producer
        assert producer is not None
        by_partition: dict[tuple[str, int], list[int]] = {}
        partitions: dict[str, list[int]] = {}
        for i, (topic, partition, key, _) in enumerate(records):
            if partition is None:
                if topic not in partitions:
                    partitions[topic] = sorted(await producer.partitions_for(topic))
                partition = self._partitioner(key, partitions[topic])
            by_partition.setdefault((topic, partition), []).append(i)
        sent = []  # (the batch's ack, the indexes of its records in order)
        for (topic, partition), indexes in by_partition.items():
            for batch, held in _batches(producer, records, indexes):
                sent.append((await producer.send_batch(batch, topic, partition=partition), held))
        offsets = [0] * len(records)
        for ack, held in sent:
            base = (await ack).offset
            for n, i in enumerate(held):
                offsets[i] = base + n
        return offsets
