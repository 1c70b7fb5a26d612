"""What /health reads from PostgreSQL, and the workers' heartbeat rows (docs/decisions/014).

Every query here is short and indexed; the monitor gives each a budget and abandons it at
the deadline, so a hung database makes /health red, never slow.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg

from dispatch.events import derived_id
from dispatch.health.report import ContactReading, SpoolReading, WorkerBeat
from dispatch.topics import CLIENT_EVENTS

CRISIS_CONTACTS = ["CrisisCallReceived", "CrisisTextReceived"]
BEATS_SHOWN = 20
FORGET_BEATS_AFTER = timedelta(days=1)


def dispatch_of_contact(contact_event_id: uuid.UUID) -> uuid.UUID:
    """The dispatch a crisis contact opens (dispatch/crisis/decide.py derives it so)."""
    return derived_id("dispatch", contact_event_id)


async def handled_dispatches(
    conn: asyncpg.Connection, dispatch_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Of these dispatches, those with a page sent (the notifier's ledger) or taken by
    someone (acknowledged or resolved)."""
    rows = await conn.fetch(
        """SELECT dispatch_id FROM page_ledger
           WHERE dispatch_id = ANY($1::uuid[]) AND state = 'sent'
           UNION
           SELECT dispatch_id FROM dispatches
           WHERE dispatch_id = ANY($1::uuid[]) AND status <> 'open'""",
        list(dispatch_ids),
    )
    return {r["dispatch_id"] for r in rows}


class PostgresHealthReadings:
    """The HealthReadings port over the operational tables and read models."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ping(self) -> None:
        await self._pool.fetchval("SELECT 1")

    async def worker_beats(self) -> list[WorkerBeat]:
        rows = await self._pool.fetch(
            """SELECT worker_id, beat_at, consuming_at, assignment, lag, telephony_error
               FROM worker_heartbeats ORDER BY beat_at DESC LIMIT $1""",
            BEATS_SHOWN,
        )
        return [
            WorkerBeat(
                worker_id=r["worker_id"],
                beat_at=r["beat_at"],
                consuming_at=r["consuming_at"],
                assignment=tuple(r["assignment"]),
                lag=r["lag"],
                telephony_error=r["telephony_error"],
            )
            for r in rows
        ]

    async def spool(self) -> SpoolReading:
        row = await self._pool.fetchrow(
            """SELECT count(*) AS pending, min(spooled_at) AS oldest
               FROM ingress_spool WHERE published_at IS NULL"""
        )
        assert row is not None
        return SpoolReading(pending=row["pending"], oldest_unpublished_at=row["oldest"])

    async def unpaged_contacts(self, since: datetime) -> ContactReading:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT event_id, spooled_at FROM ingress_spool
                   WHERE spooled_at >= $1 AND topic = $2
                     AND convert_from(value, 'UTF8')::jsonb->>'type' = ANY($3::text[])
                   ORDER BY spooled_at""",
                since,
                CLIENT_EVENTS,
                CRISIS_CONTACTS,
            )
            if not rows:
                return ContactReading(unpaged=0, oldest_at=None)
            dispatch_ids = {dispatch_of_contact(r["event_id"]): r["spooled_at"] for r in rows}
            handled = await handled_dispatches(conn, list(dispatch_ids))
        waiting = [at for d, at in dispatch_ids.items() if d not in handled]
        return ContactReading(unpaged=len(waiting), oldest_at=min(waiting, default=None))


async def record_worker_beat(pool: asyncpg.Pool, beat: WorkerBeat, started_at: datetime) -> None:
    """Upsert one worker's heartbeat; rows of workers silent for a day are forgotten."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """INSERT INTO worker_heartbeats
                   (worker_id, started_at, beat_at, consuming_at, assignment, lag,
                    telephony_error)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (worker_id) DO UPDATE SET
                   beat_at = EXCLUDED.beat_at,
                   consuming_at = COALESCE(EXCLUDED.consuming_at, worker_heartbeats.consuming_at),
                   assignment = EXCLUDED.assignment,
                   lag = EXCLUDED.lag,
                   telephony_error = EXCLUDED.telephony_error""",
            beat.worker_id,
            started_at,
            beat.beat_at,
            beat.consuming_at,
            list(beat.assignment),
            beat.lag,
            beat.telephony_error,
        )
        await conn.execute(
            "DELETE FROM worker_heartbeats WHERE beat_at < $1", beat.beat_at - FORGET_BEATS_AFTER
        )
