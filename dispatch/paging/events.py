"""Paging events (key: dispatch id, topic act.page-events): what was asked of the notifier
and what the provider reported back."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, Field

from dispatch.events.envelope import EventPayload
from dispatch.vocabulary import E164, Channel


class PageRequested(EventPayload):
    """Ask the notifier to reach one person on one channel. notification_id is the dedup key."""

    event_type = "PageRequested"
    notification_id: uuid.UUID
    dispatch_id: uuid.UUID
    step: int = Field(ge=0)
    attempt: int = Field(ge=0)
    channel: Channel
    staff_id: str
    to_number: str = E164
    body: str = Field(max_length=160)
    retry: int = Field(default=0, ge=0)  # which retry after provider faults (0: first try)


class PageSent(EventPayload):
    event_type = "PageSent"
    notification_id: uuid.UUID
    dispatch_id: uuid.UUID
    channel: Channel
    provider_sid: str
    provider_status: str


class PageDelivered(EventPayload):
    event_type = "PageDelivered"
    notification_id: uuid.UUID
    dispatch_id: uuid.UUID
    provider_sid: str
    provider_status: str


class PageFailed(EventPayload):
    event_type = "PageFailed"
    notification_id: uuid.UUID
    dispatch_id: uuid.UUID
    channel: Channel
    reason: str
    provider_fault: bool
    provider_sid: str | None = None


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


class PageRetryScheduled(EventPayload):
    """A page the provider kept failing (5xx, timeouts) will be tried again at `due_at`.

    Like PageRedialScheduled it carries the whole page, so the timer's PageRequested is a
    pure function of this event and the clock.
    """

    event_type = "PageRetryScheduled"
    notification_id: uuid.UUID  # the retry's own (derived) notification id
    failed_notification_id: uuid.UUID
    dispatch_id: uuid.UUID
    step: int = Field(ge=0)
    attempt: int = Field(ge=0)
    retry: int = Field(ge=1)
    channel: Channel
    staff_id: str
    to_number: str
    body: str = Field(max_length=160)
    due_at: AwareDatetime


PAGING_PAYLOADS: tuple[type[EventPayload], ...] = (
    PageRequested,
    PageSent,
    PageDelivered,
    PageFailed,
    PageCancelled,
    PageRedialScheduled,
    PageRetryScheduled,
)
