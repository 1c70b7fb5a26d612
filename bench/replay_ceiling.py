"""The replay's ceiling: the simplest projection plain SQL can rebuild from the same archive.

One server-side cursor over the archive (the same columns and order as `dispatch replay`
reads, the next batch fetched while one is written, as the replay does), each batch copied
into a temporary table and folded by one grouped upsert into a single table (per key: how
many events, the newest one's time and type), with one tracking row per batch, in one
transaction per batch, with asyncpg. No decoding, no per-event work in Python: what the
machine allows for reading the archive and writing one read model.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import asyncpg

from projections.replay_read import COLUMNS

SETUP = """
CREATE TABLE IF NOT EXISTS ceiling_by_key (key text PRIMARY KEY, events bigint NOT NULL,
                                           last_at timestamptz NOT NULL, last_type text NOT NULL);
CREATE TABLE IF NOT EXISTS ceiling_tracking (name text PRIMARY KEY, position bigint NOT NULL);
TRUNCATE ceiling_by_key, ceiling_tracking;
CREATE TEMP TABLE ceiling_batch (key text, occurred_at timestamptz, type text)
    ON COMMIT DELETE ROWS;
"""
UPSERT = """
INSERT INTO ceiling_by_key AS k (key, events, last_at, last_type)
SELECT key, count(*), max(occurred_at), (array_agg(type ORDER BY occurred_at DESC))[1]
FROM ceiling_batch GROUP BY key
ON CONFLICT (key) DO UPDATE SET events = k.events + EXCLUDED.events,
    last_at = GREATEST(k.last_at, EXCLUDED.last_at),
    last_type = CASE WHEN EXCLUDED.last_at >= k.last_at THEN EXCLUDED.last_type
                     ELSE k.last_type END
"""
TRACK = """INSERT INTO ceiling_tracking VALUES ('ceiling', $1)
           ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position"""


async def rebuild(url: str, batch: int = 10_000) -> tuple[int, float]:
    """Rebuild the single table from the whole archive; returns (events, seconds)."""
    reader, writer = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        await writer.execute(SETUP)
        started = time.monotonic()
        done = 0
        async with reader.transaction(isolation="repeatable_read", readonly=True):
            query = f"SELECT {COLUMNS} FROM event_archive ORDER BY archived_seq"  # noqa: S608
            cursor = await reader.cursor(query)
            pending = asyncio.ensure_future(cursor.fetch(batch))
            try:
                while rows := await pending:
                    pending = asyncio.ensure_future(cursor.fetch(batch))
                    records = [(r["key"], r["occurred_at"], r["type"]) for r in rows]
                    async with writer.transaction():
                        await writer.copy_records_to_table("ceiling_batch", records=records)
                        await writer.execute(UPSERT)
                        await writer.execute(TRACK, rows[-1]["archived_seq"])
                    done += len(rows)
            finally:
                if not pending.done():
                    pending.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await pending
        seconds = time.monotonic() - started
        counted = await writer.fetchval("SELECT sum(events) FROM ceiling_by_key")
        if counted != done:
            raise RuntimeError(f"the ceiling counted {counted} of {done} events")
        return done, seconds
    finally:
        await reader.close()
        await writer.close()
