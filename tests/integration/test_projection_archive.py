"""The projector's archive insert: a poll's events by one statement (archive_many) leave
exactly the rows that archiving them one by one (archive) leaves, in the same order."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import asyncpg

from dispatch.events import Envelope
from dispatch.events.codec import decode, encode
from projections.project import Position, archive, archive_many
from tests.integration.replay_history import Shape, delivered, history


def odd_times(event: Envelope) -> Envelope:
    """The event at times orjson's own datetime form would change (an offset with seconds:
    it drops them), with microseconds, west of Greenwich."""
    odd = timezone(timedelta(hours=5, minutes=30, seconds=15))
    return event.model_copy(
        update={
            "occurred_at": datetime(2026, 3, 2, 8, 0, 0, 123456, tzinfo=odd),
            "recorded_at": datetime(2026, 3, 2, 1, 0, 0, 1, tzinfo=timezone(-timedelta(hours=3.5))),
        }
    )


async def archived(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        """SELECT event_id, type, schema_version, key, occurred_at, recorded_at,
                  correlation_id, causation_id, actor, payload::text AS payload, topic,
                  partition, "offset"
           FROM event_archive ORDER BY archived_seq"""
    )


async def test_archive_many_writes_the_rows_archive_writes(pg_pool: asyncpg.Pool) -> None:
    """Every event type of a generated history, decoded as the projector decodes it, some
    delivered twice (the first copy is kept), some at odd times and without a position:
    one statement archives the same rows, in the same order, as one insert per event."""
    shape = Shape(seed=29, duplicates=0.1)
    batch: list[tuple[Envelope, Position | None]] = [
        (decode(encode(e)), p) for e, p in delivered(history(shape), shape)
    ]
    assert len({e.event_id for e, _ in batch}) < len(batch)  # redeliveries are in it
    batch[5] = (odd_times(batch[5][0]), batch[5][1])
    batch[6] = (batch[6][0], None)

    async with pg_pool.acquire() as conn, conn.transaction():
        for event, position in batch:
            await archive(conn, event, position)
    one_by_one = await archived(pg_pool)
    await pg_pool.execute("TRUNCATE event_archive")
    async with pg_pool.acquire() as conn, conn.transaction():
        await archive_many(conn, batch)
        await archive_many(conn, [])
        await archive_many(conn, batch[:50])  # already there: nothing more
    assert await archived(pg_pool) == one_by_one
    assert len(one_by_one) == len({e.event_id for e, _ in batch})
    odd = next(r for r in one_by_one if r["event_id"] == batch[5][0].event_id)
    assert odd["occurred_at"] == batch[5][0].occurred_at
