"""The ingress spool: events accepted while Kafka is down are published when it is back."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError

from dispatch.bus import EventPublisher
from dispatch.clock import SystemClock
from dispatch.ingress.spool import IngressSpool
from dispatch.stack.broker import free_port
from tests.integration.spool_support import call, published_sids


async def test_calls_spooled_while_kafka_down_are_published_later(
    pg_pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    """With no broker reachable, calls are kept; a relay with a broker publishes all, in order."""
    down = EventPublisher(f"127.0.0.1:{free_port()}", request_timeout_ms=1000)
    offline = IngressSpool(pg_pool, down, SystemClock())
    sids = [f"CA-spool-{i}" for i in range(3)]
    for sid in sids:
        assert await offline.record([call(sid)]) is True
    assert await offline.record([call(sids[0])]) is False  # a Twilio retry is not spooled twice
    with pytest.raises(KafkaConnectionError):
        await offline.relay_once()
    assert await offline.pending() == 3
    await down.stop()

    up = EventPublisher(kafka_bootstrap)
    try:
        assert await IngressSpool(pg_pool, up, SystemClock()).relay_once() == 3
    finally:
        await up.stop()
    assert await offline.pending() == 0

    assert await published_sids(kafka_bootstrap, "CA-spool-", 3) == sids


async def test_a_batch_is_spooled_whole_in_its_order_and_a_repeat_adds_nothing(
    pg_pool: asyncpg.Pool,
) -> None:
    """Several events spool in their given order; a retry whose first event is already
    there reports it and stores only the events not yet spooled."""
    spool = IngressSpool(pg_pool, EventPublisher("127.0.0.1:1"), SystemClock())
    sids = [f"CA-batch-{i}" for i in range(4)]
    assert await spool.record([call(s) for s in sids[:3]]) is True
    assert await spool.record([call(sids[0]), call(sids[3])]) is False
    assert await spool.record([call(sids[3])]) is False
    assert await spool.record([]) is False
    rows = await pg_pool.fetch(
        "SELECT event_id FROM ingress_spool WHERE event_id = ANY($1::uuid[]) ORDER BY seq",
        [call(s).event_id for s in sids],
    )
    assert [r["event_id"] for r in rows] == [call(s).event_id for s in sids]


async def test_records_made_together_keep_their_order_and_a_twin_is_fresh_once(
    pg_pool: asyncpg.Pool,
) -> None:
    """Calls arriving while a write is in flight are written together (decision 057): each
    is spooled in the order it arrived, and of two deliveries of one call (Twilio's retry
    racing the first) exactly one is reported fresh."""
    spool = IngressSpool(pg_pool, EventPublisher("127.0.0.1:1"), SystemClock())
    sids = [f"CA-together-{i}" for i in range(20)]
    records = [spool.record([call(sid)]) for sid in sids]
    twin = spool.record([call(sids[7])])
    fresh = await asyncio.gather(*records, twin)

    assert fresh == [True] * 20 + [False]
    rows = await pg_pool.fetch(
        "SELECT event_id FROM ingress_spool WHERE event_id = ANY($1::uuid[]) ORDER BY seq",
        [call(s).event_id for s in sids],
    )
    assert [r["event_id"] for r in rows] == [call(s).event_id for s in sids]
