"""Channel failover and voice redial: pure decisions on a failed page.

- An SMS page that failed is followed at once by a voice page to the same person for the
  same step. Its notification id is the one the escalation engine gives a voice page of that
  step and person, so a step that already calls (channels sms+voice) is never called twice.
- A voice page nobody answered (no-answer, busy, failed) is redialled once, `delay` after
  the failure: PageRedialScheduled now, and the timer's PageRequested (attempt 1) when due.
- A call answered by a machine is not redialled: the escalation step goes on.
- A page the provider kept failing (provider_fault: 5xx, timeouts, after the notifier's own
  quick retries) goes at once to the other channel (SMS -> voice, voice -> SMS), and is
  tried again later: PageRetryScheduled now, 15 s, 30 s, 60 s ... after the failure, and
  the timer's PageRequested when due. A retry whose dispatch has moved on to a later step
  is dropped; one whose dispatch was acknowledged or resolved is cancelled by the notifier.
- A failure is decided once: the same PageFailed again (a re-report of a page the ledger
  knows failed) changes nothing, so two channels failing over to each other cannot loop.
- A failover never texts or calls a person whose page on that channel for the same step is
  still in flight, already sent, or covered by a scheduled retry: one chain per channel.

Whether the dispatch is still open is not decided here: the notifier checks it before it
sends any page and records PageCancelled instead (one rule for every page).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from dispatch.events import Envelope, derived_id, new_event
from dispatch.paging.events import (
    PageFailed,
    PageRedialScheduled,
    PageRequested,
    PageRetryScheduled,
)
from dispatch.risk.decide import ACTOR as RISK_ACTOR

ACTOR = "paging-failover"
TIMER_ACTOR = "paging-timer"
UNANSWERED = frozenset({"no-answer", "busy", "failed", "canceled"})
MAX_ATTEMPT = 1  # one redial
REMEMBER = timedelta(days=1)  # how long a page is kept to decide on its failure


def is_unanswered(reason: str) -> bool:
    """The call's final status says nobody picked up (not a machine, not a REST error)."""
    return reason.split(" ", 1)[0] in UNANSWERED


@dataclass(frozen=True)
class RetryPolicy:
    """When a page the provider kept failing is tried again: first_s, then doubling."""

    first_s: float = 15.0
    max_s: float = 300.0
    limit: int = 20  # retries of one page at most (about an hour and a half at max_s)

    def delay(self, retry: int) -> timedelta:
        return timedelta(seconds=min(self.first_s * 2 ** (retry - 1), self.max_s))


