"""Figures from the event archive for the metrics (page latency, escalation lag, re-driven
deadlines), and open dispatches' own events for the escalation auditor."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from dispatch.escalation.audit import AUDITED_TYPES, AUDITOR
from dispatch.events import Envelope
from dispatch.events.codec import decode_obj
from dispatch.health.ports import FirstPage, StepMove
from projections.health import CRISIS_CONTACTS, dispatch_of_contact

ENVELOPE_COLUMNS = """event_id, type, schema_version, key, occurred_at, recorded_at,
    correlation_id, causation_id, actor, payload::text AS payload"""


class ArchiveFigures:
    """The ArchiveObservations port over event_archive."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def first_pages(self, since: datetime) -> list[FirstPage]:
        async with self._pool.acquire() as conn:
            contacts = await conn.fetch(
                """SELECT event_id, type, occurred_at FROM event_archive
                   WHERE occurred_at >= $1 AND type = ANY($2::text[])""",
                since,
                CRISIS_CONTACTS,
            )
            by_dispatch = {str(dispatch_of_contact(c["event_id"])): c for c in contacts}
            if not by_dispatch:
                return []
            pages = await conn.fetch(
                """SELECT key, min(recorded_at) AS paged_at FROM event_archive
                   WHERE key = ANY($1::text[]) AND type = 'PageSent' GROUP BY key""",
                list(by_dispatch),
            )
        return [
            FirstPage(
                dispatch_id=uuid.UUID(p["key"]),
                contact_type=by_dispatch[p["key"]]["type"],
                contact_at=by_dispatch[p["key"]]["occurred_at"],
                paged_at=p["paged_at"],
            )
            for p in pages
        ]

    async def step_moves(self, since: datetime) -> list[StepMove]:
        rows = await self._pool.fetch(
            """SELECT event_id, occurred_at, recorded_at FROM event_archive
               WHERE occurred_at >= $1 AND type = 'DispatchEscalated'
                 AND payload->>'reason' = 'timeout'""",
            since,
        )
        return [StepMove(r["event_id"], r["occurred_at"], r["recorded_at"]) for r in rows]

    async def redrives(self, since: datetime) -> list[tuple[uuid.UUID, datetime]]:
        rows = await self._pool.fetch(
            """SELECT event_id, occurred_at FROM event_archive
               WHERE occurred_at >= $1 AND type = 'EscalationDeadlineReached' AND actor = $2""",
            since,
            AUDITOR,
        )
        return [(r["event_id"], r["occurred_at"]) for r in rows]


def _envelope(row: asyncpg.Record) -> Envelope:
    return decode_obj({**dict(row), "payload": json.loads(row["payload"])})


async def open_dispatch_histories(
    pool: asyncpg.Pool, *, opened_before: datetime, limit: int
) -> list[Sequence[Envelope]]:
    """The escalation events of open dispatches opened before `opened_before` (oldest
    first, at most `limit` dispatches), each dispatch's opening first."""
    rows = await pool.fetch(
        f"""WITH open AS (
                SELECT dispatch_id::text AS key FROM dispatches
                WHERE status = 'open' AND opened_at <= $1 ORDER BY opened_at LIMIT $2)
            SELECT {ENVELOPE_COLUMNS} FROM open JOIN event_archive a USING (key)
            WHERE a.type = ANY($3::text[])
            ORDER BY a.key, (a.type = 'DispatchOpened') DESC, a.occurred_at, a.recorded_at""",  # noqa: S608 - a fixed column list
        opened_before,
        limit,
        sorted(AUDITED_TYPES),
    )
    histories: dict[str, list[Envelope]] = {}
    for row in rows:
        histories.setdefault(row["key"], []).append(_envelope(row))
    return list(histories.values())
