"""Channel failover and voice redial: pure decisions on a failed page.

- An SMS page that failed is followed at once by a voice page to the same person for the
  same step. Its notification id is the one the escalation engine gives a voice page of that
  step and person, so a step that already calls (channels sms+voice) is never called twice.
- A voice page nobody answered (no-answer, busy, failed) is redialled once, `delay` after
  the failure: PageRedialScheduled now, and the timer's PageRequested (attempt 1) when due.
- A call answered by a machine is not redialled: the escalation step goes on.

Whether the dispatch is still open is not decided here: the notifier checks it before it
sends any page and records PageCancelled instead (one rule for every page).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from dispatch.events import Envelope, derived_id, new_event
from dispatch.paging.events import PageFailed, PageRedialScheduled, PageRequested
from dispatch.risk.decide import ACTOR as RISK_ACTOR

ACTOR = "paging-failover"
TIMER_ACTOR = "paging-timer"
UNANSWERED = frozenset({"no-answer", "busy", "failed", "canceled"})
MAX_ATTEMPT = 1  # one redial
REMEMBER = timedelta(days=1)  # how long a page is kept to decide on its failure


def is_unanswered(reason: str) -> bool:
    """The call's final status says nobody picked up (not a machine, not a REST error)."""
    return reason.split(" ", 1)[0] in UNANSWERED


def on_page_failed(
    request: Envelope, failed: Envelope, *, redial_delay: timedelta, now: datetime
) -> list[Envelope]:
    """What follows a failed page: a voice page, a scheduled redial, or nothing."""
    page, failure = request.payload, failed.payload
    assert isinstance(page, PageRequested) and isinstance(failure, PageFailed)
    if request.actor == RISK_ACTOR:
        return []  # non-urgent outreach texts are not turned into calls
    if page.channel == "sms":
        voice = PageRequested(
            notification_id=derived_id(page.dispatch_id, page.step, page.staff_id, "voice"),
            dispatch_id=page.dispatch_id,
            step=page.step,
            attempt=page.attempt,
            channel="voice",
            staff_id=page.staff_id,
            to_number=page.to_number,
            body=page.body,
        )
        return [_event(voice, request, failed, derived_id(voice.notification_id, "requested"), now)]
    if page.attempt < MAX_ATTEMPT and is_unanswered(failure.reason):
        redial_id = derived_id(page.notification_id, "redial", page.attempt + 1)
        scheduled = PageRedialScheduled(
            notification_id=redial_id,
            failed_notification_id=page.notification_id,
            dispatch_id=page.dispatch_id,
            step=page.step,
            attempt=page.attempt + 1,
            staff_id=page.staff_id,
            to_number=page.to_number,
            body=page.body,
            due_at=failed.occurred_at + redial_delay,
        )
        return [_event(scheduled, request, failed, derived_id(redial_id, "scheduled"), now)]
    return []


def redial(scheduled: Envelope, *, now: datetime) -> Envelope:
    """The timer's event: the redial is due, so it is requested (attempt 1)."""
    s = scheduled.payload
    assert isinstance(s, PageRedialScheduled)
    page = PageRequested(
        notification_id=s.notification_id,
        dispatch_id=s.dispatch_id,
        step=s.step,
        attempt=s.attempt,
        channel="voice",
        staff_id=s.staff_id,
        to_number=s.to_number,
        body=s.body,
    )
    return new_event(
        page,
        key=scheduled.key,
        event_id=derived_id(s.notification_id, "requested"),
        occurred_at=s.due_at,
        recorded_at=now,
        actor=TIMER_ACTOR,
        cause=scheduled,
    )


def _event(
    payload: PageRequested | PageRedialScheduled,
    request: Envelope,
    cause: Envelope,
    event_id: uuid.UUID,
    now: datetime,
) -> Envelope:
    """Caused by the failure, in the correlation of the page (the callback may not know it)."""
    return new_event(
        payload,
        key=request.key,
        event_id=event_id,
        occurred_at=cause.occurred_at,
        recorded_at=now,
        actor=ACTOR,
        cause=cause,
        correlation_id=request.correlation_id,
    )


@dataclass(frozen=True)
class PagesOfDispatch:
    """What the failover agent remembers of one dispatch's pages (a fold of page events)."""

    requests: dict[str, Envelope] = field(default_factory=dict)
    redials: dict[str, Envelope] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.requests and not self.redials


def evolve(state: PagesOfDispatch, event: Envelope) -> PagesOfDispatch:
    """Remember requests and scheduled redials; a requested redial is no longer pending."""
    p = event.payload
    horizon = event.occurred_at - REMEMBER
    requests = {k: e for k, e in state.requests.items() if e.occurred_at >= horizon}
    redials = dict(state.redials)
    if isinstance(p, PageRequested):
        requests[str(p.notification_id)] = event
        redials.pop(str(p.notification_id), None)
    elif isinstance(p, PageRedialScheduled) and str(p.notification_id) not in requests:
        redials[str(p.notification_id)] = event
    return replace(state, requests=requests, redials=redials)


def due_redials(state: PagesOfDispatch, now: datetime) -> list[Envelope]:
    """Scheduled redials whose time has come, oldest first."""
    due = [e for e in state.redials.values() if _due_at(e) <= now]
    return sorted(due, key=_due_at)


def _due_at(scheduled: Envelope) -> datetime:
    p = scheduled.payload
    assert isinstance(p, PageRedialScheduled)
    return p.due_at
