"""Is the broker there, and does it have the event topics? A TCP connect, then one metadata
request on a connection of its own, closed at once.

The TCP connect comes first so that a broker that is down costs one refused connection
and no client library log line on every probe.

For the embedded broker the probe also says how many records its busiest partition has
taken since this process first looked (`history_every_s` set; docs/decisions/040): tansu's
memory storage answers a fetch more slowly the more batches a partition holds, sharply so
past about 2,500, and only a restart empties it. That is read in the background, at most
once every `history_every_s`, never inside a probe's budget: a probe reports the latest
reading (none before the first). The count is each partition's end offset less its true
end at the first look (read from a fetch: after a start, what the archive's restore
published in large batches is left out), an upper bound on the batches added: tansu
reports an end as its newest batch's first offset + 1, so a batch of several records
counts as at least one. The
stack calls `forget` when it restarted its broker and restored it; a partition whose end
went down also shows a broker restarted empty. Either way the count starts again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Sequence

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.cluster import ClusterMetadata

from dispatch.health.report import BrokerReading, Fullest
from dispatch.stack.end_offsets import true_end_offsets
from dispatch.tasks import cancel_and_wait

log = structlog.get_logger(__name__)


def bootstrap_hosts(servers: str) -> list[tuple[str, int]]:
    """'host:port,host:port' as (host, port) pairs (port 9092 when none is given)."""
    hosts: list[tuple[str, int]] = []
    for item in filter(None, (part.strip() for part in servers.split(","))):
        host, _, port = item.rpartition(":") if ":" in item else (item, "", "9092")
        hosts.append((host.strip("[]"), int(port)))
    return hosts


class KafkaMetadataProbe:
    def __init__(
        self,
        bootstrap_servers: str,
        topics: Sequence[str],
        *,
        history_every_s: float | None = None,
    ) -> None:
        self._servers = bootstrap_servers
        self._topics = tuple(topics)
        self._history_every_s = history_every_s  # None: the partitions' fill is not read
        self._fullest: Fullest | None = None
        self._read_at: float | None = None  # monotonic time of the last history reading
        self._refresh: asyncio.Task[None] | None = None
        self._reading = asyncio.Lock()  # one history reading at a time
        self._last_ends: dict[TopicPartition, int] = {}  # ListOffsets at the last look
        self._base: dict[TopicPartition, int] = {}  # true ends at the first look
        self._taken: dict[TopicPartition, int] = {}  # records since then, at the last look

    async def _reachable(self) -> None:
        errors: list[str] = []
        for host, port in bootstrap_hosts(self._servers):
            try:
                _, writer = await asyncio.open_connection(host, port)
            except OSError as exc:
                errors.append(f"{host}:{port} {exc.strerror or exc}")
                continue
            writer.close()
            return
        raise ConnectionError("; ".join(errors) or "no bootstrap servers configured")

    async def _metadata(self) -> ClusterMetadata:
        client = AIOKafkaClient(bootstrap_servers=self._servers, request_timeout_ms=5_000)
        try:
            await client.bootstrap()
            metadata: ClusterMetadata = await client.fetch_all_metadata()
        finally:
            await client.close()
        return metadata

    async def read(self) -> BrokerReading:
        await self._reachable()
        metadata = await self._metadata()
        present = set(metadata.topics())
        if self._history_due():  # from the metadata just read: no second request
            self._refresh = asyncio.create_task(self._refresh_quietly(metadata))
        return BrokerReading(
            topics_missing=tuple(t for t in self._topics if t not in present),
            fullest=self._fullest,
        )

    def _history_due(self) -> bool:
        every = self._history_every_s
        if every is None or (self._refresh is not None and not self._refresh.done()):
            return False
        return self._read_at is None or time.monotonic() - self._read_at >= every

    async def _refresh_quietly(self, metadata: ClusterMetadata) -> None:
        try:
            await self.read_history(metadata)
        except Exception as exc:  # the next probe tries again; the broker check sees a dead broker
            log.warning("broker_history_not_read", error=repr(exc))
            self._read_at = time.monotonic()

    async def read_history(self, metadata: ClusterMetadata | None = None) -> Fullest | None:
        """Read now how many records each partition took since the first look (see the
        module's doc); what later probes report. `metadata`: the broker's, when just read."""
        async with self._reading:
            return await self._read_history(metadata or await self._metadata())

    async def _read_history(self, metadata: ClusterMetadata) -> Fullest | None:
        partitions = [
            TopicPartition(topic, p)
            for topic in sorted(metadata.topics())
            for p in sorted(metadata.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return None
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._servers, enable_auto_commit=False, request_timeout_ms=5_000
        )
        await consumer.start()
        try:
            reported: dict[TopicPartition, int] = dict(await consumer.end_offsets(partitions))
        finally:
            await consumer.stop()
        if any(end < self._last_ends.get(tp, 0) for tp, end in reported.items()):
            self._base = {}  # an end went down: the broker restarted empty
        self._last_ends = reported
        if new := [tp for tp in partitions if tp not in self._base]:
            self._base.update(await true_end_offsets(self._servers, new))
        self._taken = {tp: max(0, end - self._base[tp]) for tp, end in reported.items()}
        self._fullest = self.fullest_of()
        self._read_at = time.monotonic()
        return self._fullest

    def fullest_of(self, topics: Collection[str] | None = None) -> Fullest | None:
        """At the latest reading, the partition (of `topics`, else of any topic) that took
        the most records; on a tie, the first by name. None before a reading."""
        taken = [(tp, n) for tp, n in self._taken.items() if topics is None or tp.topic in topics]
        if not taken:
            return None
        tp, records = min(taken, key=lambda item: (-item[1], item[0].topic, item[0].partition))
        return Fullest(topic=tp.topic, partition=tp.partition, records=records)

    def forget(self) -> None:
        """The broker was restarted empty (and what the workers need restored into it):
        the next history reading is the new first look."""
        if self._refresh is not None:
            self._refresh.cancel()
        self._last_ends, self._base, self._taken = {}, {}, {}
        self._fullest, self._read_at = None, None

    async def close(self) -> None:
        await cancel_and_wait(self._refresh)
