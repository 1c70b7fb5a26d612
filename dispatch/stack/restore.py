"""`dispatch restore`: the PostgreSQL event archive published again into an empty broker.

The embedded broker keeps its log in memory; PostgreSQL's event archive is the durable copy
(every event the projector read, with its topic, partition, offset and key). Restoring:

1. refuses a broker whose topics hold any event (a second copy would follow the first);
2. publishes every archived event again (`dispatch up`'s automatic restore: only what the
   workers need, dispatch/stack/restore_needs.py) in the order it was archived (per
   topic-partition that is the log's order, docs/decisions/011), with its key, to its
   original partition when the topic has as many partitions as the archive used, otherwise
   to the partition its key picks (the order of each key's events is kept either way);
3. sets the projector's stored offsets to the end of what was restored: those events are
   archived and projected already, and whatever comes next is projected normally;
4. marks again as unpublished the ingress spool rows whose event is not in the archive:
   the relay had them acknowledged by the broker that then died before the projector read
   them, so they were in neither place. The relay publishes them again after the restore.

The workers then rebuild their tables by reading the restored topics from the beginning
(a new broker has no committed offsets); replayed decisions carry the same derived ids and
are not appended again when the archive holds them (each restored record carries the
RESTORED header), the page ledger sends nothing twice, and a replayed escalation deadline for
a step already left changes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from dispatch.bus import MAX_BATCH_BYTES
from dispatch.events.codec import decode_obj, encode
from dispatch.events.registry import topic_of
from dispatch.settings import Settings
from dispatch.stack.restore_needs import RESTORED_HEADERS, archive_query
from dispatch.topics import topic_specs

log = structlog.get_logger(__name__)

_ENVELOPE = (
    "event_id",
    "type",
    "schema_version",
    "key",
    "occurred_at",
    "recorded_at",
    "correlation_id",
    "causation_id",
    "actor",
)


def payload(row: Any) -> Any:
    """An archive row's payload as a JSON value (asyncpg hands jsonb over as text)."""
    raw = row["payload"]
    return json.loads(raw) if isinstance(raw, str) else raw


class RestoreRefused(RuntimeError):
    """The broker is not ready for a restore (its topics hold events, or are missing)."""


@dataclass(frozen=True)
class RestoreReport:
    """What a restore did. `skipped` says why it did nothing (None: it ran)."""

    restored: int = 0  # archived events published again
    needed_only: bool = False  # only what the workers need (the rest stays archived)
    respooled: int = 0  # spool rows the relay will publish again (never archived)
    by_topic: dict[str, int] = field(default_factory=dict)
    by_key_topics: tuple[str, ...] = ()  # topics whose partition count changed: keys decide
    skipped: str | None = None
    elapsed_s: float = 0.0


async def events_held(bootstrap: str, topics: Sequence[str]) -> int:
    """How many events the broker's topics hold (0: empty). Raises RestoreRefused when a
    topic is missing."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        missing = sorted(set(topics) - set(await admin.list_topics()))
    finally:
        await admin.close()
    if missing:
        raise RestoreRefused(f"topics {missing} do not exist (dispatch topics create)")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        parts = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        # tansu's "latest" can fall short of the real end, but never to 0 for a log that
        # holds anything: good enough to tell empty from not.
        ends = await consumer.end_offsets(parts)
    finally:
        await consumer.stop()
    return sum(ends.values())


async def restore_archive(settings: Settings) -> RestoreReport:
    """`dispatch restore`: restore() on the configured database and broker."""
    from projections.pool import connect

    pool = await connect(settings.database_url, max_size=2)
    try:
        return await restore(pool, settings.kafka_bootstrap_servers)
    finally:
        await pool.close()


async def restore_if_empty(
    pool: asyncpg.Pool, bootstrap: str, *, needed_only: bool = False
) -> RestoreReport:
    """Restore when the broker's topics are empty; otherwise do nothing (say why)."""
    topics = [spec.name for spec in topic_specs()]
    held = await events_held(bootstrap, topics)
    if held:
        return RestoreReport(skipped=f"the broker already holds {held} events")
    return await restore(
        pool, bootstrap, topics=topics, checked_empty=True, needed_only=needed_only
    )


