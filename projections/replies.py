"""Staff reply decisions, for the edge that waits to tell a voice caller or an API client."""

from __future__ import annotations

import uuid

import asyncpg

from dispatch.events import Envelope, EventPayload
from dispatch.paging.ledger import PageLedger
from dispatch.replies.desk import Decision, KnownDispatch
from dispatch.replies.events import StaffReplyDecided, StaffReplyReceived
from projections.handlers import handler_table, on
from projections.queries import ReadModels


async def _decided(conn: asyncpg.Connection, e: Envelope, p: StaffReplyDecided) -> None:
    await conn.execute(
        """INSERT INTO staff_replies (reply_event_id, dispatch_id, short_code, channel, verb,
                                      staff_id, accepted, reason, holder, dispatch_status,
                                      decided_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (reply_event_id) DO NOTHING""",
        p.reply_event_id,
        p.dispatch_id,
        p.short_code,
        p.channel,
        p.verb,
        p.staff_id,
        p.accepted,
        p.reason,
        p.holder,
        p.dispatch_status,
        e.recorded_at,
    )


HANDLERS = handler_table(on(StaffReplyDecided, _decided))
ARCHIVE_ONLY: frozenset[type[EventPayload]] = frozenset({StaffReplyReceived})


class ReplyLookups:
    """What the reply desk reads: which dispatch a code names, and a reply's decision."""

    def __init__(self, pool: asyncpg.Pool, read_models: ReadModels, ledger: PageLedger) -> None:
        self._pool = pool
        self._rm = read_models
        self._ledger = ledger

    async def by_code(self, short_code: str) -> KnownDispatch | None:
        row = await self._rm.dispatch_by_code(short_code)
        paged = await self._ledger.dispatch_for_code(short_code)
        if row is not None and (paged is None or row.dispatch_id == paged[0]):
            return KnownDispatch(row.dispatch_id, row.short_code, row.correlation_id)
        if paged is not None:  # paged, not projected yet: the agent has its state already
            return KnownDispatch(paged[0], short_code, paged[1])
        return None

    async def decided(self, reply_event_id: uuid.UUID) -> Decision | None:
        row = await self._pool.fetchrow(
            """SELECT accepted, reason, holder, dispatch_status FROM staff_replies
               WHERE reply_event_id = $1""",
            reply_event_id,
        )
        return Decision(**dict(row)) if row else None
