"""project(conn, event): the SQL effects of one event on the archive and the read models.

Every effect is idempotent and order-tolerant, so a redelivered or replayed event changes
nothing twice: entity upserts apply only when the event is newer (occurred_at, event_id)
than the row's last writer; statuses only move forward; times come from the events.
The caller owns the transaction (the projector adds its offset row to the same one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg

from dispatch.clients.events import CarerRegistered, ClientEnrolled
from dispatch.crisis.events import (
    CallerMessageRecorded,
    CrisisCallReceived,
    CrisisTextReceived,
    DispatchAcknowledged,
    DispatchOpened,
    DispatchResolved,
)
from dispatch.events import Envelope, EventPayload
from dispatch.paging.events import PageDelivered, PageFailed, PageRequested, PageSent
from dispatch.rota.events import ShiftAssigned, StaffRegistered, TeamFormed


@dataclass(frozen=True)
class Position:
    """Where an event was read from; None when it did not come from Kafka."""

    topic: str
    partition: int
    offset: int


P = TypeVar("P", bound=EventPayload)
Handler = Callable[[asyncpg.Connection, Envelope, Any], Awaitable[None]]
HANDLERS: dict[type[EventPayload], Handler] = {}
# Events kept in the archive only: no read model folds them (yet). Area modules add theirs.
ARCHIVE_ONLY: set[type[EventPayload]] = {
    CrisisCallReceived,
    CallerMessageRecorded,
    CrisisTextReceived,
}


def handles(
    cls: type[P],
) -> Callable[[Callable[[asyncpg.Connection, Envelope, P], Awaitable[None]]], Handler]:
    def register(fn: Callable[[asyncpg.Connection, Envelope, P], Awaitable[None]]) -> Handler:
        HANDLERS[cls] = fn
        return fn

    return register


async def project(
    conn: asyncpg.Connection, event: Envelope, position: Position | None = None
) -> None:
    """Archive the event (once) and apply its read-model effects (idempotently)."""
    await archive(conn, event, position)
    handler = HANDLERS.get(type(event.payload))
    if handler is not None:
        await handler(conn, event, event.payload)


async def archive(conn: asyncpg.Connection, event: Envelope, position: Position | None) -> None:
    """Append the event to event_archive; a second copy of the same event_id is ignored."""
    await conn.execute(
        """INSERT INTO event_archive (event_id, type, schema_version, key, occurred_at,
               recorded_at, correlation_id, causation_id, actor, payload, topic, partition,
               "offset")
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13)
           ON CONFLICT (event_id) DO NOTHING""",
        event.event_id,
        event.type,
        event.schema_version,
        event.key,
        event.occurred_at,
        event.recorded_at,
        event.correlation_id,
        event.causation_id,
        event.actor,
        event.payload.model_dump_json(),
        position.topic if position else None,
        position.partition if position else None,
        position.offset if position else None,
    )


# --- roster ------------------------------------------------------------------------------
@handles(TeamFormed)
async def _team_formed(conn: asyncpg.Connection, e: Envelope, p: TeamFormed) -> None:
    await conn.execute(
        """INSERT INTO teams AS t (team_id, name, service_model, time_zone, fallback_number,
                                   crisis_line_number, updated_at, updated_by_event)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (team_id) DO UPDATE SET
               name = EXCLUDED.name, service_model = EXCLUDED.service_model,
               time_zone = EXCLUDED.time_zone, fallback_number = EXCLUDED.fallback_number,
               crisis_line_number = EXCLUDED.crisis_line_number,
               updated_at = EXCLUDED.updated_at, updated_by_event = EXCLUDED.updated_by_event
           WHERE (t.updated_at, t.updated_by_event)
                 < (EXCLUDED.updated_at, EXCLUDED.updated_by_event)""",
        p.team_id,
        p.name,
        p.service_model,
        p.time_zone,
        p.fallback_number,
        p.crisis_line_number,
        e.occurred_at,
        e.event_id,
    )


@handles(StaffRegistered)
async def _staff_registered(conn: asyncpg.Connection, e: Envelope, p: StaffRegistered) -> None:
    await conn.execute(
        """INSERT INTO staff AS s (staff_id, team_id, display_name, role, gender, phone,
                                   languages, updated_at, updated_by_event)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (staff_id) DO UPDATE SET
               team_id = EXCLUDED.team_id, display_name = EXCLUDED.display_name,
               role = EXCLUDED.role, gender = EXCLUDED.gender, phone = EXCLUDED.phone,
               languages = EXCLUDED.languages,
               updated_at = EXCLUDED.updated_at, updated_by_event = EXCLUDED.updated_by_event
           WHERE (s.updated_at, s.updated_by_event)
                 < (EXCLUDED.updated_at, EXCLUDED.updated_by_event)""",
        p.staff_id,
        p.team_id,
        p.display_name,
        p.role,
        p.gender,
        p.phone,
        list(p.languages),
        e.occurred_at,
        e.event_id,
    )


@handles(ShiftAssigned)
async def _shift_assigned(conn: asyncpg.Connection, e: Envelope, p: ShiftAssigned) -> None:
    await conn.execute(
        """INSERT INTO shifts (assigned_by_event, team_id, staff_id, layer, starts_at, ends_at,
                               assigned_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (assigned_by_event) DO NOTHING""",
        e.event_id,
        p.team_id,
        p.staff_id,
        p.layer,
        p.starts_at,
        p.ends_at,
        e.occurred_at,
    )


# --- clients -----------------------------------------------------------------------------
@handles(ClientEnrolled)
async def _client_enrolled(conn: asyncpg.Connection, e: Envelope, p: ClientEnrolled) -> None:
    await conn.execute(
        """INSERT INTO clients AS c (client_id, team_id, display_name, phone, preferred_gender,
                                     language, updated_at, updated_by_event)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (client_id) DO UPDATE SET
               team_id = EXCLUDED.team_id, display_name = EXCLUDED.display_name,
               phone = EXCLUDED.phone, preferred_gender = EXCLUDED.preferred_gender,
               language = EXCLUDED.language,
               updated_at = EXCLUDED.updated_at, updated_by_event = EXCLUDED.updated_by_event
           WHERE (c.updated_at, c.updated_by_event)
                 < (EXCLUDED.updated_at, EXCLUDED.updated_by_event)""",
        p.client_id,
        p.team_id,
        p.display_name,
        p.phone,
        p.preferred_gender,
        p.language,
        e.occurred_at,
        e.event_id,
    )


@handles(CarerRegistered)
async def _carer_registered(conn: asyncpg.Connection, e: Envelope, p: CarerRegistered) -> None:
    await conn.execute(
        """INSERT INTO carers AS c (client_id, carer_id, display_name, phone, relationship,
                                    consents, updated_at, updated_by_event)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (client_id, carer_id) DO UPDATE SET
               display_name = EXCLUDED.display_name, phone = EXCLUDED.phone,
               relationship = EXCLUDED.relationship, consents = EXCLUDED.consents,
               updated_at = EXCLUDED.updated_at, updated_by_event = EXCLUDED.updated_by_event
           WHERE (c.updated_at, c.updated_by_event)
                 < (EXCLUDED.updated_at, EXCLUDED.updated_by_event)""",
        p.client_id,
        p.carer_id,
        p.display_name,
        p.phone,
        p.relationship,
        p.client_consents_to_share,
        e.occurred_at,
        e.event_id,
    )


# --- dispatches: status open < acknowledged < resolved; the earliest ack/resolution wins --
@handles(DispatchOpened)
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


@handles(DispatchAcknowledged)
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


@handles(DispatchResolved)
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


# --- pages: status requested < sent < failed < delivered ---------------------------------
@handles(PageRequested)
async def _page_requested(conn: asyncpg.Connection, e: Envelope, p: PageRequested) -> None:
    await conn.execute(
        """INSERT INTO pages AS pg (notification_id, dispatch_id, step, attempt, channel,
                                    staff_id, requested_at, status, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'requested', $7)
           ON CONFLICT (notification_id) DO UPDATE SET
               step = EXCLUDED.step, attempt = EXCLUDED.attempt, channel = EXCLUDED.channel,
               staff_id = EXCLUDED.staff_id, requested_at = EXCLUDED.requested_at
           WHERE pg.requested_at IS NULL""",
        p.notification_id,
        p.dispatch_id,
        p.step,
        p.attempt,
        p.channel,
        p.staff_id,
        e.occurred_at,
    )


async def page_status(
    conn: asyncpg.Connection,
    e: Envelope,
    *,
    notification_id: object,
    dispatch_id: object,
    status: str,
    channel: str | None,
    provider_sid: str | None,
    failure_reason: str | None,
) -> None:
    await conn.execute(
        """INSERT INTO pages AS pg (notification_id, dispatch_id, channel, status, provider_sid,
                                    failure_reason, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (notification_id) DO UPDATE SET
               channel = COALESCE(pg.channel, EXCLUDED.channel),
               provider_sid = COALESCE(pg.provider_sid, EXCLUDED.provider_sid),
               failure_reason = COALESCE(pg.failure_reason, EXCLUDED.failure_reason),
               status = EXCLUDED.status, updated_at = EXCLUDED.updated_at
           WHERE page_status_rank(EXCLUDED.status) > page_status_rank(pg.status)""",
        notification_id,
        dispatch_id,
        channel,
        status,
        provider_sid,
        failure_reason,
        e.occurred_at,
    )


@handles(PageSent)
async def _page_sent(conn: asyncpg.Connection, e: Envelope, p: PageSent) -> None:
    await page_status(
        conn,
        e,
        notification_id=p.notification_id,
        dispatch_id=p.dispatch_id,
        status="sent",
        channel=p.channel,
        provider_sid=p.provider_sid,
        failure_reason=None,
    )


@handles(PageDelivered)
async def _page_delivered(conn: asyncpg.Connection, e: Envelope, p: PageDelivered) -> None:
    await page_status(
        conn,
        e,
        notification_id=p.notification_id,
        dispatch_id=p.dispatch_id,
        status="delivered",
        channel=None,
        provider_sid=p.provider_sid,
        failure_reason=None,
    )


@handles(PageFailed)
async def _page_failed(conn: asyncpg.Connection, e: Envelope, p: PageFailed) -> None:
    await page_status(
        conn,
        e,
        notification_id=p.notification_id,
        dispatch_id=p.dispatch_id,
        status="failed",
        channel=p.channel,
        provider_sid=p.provider_sid,
        failure_reason=p.reason,
    )


# Read models of other areas register their handlers on import.
from projections import escalation as _escalation  # noqa: E402
from projections import paging as _paging  # noqa: E402
from projections import replies as _replies  # noqa: E402
from projections import risk as _risk  # noqa: E402
from projections import rota as _rota  # noqa: E402, F401

_AREAS = (_escalation, _paging, _replies, _risk)