async def restore(
    pool: asyncpg.Pool,
    bootstrap: str,
    *,
    topics: Sequence[str] | None = None,
    checked_empty: bool = False,
    needed_only: bool = False,
    batch: int = 500,
) -> RestoreReport:
    """Publish the archive into the broker's empty topics (see the module's docstring);
    needed_only: only what the workers need (dispatch/stack/restore_needs.py)."""
    began = time.monotonic()
    names = list(topics or [spec.name for spec in topic_specs()])
    if not checked_empty and (held := await events_held(bootstrap, names)):
        raise RestoreRefused(f"the broker already holds {held} events; restore needs it empty")
    archived: int = await pool.fetchval("SELECT count(*) FROM event_archive")
    unarchived = await _unarchived_spool_rows(pool)
    if not archived and not unarchived:
        return RestoreReport(skipped="nothing archived or spooled")
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=False,
        linger_ms=5,
        # Each request writes one batch per partition, and the embedded broker's fetches
        # slow with every batch a partition holds (decision 040): the archive goes in
        # batches of up to 1 MB, not aiokafka's 16 KiB.
        max_batch_size=MAX_BATCH_BYTES,
        max_request_size=MAX_BATCH_BYTES,
    )
    await producer.start()
    try:
        counts = {name: len(await producer.partitions_for(name)) for name in names}
        by_key = await _topics_to_key(pool, counts)
        ends, by_topic = await _publish_archive(
            pool, producer, names, by_key, batch, needed_only=needed_only
        )
    finally:
        await producer.stop()
    respooled = await _resume_projection_and_spool(pool, names, ends)
    report = RestoreReport(
        restored=sum(by_topic.values()),
        respooled=respooled,
        by_topic=by_topic,
        by_key_topics=tuple(sorted(by_key)),
        needed_only=needed_only,
        elapsed_s=round(time.monotonic() - began, 3),
    )
    log.info(
        "broker_restored",
        restored=report.restored,
        respooled=report.respooled,
        by_topic=report.by_topic,
        by_key_topics=list(report.by_key_topics),
        needed_only=needed_only,
        elapsed_s=report.elapsed_s,
    )
    return report


async def _unarchived_spool_rows(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval(
        """SELECT count(*) FROM ingress_spool s WHERE s.published_at IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM event_archive a WHERE a.event_id = s.event_id)"""
    )
    return count


async def _topics_to_key(pool: asyncpg.Pool, partitions: dict[str, int]) -> set[str]:
    """Topics whose archived partitions do not all exist now: their keys pick partitions."""
    rows = await pool.fetch("SELECT topic, max(partition) AS top FROM event_archive GROUP BY topic")
    return {
        r["topic"]
        for r in rows
        if r["topic"] in partitions and (r["top"] is None or r["top"] >= partitions[r["topic"]])
    }


async def _publish_archive(
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    names: Sequence[str],
    by_key: set[str],
    batch: int,
    *,
    needed_only: bool,
) -> tuple[dict[tuple[str, int], int], dict[str, int]]:
    """Every archived event of our topics, in archive order; returns each partition's next
    offset after the restore and how many events each topic got."""
    ends: dict[tuple[str, int], int] = {}
    by_topic = dict.fromkeys(names, 0)
    pending: list[Any] = []

    async def settle() -> None:
        for future in pending:
            meta = await future
            place = (meta.topic, meta.partition)
            ends[place] = max(ends.get(place, 0), meta.offset + 1)
        pending.clear()

    query = archive_query(needed_only=needed_only)
    async with pool.acquire() as conn, conn.transaction():
        async for row in conn.cursor(query.sql, *query.args, prefetch=batch):
            event = decode_obj({name: row[name] for name in _ENVELOPE} | {"payload": payload(row)})
            topic = row["topic"] or topic_of(event)
            if topic not in by_topic:
                continue  # not one of the system's topics (a test's own, say)
            partition = None if topic in by_key or row["partition"] is None else row["partition"]
            pending.append(
                await producer.send(
                    topic,
                    encode(event),
                    key=event.key.encode(),
                    partition=partition,
                    headers=RESTORED_HEADERS,
                )
            )
            by_topic[topic] += 1
            if len(pending) >= batch:
                await settle()
        await settle()
    return ends, by_topic


async def _resume_projection_and_spool(
    pool: asyncpg.Pool, names: Sequence[str], ends: dict[tuple[str, int], int]
) -> int:
    """Point the projector's stored offsets at the end of the restored log, and hand the
    spool rows that never reached the archive back to the relay; returns how many."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """UPDATE projection_offsets o
               SET next_offset = coalesce(
                   (SELECT e.next FROM unnest($2::text[], $3::int[], $4::bigint[])
                        AS e(topic, partition, next)
                    WHERE e.topic = o.topic AND e.partition = o.partition), 0)
               WHERE o.topic = ANY($1::text[])""",
            list(names),
            [topic for topic, _ in ends],
            [partition for _, partition in ends],
            list(ends.values()),
        )
        respooled = await conn.fetch(
            """UPDATE ingress_spool s SET published_at = NULL
               WHERE s.published_at IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM event_archive a WHERE a.event_id = s.event_id)
               RETURNING seq"""
        )
    return len(respooled)
