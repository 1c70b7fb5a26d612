"""The notifier's pre-send check: a page of a taken or closed dispatch is cancelled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from dispatch.events import derived_id, new_event
from dispatch.paging.decide import cancellation
from dispatch.paging.events import PageCancelled, PageRequested

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
DISPATCH = uuid.UUID("00000000-0000-4000-8000-000000000002")
REQUEST = new_event(
    PageRequested(
        notification_id=derived_id(DISPATCH, 1, "s-nurse", "sms"),
        dispatch_id=DISPATCH,
        step=1,
        attempt=0,
        channel="sms",
        staff_id="s-nurse",
        to_number="+15550100001",
        body="ACT CRISIS K7M2Q: crisis call (client).",
    ),
    key=str(DISPATCH),
    occurred_at=T0,
    recorded_at=T0,
    actor="escalation-agent",
)


@pytest.mark.parametrize("status", ["acknowledged", "resolved"])
def test_page_of_a_taken_or_closed_dispatch_is_cancelled(status: str) -> None:
    """Acknowledged or resolved: PageCancelled with that reason, keyed and caused by the page."""
    event = cancellation(REQUEST, status, now=T0)
    assert event is not None
    p = event.payload
    assert isinstance(p, PageCancelled)
    assert p.reason == status and p.staff_id == "s-nurse" and p.channel == "sms"
    assert event.key == str(DISPATCH) and event.causation_id == REQUEST.event_id


@pytest.mark.parametrize("status", ["open", None])
def test_page_of_an_open_or_unknown_dispatch_is_sent(status: str | None) -> None:
    """Open, or no dispatches row (an outreach task, or not projected yet): send it."""
    assert cancellation(REQUEST, status, now=T0) is None


def test_cancellation_has_a_derived_id() -> None:
    """Deciding again on a redelivered page gives the same PageCancelled event id."""
    first = cancellation(REQUEST, "acknowledged", now=T0)
    again = cancellation(REQUEST, "acknowledged", now=datetime(2026, 11, 25, tzinfo=UTC))
    assert first is not None and again is not None and first.event_id == again.event_id
