"""Publishing events to Kafka from outside faust (ingress relay, seeding, replays)."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from dispatch.events import Envelope, encode, topic_of


class EventPublisher:
    """acks=all, no idempotent producer (the embedded broker has none): dedup is by event id."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            acks="all",
            enable_idempotence=False,
            linger_ms=2,
            request_timeout_ms=10_000,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, events: Sequence[Envelope]) -> None:
        """Send in order and wait until the broker has every one."""
        futures = [
            await self._producer.send(topic_of(e), value=encode(e), key=e.key.encode())
            for e in events
        ]
        for fut in futures:
            await fut
