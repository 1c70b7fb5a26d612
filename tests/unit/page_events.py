"""Any event at all, for tests of the machinery around events (guards, readers, acks): a
PageCancelled with fresh ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from dispatch.events import Envelope, new_event
from dispatch.paging.events import PageCancelled

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def page_cancelled(*, key: str = "d-1", at: datetime = T0) -> Envelope:
    payload = PageCancelled(
        notification_id=uuid.uuid4(),
        dispatch_id=uuid.uuid4(),
        channel="sms",
        staff_id="s-nurse",
        reason="acknowledged",
    )
    return new_event(payload, key=key, occurred_at=at, recorded_at=at, actor="test")
