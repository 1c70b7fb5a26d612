"""`dispatch restore`: the PostgreSQL archive back into an empty broker, as it was.

Each test runs brokers of its own (a restore needs the system's topics empty): the first
one's log is archived by the projector, then restored into a new empty broker.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from dispatch.bus import EventPublisher
from dispatch.clock import SystemClock
from dispatch.demo.seed import seed_events
from dispatch.events.codec import decode
from dispatch.ingress.spool import IngressSpool
from dispatch.settings import Settings
from dispatch.stack.broker import EmbeddedBroker
from dispatch.stack.restore import RestoreRefused, restore, restore_archive, restore_if_empty
from dispatch.topics import topic_specs
from projections.projector import Projector
from tests.e2e.south_team import south_team_events

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
# Two teams' rosters and clients (random event ids, fixed for this module).
HISTORY = seed_events(NOW, "+15005550001") + south_team_events(NOW)
TOPICS = [spec.name for spec in topic_specs()]
Log = dict[tuple[str, int], list[tuple[str, bytes]]]  # (topic, partition) -> [(event id, key)]
StartBroker = Callable[[int], Awaitable[EmbeddedBroker]]


@pytest.fixture
async def brokers(tmp_path: Path) -> AsyncIterator[StartBroker]:
    """Start embedded brokers (each stopped by its PID afterwards)."""
    started: list[EmbeddedBroker] = []

    async def start(partitions: int) -> EmbeddedBroker:
        broker = EmbeddedBroker(tmp_path / f"broker-{len(started)}", partitions=partitions)
        started.append(broker)
        await broker.start()
        return broker

    yield start
    for broker in started:
        await broker.stop()


async def read_log(bootstrap: str, expected: int) -> Log:
    """Every event in the system's topics, per partition in offset order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        parts = [
            TopicPartition(t, p) for t in TOPICS for p in consumer.partitions_for_topic(t) or ()
        ]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        log: Log = defaultdict(list)
        seen = 0
        while seen < expected:
            batches = await consumer.getmany(timeout_ms=2000)
            assert batches, f"only {seen} of {expected} events in the log"
            for tp, records in batches.items():
                for r in records:
                    log[(tp.topic, tp.partition)].append((str(decode(r.value).event_id), r.key))
                    seen += 1
        return dict(log)
    finally:
        await consumer.stop()


async def archive_from(pool: asyncpg.Pool, broker: EmbeddedBroker, events: int) -> Log:
    """Publish the first events of HISTORY to broker, let the projector archive them;
    returns the broker's log."""
    publisher = EventPublisher(broker.bootstrap_servers)
    projector = Projector(pool, broker.bootstrap_servers, TOPICS)
    await projector.start()
    try:
        await publisher.publish(HISTORY[:events])
        await projector.wait_until_caught_up(timeout=30)
    finally:
        await projector.stop()
        await publisher.stop()
    return await read_log(broker.bootstrap_servers, events)


async def test_restore_replays_the_archive_in_order_with_keys_and_partitions(
    pg_pool: asyncpg.Pool, brokers: StartBroker
) -> None:
    """An empty broker gets every archived event back: same partition, same key, same order;
    the projector's offsets point past them, so nothing is projected twice."""
    original = await archive_from(pg_pool, await brokers(2), events=len(HISTORY))
    fresh = await brokers(2)
    report = await restore_if_empty(pg_pool, fresh.bootstrap_servers)
    assert report.skipped is None and report.restored == len(HISTORY) and report.by_key_topics == ()
    assert await read_log(fresh.bootstrap_servers, len(HISTORY)) == original
    offsets = {
        (r["topic"], r["partition"]): r["next_offset"]
        for r in await pg_pool.fetch("SELECT * FROM projection_offsets")
    }
    assert offsets == {place: len(events) for place, events in original.items()}


async def test_a_spooled_event_the_dead_broker_took_but_never_archived_is_sent_again(
    pg_pool: asyncpg.Pool, brokers: StartBroker
) -> None:
    """An event the relay had published (the broker acknowledged it, then died before the
    projector archived it) is handed back to the relay; archived ones are not."""
    await archive_from(pg_pool, await brokers(1), events=5)
    fresh = await brokers(1)
    spool = IngressSpool(pg_pool, EventPublisher(fresh.bootstrap_servers), SystemClock())
    archived, lost = HISTORY[0], HISTORY[6]
    await spool.record([archived])
    await spool.record([lost])
    await pg_pool.execute("UPDATE ingress_spool SET published_at = now()")
    report = await restore(pg_pool, fresh.bootstrap_servers)
    assert (report.restored, report.respooled) == (5, 1)
    unpublished = await pg_pool.fetch(
        "SELECT event_id FROM ingress_spool WHERE published_at IS NULL"
    )
    assert [r["event_id"] for r in unpublished] == [lost.event_id]


async def test_a_broker_that_holds_events_is_never_restored_into(
    pg_url: str, pg_pool: asyncpg.Pool, brokers: StartBroker
) -> None:
    """`dispatch restore` fills an empty broker once: a second restore is refused (it would
    append a second copy), and the automatic one skips."""
    await archive_from(pg_pool, await brokers(1), events=5)
    fresh = await brokers(1)
    settings = Settings(database_url=pg_url, kafka_bootstrap_servers=fresh.bootstrap_servers)
    assert (await restore_archive(settings)).restored == 5
    with pytest.raises(RestoreRefused, match="already holds"):
        await restore(pg_pool, fresh.bootstrap_servers)
    skipped = await restore_if_empty(pg_pool, fresh.bootstrap_servers)
    assert skipped.restored == 0 and skipped.skipped is not None
    assert sum(len(v) for v in (await read_log(fresh.bootstrap_servers, 5)).values()) == 5


async def test_fewer_partitions_keep_each_keys_order(
    pg_pool: asyncpg.Pool, brokers: StartBroker
) -> None:
    """Restored into fewer partitions, the key picks the partition and each key's events keep
    their order."""
    original = await archive_from(pg_pool, await brokers(4), events=len(HISTORY))
    fresh = await brokers(1)
    report = await restore(pg_pool, fresh.bootstrap_servers)
    assert report.restored == len(HISTORY) and "act.client-events" in report.by_key_topics
    restored = await read_log(fresh.bootstrap_servers, len(HISTORY))

    def by_key(log: Log) -> dict[tuple[str, bytes], list[str]]:
        out: dict[tuple[str, bytes], list[str]] = defaultdict(list)
        for (topic, _), events in sorted(log.items()):
            for event_id, key in events:
                out[(topic, key)].append(event_id)
        return dict(out)

    assert by_key(restored) == by_key(original)
