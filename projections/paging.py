"""Paging events beyond the core page statuses.

PageCancelled sets the page's status to 'cancelled' (migration 008); PageRedialScheduled is
kept in the archive only (the redial's own PageRequested makes its row).
"""

from __future__ import annotations

import asyncpg

from dispatch.events import Envelope
from dispatch.paging.events import PageCancelled, PageRedialScheduled
from projections.project import ARCHIVE_ONLY, handles, page_status

ARCHIVE_ONLY.add(PageRedialScheduled)


@handles(PageCancelled)
async def _page_cancelled(conn: asyncpg.Connection, e: Envelope, p: PageCancelled) -> None:
    await page_status(
        conn,
        e,
        notification_id=p.notification_id,
        dispatch_id=p.dispatch_id,
        status="cancelled",
        channel=p.channel,
        provider_sid=None,
        failure_reason=f"cancelled: dispatch {p.reason}",
    )
