"""Pure paging decisions the notifier takes before it calls a provider."""

from __future__ import annotations

from datetime import datetime

from dispatch.events import Envelope, derived_id, new_event
from dispatch.paging.events import PageCancelled, PageRequested

ACTOR = "notifier"
CLOSED = frozenset({"acknowledged", "resolved"})


def cancellation(
    request: Envelope, dispatch_status: str | None, *, now: datetime
) -> Envelope | None:
    """PageCancelled when the page's dispatch is already taken or closed, else None (send it).

    No status (no dispatches row: an outreach task, or a dispatch not projected yet) sends.
    """
    page = request.payload
    assert isinstance(page, PageRequested)
    if dispatch_status not in CLOSED:
        return None
    return new_event(
        PageCancelled(
            notification_id=page.notification_id,
            dispatch_id=page.dispatch_id,
            channel=page.channel,
            staff_id=page.staff_id,
            reason="acknowledged" if dispatch_status == "acknowledged" else "resolved",
        ),
        key=request.key,
        event_id=derived_id(page.notification_id, "PageCancelled"),
        occurred_at=now,
        recorded_at=now,
        actor=ACTOR,
        cause=request,
    )
