"""Keyed state held in memory by partition, durable in a changelog topic of its own.

A reader outside faust's streams (dispatch/worker/batch_reader.py) keeps the state of the
keys of the partitions it is assigned: `dict[key, bytes]` per partition. A batch's changed
values are sent to the changelog topic, to the partition of the events they were folded
from, and the broker's acks awaited together; only then are they put in memory (a batch
that fails is folded again from the values it started with).

On an assignment, a partition is read back from its changelog unless this process wrote
the newest record of it (its memory is then exactly the changelog); a revoked partition
keeps its values until the next assignment says whether it came back unchanged. The
changelog's end offsets are the true high watermarks (dispatch/stack/kafka_compat.py:
the embedded broker reports the base offset of the newest batch instead), so the same
code restores exactly against the embedded broker and real Kafka.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from dispatch.stack.end_offsets import true_end_offsets

log = structlog.get_logger(__name__)
RESTORE_FETCH = 10_000  # changelog records per fetch while restoring

# (topic, [(key, value, partition)]) -> each record's offset, once the broker has them all
Write = Callable[[str, Sequence[tuple[bytes, bytes, int]]], Awaitable[list[int]]]


class KeyedStateLog:
    """What a reader holds by partition, and its changelog topic."""

    def __init__(
        self, topic: str, *, bootstrap: str, write: Write, fetch_max_wait_ms: int = 20
    ) -> None:
        self.topic = topic
        self._bootstrap = bootstrap
        self._write = write
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._values: dict[int, dict[str, bytes]] = {}
        self._next: dict[int, int] = {}  # the changelog offset after the newest we hold

    def get(self, partition: int, key: str) -> bytes | None:
        held = self._values.get(partition)
        return held.get(key) if held is not None else None

    def find(self, key: str) -> bytes | None:
        """The key's value, in whichever partition holds it."""
        for held in self._values.values():
            value = held.get(key)
            if value is not None:
                return value
        return None

    def items(self) -> Iterator[tuple[str, bytes]]:
        """Every key held, with its value (a snapshot: safe while batches change them)."""
        for held in list(self._values.values()):
            yield from list(held.items())

    def __len__(self) -> int:
        return sum(len(held) for held in self._values.values())

    async def save(self, changes: Sequence[tuple[int, str, bytes]]) -> None:
        """Send (partition, key, value) to the changelog, wait for every ack, then hold them."""
        offsets = await self._write(
            self.topic, [(key.encode(), value, p) for p, key, value in changes]
        )
        newest: dict[int, int] = {}
        for (partition, key, value), offset in zip(changes, offsets, strict=True):
            self._values.setdefault(partition, {})[key] = value
            newest[partition] = max(newest.get(partition, -1), offset)
        for partition, offset in newest.items():
            self._next[partition] = offset + 1

    async def assigned(self, partitions: Sequence[int]) -> None:
        """Hold exactly the values of `partitions`: drop the others; read back from the
        changelog each one this process did not write last."""
        keep = set(partitions)
        for partition in [p for p in self._values if p not in keep]:
            del self._values[partition]
            self._next.pop(partition, None)
        if not partitions:
            return
        tps = [TopicPartition(self.topic, p) for p in partitions]
        ends = await true_end_offsets(
            self._bootstrap, tps, fetch_max_wait_ms=self._fetch_max_wait_ms
        )
        stale = [tp for tp in tps if self._next.get(tp.partition) != ends[tp] or ends[tp] == 0]
        kept = len(tps) - len(stale)
        for tp in stale:
            self._values[tp.partition] = {}
            self._next[tp.partition] = ends[tp]
        to_read = [tp for tp in stale if ends[tp] > 0]
        if to_read:
            await self._restore(to_read, ends)
        log.info(
            "state_restored",
            topic=self.topic,
            partitions=sorted(partitions),
            kept=kept,
            read=len(to_read),
            keys=len(self),
        )

    async def _restore(self, tps: list[TopicPartition], ends: dict[TopicPartition, int]) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            enable_auto_commit=False,
            fetch_max_wait_ms=self._fetch_max_wait_ms,
        )
        await consumer.start()
        try:
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            pending = set(tps)
            while pending:
                fetched = await consumer.getmany(
                    *pending, timeout_ms=200, max_records=RESTORE_FETCH
                )
                for tp, records in fetched.items():
                    held = self._values[tp.partition]
                    for record in records:
                        if record.offset >= ends[tp] or record.key is None:
                            continue
                        key = record.key.decode()
                        if record.value is None:
                            held.pop(key, None)  # a tombstone
                        else:
                            held[key] = record.value
                for tp in list(pending):
                    if await consumer.position(tp) >= ends[tp]:
                        pending.discard(tp)
        finally:
            await consumer.stop()
