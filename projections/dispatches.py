"""The dispatches read model: status only moves open < acknowledged < resolved, and the
earliest acknowledgement and resolution win. The calls and texts that open dispatches are
kept in the archive only."""

from __future__ import annotations

import asyncpg

from dispatch.crisis.events import (
    CallerMessageRecorded,
    CrisisCallReceived,
    CrisisTextReceived,
    DispatchAcknowledged,
    DispatchOpened,
    DispatchResolved,
)
from dispatch.events import Envelope, EventPayload
from projections.handlers import handler_table, on


async def _dispatch_opened(conn: asyncpg.Connection, e: Envelope, p: DispatchOpened) -> None:
    await conn.execute(
        """INSERT INTO dispatches AS d (dispatch_id, short_code, team_id, client_id, caller_kind,
               reason, risk_level, assigned_staff_id, status, opened_at, correlation_id,
               source_event_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $11)
           ON CONFLICT (dispatch_id) DO UPDATE SET
               short_code = EXCLUDED.short_code, team_id = EXCLUDED.team_id,
               client_id = EXCLUDED.client_id, caller_kind = EXCLUDED.caller_kind,
               reason = EXCLUDED.reason, risk_level = EXCLUDED.risk_level,
               assigned_staff_id = EXCLUDED.assigned_staff_id, opened_at = EXCLUDED.opened_at,
               correlation_id = EXCLUDED.correlation_id,
               source_event_id = EXCLUDED.source_event_id
           WHERE d.opened_at IS NULL""",
        p.dispatch_id,
        p.short_code,
        p.team_id,
        p.client_id,
        p.caller_kind,
        p.reason,
        p.risk_level,
        p.assigned_staff_id,
        e.occurred_at,
        e.correlation_id,
        p.source_event_id,
    )


async def _dispatch_acknowledged(
    conn: asyncpg.Connection, e: Envelope, p: DispatchAcknowledged
) -> None:
    await conn.execute(
        """INSERT INTO dispatches AS d (dispatch_id, status, acknowledged_at, acknowledged_by,
                                        correlation_id)
           VALUES ($1, 'acknowledged', $2, $3, $4)
           ON CONFLICT (dispatch_id) DO UPDATE SET
               status = CASE WHEN d.status = 'open' THEN 'acknowledged' ELSE d.status END,
               acknowledged_at = EXCLUDED.acknowledged_at,
               acknowledged_by = EXCLUDED.acknowledged_by
           WHERE d.acknowledged_at IS NULL OR d.acknowledged_at > EXCLUDED.acknowledged_at""",
        p.dispatch_id,
        e.occurred_at,
        p.staff_id,
        e.correlation_id,
    )


async def _dispatch_resolved(conn: asyncpg.Connection, e: Envelope, p: DispatchResolved) -> None:
    await conn.execute(
        """INSERT INTO dispatches AS d (dispatch_id, status, resolved_at, resolved_by, outcome,
                                        correlation_id)
           VALUES ($1, 'resolved', $2, $3, $4, $5)
           ON CONFLICT (dispatch_id) DO UPDATE SET
               status = 'resolved', resolved_at = EXCLUDED.resolved_at,
               resolved_by = EXCLUDED.resolved_by, outcome = EXCLUDED.outcome
           WHERE d.resolved_at IS NULL OR d.resolved_at > EXCLUDED.resolved_at""",
        p.dispatch_id,
        e.occurred_at,
        p.staff_id,
        p.outcome,
        e.correlation_id,
    )


HANDLERS = handler_table(
    on(DispatchOpened, _dispatch_opened),
    on(DispatchAcknowledged, _dispatch_acknowledged),
    on(DispatchResolved, _dispatch_resolved),
)
ARCHIVE_ONLY: frozenset[type[EventPayload]] = frozenset(
    {CrisisCallReceived, CallerMessageRecorded, CrisisTextReceived}
)
