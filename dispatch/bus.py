"""Publishing events to Kafka from outside faust (ingress relay, seeding, replays)."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from dispatch.events import Envelope
from dispatch.events.codec import encode
from dispatch.events.registry import topic_of

MAX_BATCH_BYTES = 1_000_000  # Kafka's default message.max.bytes is about 1 MB


class EventPublisher:
    """acks=all, no idempotent producer (the embedded broker has none): dedup is by event id.

    The producer connects on first use and again after a failed connect, so a publisher
    created while Kafka is down starts working when Kafka comes back.
    """

    def __init__(self, bootstrap_servers: str, *, request_timeout_ms: int = 10_000) -> None:
        self._bootstrap = bootstrap_servers
        self._timeout_ms = request_timeout_ms
        self._producer: AIOKafkaProducer | None = None

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
        """Send in order and wait until the broker has every one."""
        await self.start()
        assert self._producer is not None
        futures = [
            await self._producer.send(topic_of(e), value=encode(e), key=e.key.encode())
            for e in events
        ]
        for fut in futures:
            await fut

    async def write(self, topic: str, records: Sequence[tuple[bytes, bytes, int]]) -> list[int]:
        """Send (key, value, partition) records to a topic that is not an event topic (a
        reader's changelog), in order; wait for every ack; their offsets."""
        await self.start()
        assert self._producer is not None
        futures = [
            await self._producer.send(topic, value=value, key=key, partition=partition)
            for key, value, partition in records
        ]
        return [(await fut).offset for fut in futures]
