"""Paging events beyond the core catalogue (key: dispatch id, topic act.page-events)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, Field

from dispatch.events.catalogue import Channel
from dispatch.events.envelope import EventPayload


class PageCancelled(EventPayload):
    """A page not yet sent was dropped: its dispatch was acknowledged or resolved first."""

    event_type = "PageCancelled"
    notification_id: uuid.UUID
    dispatch_id: uuid.UUID
    channel: Channel
    staff_id: str
    reason: Literal["acknowledged", "resolved"]


class PageRedialScheduled(EventPayload):
    """An unanswered voice page will be dialled again at `due_at` (attempt 1), by the timer.

    It carries the whole page to place, so the timer's PageRequested is a pure function of
    this event and the clock.
    """

    event_type = "PageRedialScheduled"
    notification_id: uuid.UUID  # the redial's own (derived) notification id
    failed_notification_id: uuid.UUID
    dispatch_id: uuid.UUID
    step: int = Field(ge=0)
    attempt: int = Field(ge=1)
    staff_id: str
    to_number: str
    body: str = Field(max_length=160)
    due_at: AwareDatetime


PAGING_PAYLOADS: tuple[type[EventPayload], ...] = (PageCancelled, PageRedialScheduled)