def on_page_failed(
    request: Envelope,
    failed: Envelope,
    *,
    redial_delay: timedelta,
    now: datetime,
    retry: RetryPolicy | None = None,
) -> list[Envelope]:
    """What follows a failed page: the other channel, a scheduled redial or retry, or nothing."""
    page, failure = request.payload, failed.payload
    assert isinstance(page, PageRequested) and isinstance(failure, PageFailed)
    out: list[Envelope] = []
    outreach = request.actor == RISK_ACTOR  # non-urgent texts are not turned into calls
    if not outreach and (page.channel == "sms" or failure.provider_fault):
        other = switch_channel(page)
        out.append(
            _event(other, request, failed, derived_id(other.notification_id, "requested"), now)
        )
    if failure.provider_fault:
        scheduled = _retry(page, failed, retry or RetryPolicy())
        if scheduled is not None:
            out.append(
                _event(
                    scheduled,
                    request,
                    failed,
                    derived_id(scheduled.notification_id, "scheduled"),
                    now,
                )
            )
    elif page.channel == "voice" and page.attempt < MAX_ATTEMPT and is_unanswered(failure.reason):
        redial_id = derived_id(page.notification_id, "redial", page.attempt + 1)
        redial_page = PageRedialScheduled(
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
        out.append(_event(redial_page, request, failed, derived_id(redial_id, "scheduled"), now))
    return out


def switch_channel(page: PageRequested) -> PageRequested:
    """The same step's page to the same person on the other channel. Its notification id is
    the one the escalation engine gives that channel's page, so a step that already uses
    both channels never pages anyone twice on one."""
    channel = "voice" if page.channel == "sms" else "sms"
    return PageRequested(
        notification_id=derived_id(page.dispatch_id, page.step, page.staff_id, channel),
        dispatch_id=page.dispatch_id,
        step=page.step,
        attempt=page.attempt,
        channel=channel,
        staff_id=page.staff_id,
        to_number=page.to_number,
        body=page.body,
    )


def _retry(page: PageRequested, failed: Envelope, policy: RetryPolicy) -> PageRetryScheduled | None:
    number = page.retry + 1
    if number > policy.limit:
        return None
    return PageRetryScheduled(
        notification_id=derived_id(page.notification_id, "retry", number),
        failed_notification_id=page.notification_id,
        dispatch_id=page.dispatch_id,
        step=page.step,
        attempt=page.attempt,
        retry=number,
        channel=page.channel,
        staff_id=page.staff_id,
        to_number=page.to_number,
        body=page.body,
        due_at=failed.occurred_at + policy.delay(number),
    )


def redial(scheduled: Envelope, *, now: datetime) -> Envelope:
    """The timer's event: a scheduled redial or retry is due, so its page is requested."""
    s = scheduled.payload
    assert isinstance(s, PageRedialScheduled | PageRetryScheduled)
    page = PageRequested(
        notification_id=s.notification_id,
        dispatch_id=s.dispatch_id,
        step=s.step,
        attempt=s.attempt,
        channel=s.channel if isinstance(s, PageRetryScheduled) else "voice",
        staff_id=s.staff_id,
        to_number=s.to_number,
        body=s.body,
        retry=s.retry if isinstance(s, PageRetryScheduled) else 0,
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
    payload: PageRequested | PageRedialScheduled | PageRetryScheduled,
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
    """What the failover agent remembers of one dispatch's pages (a fold of page events):
    its requests, its scheduled redials and retries, the failures already decided, the pages
    that failed, and whether a manager was told that the provider is failing."""

    requests: dict[str, Envelope] = field(default_factory=dict)
    redials: dict[str, Envelope] = field(default_factory=dict)  # redials and retries
    decided: dict[str, datetime] = field(default_factory=dict)  # PageFailed event ids
    outage_noticed: bool = False
    failed: dict[str, datetime] = field(default_factory=dict)  # notification ids that failed

    @property
    def empty(self) -> bool:
        return not self.requests and not self.redials and not self.decided and not self.failed

    @property
    def latest_step(self) -> int:
        steps = [
            e.payload.step for e in self.requests.values() if isinstance(e.payload, PageRequested)
        ]
        return max(steps, default=0)


def evolve(state: PagesOfDispatch, event: Envelope) -> PagesOfDispatch:
    """Remember requests, scheduled redials and retries, and decided failures; a requested
    redial or retry is no longer pending."""
    p = event.payload
    horizon = event.occurred_at - REMEMBER
    requests = {k: e for k, e in state.requests.items() if e.occurred_at >= horizon}
    decided = {k: at for k, at in state.decided.items() if at >= horizon}
    failed = {k: at for k, at in state.failed.items() if at >= horizon}
    redials = dict(state.redials)
    if isinstance(p, PageRequested):
        requests[str(p.notification_id)] = event
        redials.pop(str(p.notification_id), None)
        # The escalation moved on: retries of earlier steps are dropped.
        redials = {k: e for k, e in redials.items() if not _superseded(e, p.step)}
    elif isinstance(p, PageRedialScheduled | PageRetryScheduled):
        latest = PagesOfDispatch(requests=requests).latest_step
        if str(p.notification_id) not in requests and not _superseded(event, latest):
            redials[str(p.notification_id)] = event
    elif isinstance(p, PageFailed):
        decided[str(event.event_id)] = event.occurred_at
        failed[str(p.notification_id)] = event.occurred_at
    return replace(state, requests=requests, redials=redials, decided=decided, failed=failed)


@dataclass(frozen=True)
class FailureDecision:
    """What the failover agent does with one PageFailed: its next state, the events to
    append, and, when set, the failed page whose manager must be told of a provider outage."""

    state: PagesOfDispatch
    events: list[Envelope]
    tell_manager_of: Envelope | None = None


def decide_failure(
    state: PagesOfDispatch,
    failed: Envelope,
    *,
    redial_delay: timedelta,
    now: datetime,
    retry: RetryPolicy | None = None,
) -> FailureDecision | None:
    """Decide a PageFailed once; None when there is nothing to do (already decided, or a
    page this agent never saw requested)."""
    failure = failed.payload
    assert isinstance(failure, PageFailed)
    if str(failed.event_id) in state.decided:
        return FailureDecision(state, [])  # a re-report: no loop between two channels
    request = state.requests.get(str(failure.notification_id))
    if request is None:
        return None
    events = on_page_failed(request, failed, redial_delay=redial_delay, now=now, retry=retry)
    events = [e for e in events if not _channel_covered(state, e)]
    after = evolve(state, failed)
    tell = failure.provider_fault and not state.outage_noticed and request.actor != RISK_ACTOR
    if tell:
        after = replace(after, outage_noticed=True)
    return FailureDecision(after, events, request if tell else None)


def _channel_covered(state: PagesOfDispatch, event: Envelope) -> bool:
    """A page to the other channel that is already covered for the same step and person:
    by a scheduled retry, or by a page on that channel that was requested and has not
    failed (in flight, or sent). Else, with both channels failing, each failover starts a
    second chain and the person gets that page twice once the provider is back
    (docs/decisions/025)."""
    p = event.payload
    if not isinstance(p, PageRequested):
        return False
    same = (p.step, p.staff_id, p.channel)
    retry_pending = any(
        isinstance(s.payload, PageRetryScheduled)
        and (s.payload.step, s.payload.staff_id, s.payload.channel) == same
        for s in state.redials.values()
    )
    live_page = any(
        isinstance(r.payload, PageRequested)
        and (r.payload.step, r.payload.staff_id, r.payload.channel) == same
        and nid != str(p.notification_id)
        and nid not in state.failed
        for nid, r in state.requests.items()
    )
    return retry_pending or live_page


def due_redials(state: PagesOfDispatch, now: datetime) -> list[Envelope]:
    """Scheduled redials and retries whose time has come, oldest first."""
    due = [e for e in state.redials.values() if _due_at(e) <= now]
    return sorted(due, key=_due_at)


def _superseded(scheduled: Envelope, step: int) -> bool:
    """A retry of a step before `step` (the escalation has paged a later step since)."""
    p = scheduled.payload
    return isinstance(p, PageRetryScheduled) and p.step < step


def _due_at(scheduled: Envelope) -> datetime:
    p = scheduled.payload
    assert isinstance(p, PageRedialScheduled | PageRetryScheduled)
    return p.due_at
