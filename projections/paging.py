"""The pages read model: one row per notification; status only moves forward
(requested < sent < failed < delivered, or cancelled; migration 008). PageRedialScheduled
is kept in the archive only (the redial's own PageRequested makes its row)."""

from __future__ import annotations

import uuid

import asyncpg

from dispatch.events import Envelope, EventPayload
from dispatch.paging.events import (
    PageCancelled,
    PageDelivered,
    PageFailed,
    PageRedialScheduled,
    PageRequested,
    PageRetryScheduled,
    PageSent,
)
from projections.handlers import handler_table, on


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
    notification_id: uuid.UUID,
    dispatch_id: uuid.UUID,
    status: str,
    channel: str | None,
    provider_sid: str | None,
    failure_reason: str | None,
) -> None:
    """Move the page to `status` if that is further on; the first channel, provider id and
    failure reason recorded stay."""
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


async def _page_sent(conn: asyncpg.Connection, e: Envelope, p: PageSent) -> None:
    await page_status(
        conn, e, notification_id=p.notification_id, dispatch_id=p.dispatch_id, status="sent",
        channel=p.channel, provider_sid=p.provider_sid, failure_reason=None,
    )  # fmt: skip


async def _page_delivered(conn: asyncpg.Connection, e: Envelope, p: PageDelivered) -> None:
    await page_status(
        conn, e, notification_id=p.notification_id, dispatch_id=p.dispatch_id,
        status="delivered", channel=None, provider_sid=p.provider_sid, failure_reason=None,
    )  # fmt: skip


async def _page_failed(conn: asyncpg.Connection, e: Envelope, p: PageFailed) -> None:
    await page_status(
        conn, e, notification_id=p.notification_id, dispatch_id=p.dispatch_id, status="failed",
        channel=p.channel, provider_sid=p.provider_sid, failure_reason=p.reason,
    )  # fmt: skip


async def _page_cancelled(conn: asyncpg.Connection, e: Envelope, p: PageCancelled) -> None:
    await page_status(
        conn, e, notification_id=p.notification_id, dispatch_id=p.dispatch_id,
        status="cancelled", channel=p.channel, provider_sid=None,
        failure_reason=f"cancelled: dispatch {p.reason}",
    )  # fmt: skip


HANDLERS = handler_table(
    on(PageRequested, _page_requested),
    on(PageSent, _page_sent),
    on(PageDelivered, _page_delivered),
    on(PageFailed, _page_failed),
    on(PageCancelled, _page_cancelled),
)
ARCHIVE_ONLY: frozenset[type[EventPayload]] = frozenset({PageRedialScheduled, PageRetryScheduled})
