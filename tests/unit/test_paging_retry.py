"""Pages the provider kept failing: the other channel at once, a retry later, the manager told."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.crisis.decide import Responder
from dispatch.events import Envelope, derived_id, new_event
from dispatch.paging.events import PageFailed, PageRequested, PageRetryScheduled
from dispatch.paging.failover import (
    PagesOfDispatch,
    RetryPolicy,
    decide_failure,
    due_redials,
    evolve,
    redial,
)
from dispatch.paging.outage import DispatchNotProjectedError, OutageNotices
from dispatch.vocabulary import Channel
from dispatch.worker.guard import classify

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
DISPATCH = uuid.UUID("00000000-0000-4000-8000-000000000002")
DELAY = timedelta(seconds=60)
BODY = "ACT CRISIS K7M2Q: crisis call (client). Reply ACK K7M2Q to take it."


def request(
    channel: Channel = "sms", *, step: int = 1, retry: int = 0, actor: str = "escalation-agent"
) -> Envelope:
    nid = derived_id(DISPATCH, step, "s-nurse", channel)
    if retry:
        nid = derived_id(nid, "retry", retry)
    page = PageRequested(
        notification_id=nid,
        dispatch_id=DISPATCH,
        step=step,
        attempt=0,
        channel=channel,
        staff_id="s-nurse",
        to_number="+15550100001",
        body=BODY,
        retry=retry,
    )
    return new_event(
        page,
        key=str(DISPATCH),
        event_id=derived_id(nid, "requested"),
        occurred_at=T0,
        recorded_at=T0,
        actor=actor,
    )


def provider_failed(req: Envelope, *, after_s: int = 5) -> Envelope:
    page = req.payload
    assert isinstance(page, PageRequested)
    return new_event(
        PageFailed(
            notification_id=page.notification_id,
            dispatch_id=DISPATCH,
            channel=page.channel,
            reason="twilio send_sms: HTTP 500 (code 20500): Internal Server Error",
            provider_fault=True,
        ),
        key=str(DISPATCH),
        event_id=derived_id(page.notification_id, "PageFailed"),
        occurred_at=T0 + timedelta(seconds=after_s),
        recorded_at=T0 + timedelta(seconds=after_s),
        actor="notifier",
    )


def decide(state: PagesOfDispatch, failed: Envelope) -> tuple[PagesOfDispatch, list[Envelope]]:
    decision = decide_failure(state, failed, redial_delay=DELAY, now=T0, retry=RetryPolicy())
    assert decision is not None
    return decision.state, decision.events


def test_sms_failing_at_the_provider_is_called_at_once_and_retried_after_15s() -> None:
    """Twilio 5xx on an SMS page: the person is called now and texted again in 15 s."""
    req = request("sms")
    state = evolve(PagesOfDispatch(), req)
    _, events = decide(state, provider_failed(req))
    voice, scheduled = (e.payload for e in events)
    assert isinstance(voice, PageRequested) and voice.channel == "voice"
    assert voice.notification_id == derived_id(DISPATCH, 1, "s-nurse", "voice")
    assert isinstance(scheduled, PageRetryScheduled)
    assert (scheduled.channel, scheduled.retry) == ("sms", 1)
    assert scheduled.due_at == T0 + timedelta(seconds=5 + 15)


def test_a_call_failing_at_the_provider_is_texted_at_once() -> None:
    """Twilio 5xx on a voice page: the same step's SMS (its own id) goes now, the call later."""
    req = request("voice")
    _, events = decide(evolve(PagesOfDispatch(), req), provider_failed(req))
    sms, scheduled = (e.payload for e in events)
    assert isinstance(sms, PageRequested)
    assert sms.notification_id == derived_id(DISPATCH, 1, "s-nurse", "sms")
    assert isinstance(scheduled, PageRetryScheduled) and scheduled.channel == "voice"


def test_retries_back_off_and_the_timer_requests_the_same_page_again() -> None:
    """15 s, 30 s, 60 s ... capped; each due retry is the same page with the next number."""
    policy = RetryPolicy(first_s=15, max_s=60, limit=5)
    assert [policy.delay(n).total_seconds() for n in range(1, 6)] == [15, 30, 60, 60, 60]
    req = request("sms", retry=2)
    state = evolve(PagesOfDispatch(), req)
    _, events = decide(state, provider_failed(req))
    scheduled = events[-1]
    assert isinstance(scheduled.payload, PageRetryScheduled) and scheduled.payload.retry == 3
    state = evolve(state, scheduled)
    due = scheduled.payload.due_at
    assert due_redials(state, due - timedelta(seconds=1)) == []
    page = redial(scheduled, now=due).payload
    assert isinstance(page, PageRequested)
    assert (page.channel, page.retry, page.to_number) == ("sms", 3, "+15550100001")
    assert page.notification_id == scheduled.payload.notification_id
    assert due_redials(evolve(state, redial(scheduled, now=due)), due) == []


def test_no_retry_past_the_limit() -> None:
    """A page retried `limit` times is not scheduled again (the escalation goes on)."""
    req = request("sms", retry=3)
    decision = decide_failure(
        evolve(PagesOfDispatch(), req),
        provider_failed(req),
        redial_delay=DELAY,
        now=T0,
        retry=RetryPolicy(limit=3),
    )
    assert decision is not None
    assert [e.type for e in decision.events] == ["PageRequested"]


def test_a_retry_of_an_earlier_step_is_dropped_once_the_escalation_moves_on() -> None:
    """When the dispatch's next step is paged, the earlier step's pending retry is dropped."""
    req = request("sms", step=1)
    state = evolve(PagesOfDispatch(), req)
    state, events = decide(state, provider_failed(req))
    state = evolve(state, events[-1])
    assert len(state.redials) == 1
    state = evolve(state, request("sms", step=2))
    assert state.redials == {}
    assert evolve(state, events[-1]).redials == {}  # a redelivered schedule stays dropped


def test_the_same_failure_reported_again_is_decided_once() -> None:
    """Two channels failing over to each other do not loop: a re-report changes nothing."""
    req = request("sms")
    failed = provider_failed(req)
    state, first = decide(evolve(PagesOfDispatch(), req), failed)
    assert first
    again, second = decide(state, failed)
    assert second == [] and again == state


def test_the_manager_is_told_once_per_dispatch() -> None:
    """Only the first provider-failed page of a dispatch asks for the manager's notice."""
    sms, voice = request("sms"), request("voice")
    state = evolve(evolve(PagesOfDispatch(), sms), voice)
    first = decide_failure(state, provider_failed(sms), redial_delay=DELAY, now=T0)
    assert first is not None and first.tell_manager_of == sms
    second = decide_failure(first.state, provider_failed(voice), redial_delay=DELAY, now=T0)
    assert second is not None and second.tell_manager_of is None


def test_outreach_texts_are_retried_but_never_called_nor_reported() -> None:
    """A risk agent's outreach text failing at the provider is only retried later."""
    req = request("sms", actor="risk-agent")
    decision = decide_failure(
        evolve(PagesOfDispatch(), req), provider_failed(req), redial_delay=DELAY, now=T0
    )
    assert decision is not None
    assert [e.type for e in decision.events] == ["PageRetryScheduled"]
    assert decision.tell_manager_of is None


class _Row:
    team_id = "act-south"
    short_code = "K7M2Q"


class _Dispatches:
    def __init__(self, row: _Row | None) -> None:
        self.row = row

    async def dispatch(self, dispatch_id: uuid.UUID) -> _Row | None:
        return self.row


class _Managers:
    async def targets(
        self, team_id: str, targets: tuple[str, ...], at: datetime
    ) -> dict[str, list[Responder]]:
        assert (team_id, targets) == ("act-south", ("manager",))
        return {"manager": [Responder("s-boss", "+15550109999")]}


async def test_the_manager_notice_is_an_sms_page_with_an_id_per_dispatch() -> None:
    """The notice is one SMS to each manager, its id stable for the dispatch."""
    notices = OutageNotices(_Dispatches(_Row()), _Managers())  # type: ignore[arg-type]
    req = request("sms")
    [notice] = await notices.notices(req, provider_failed(req), now=T0)
    page = notice.payload
    assert isinstance(page, PageRequested)
    assert (page.channel, page.staff_id, page.to_number) == ("sms", "s-boss", "+15550109999")
    assert "K7M2Q" in page.body and "phone provider" in page.body
    [again] = await notices.notices(request("voice"), provider_failed(request("voice")), now=T0)
    assert again.payload.notification_id == page.notification_id  # type: ignore[attr-defined]


async def test_a_dispatch_not_projected_yet_is_a_transient_failure() -> None:
    """The notice waits for the dispatch's read model row: the agent retries in place."""
    notices = OutageNotices(_Dispatches(None), _Managers())  # type: ignore[arg-type]
    req = request("sms")
    with pytest.raises(DispatchNotProjectedError) as caught:
        await notices.notices(req, provider_failed(req), now=T0)
    assert classify(caught.value) == "transient"


def test_when_both_channels_fail_one_chain_per_channel_goes_on() -> None:
    """SMS fails: a call now and an SMS retry later. The call fails too: a call retry later,
    but no second SMS now, since the SMS retry already covers that channel; once the provider
    is back the person gets one SMS and one call, not two SMS."""
    sms = request("sms")
    state = evolve(PagesOfDispatch(), sms)
    first = decide_failure(state, provider_failed(sms), redial_delay=DELAY, now=T0)
    assert first is not None
    assert [e.type for e in first.events] == ["PageRequested", "PageRetryScheduled"]
    voice = first.events[0]
    state = first.state
    for event in first.events:
        state = evolve(state, event)
    second = decide_failure(state, provider_failed(voice), redial_delay=DELAY, now=T0)
    assert second is not None
    assert [e.type for e in second.events] == ["PageRetryScheduled"]
    retry = second.events[0].payload
    assert isinstance(retry, PageRetryScheduled) and retry.channel == "voice"


def sms_failed_over() -> tuple[PagesOfDispatch, Envelope, Envelope]:
    """An SMS page failed at the provider: the state after its failover, the call it
    requested and the SMS retry it scheduled."""
    sms = request("sms")
    state = evolve(PagesOfDispatch(), sms)
    state, first = decide(state, provider_failed(sms))
    voice, scheduled = first
    for event in first:
        state = evolve(state, event)
    return state, voice, scheduled


def test_a_call_failing_while_the_sms_retry_is_in_flight_sends_no_second_sms() -> None:
    """The order the 5-minute soak found: SMS fails (a call now, an SMS retry later), the
    SMS retry is requested, and only then the call fails too. The retried SMS is on its way,
    so the call's failover texts nobody a second time; a call retry is still scheduled."""
    state, voice, scheduled = sms_failed_over()
    state = evolve(state, redial(scheduled, now=T0 + timedelta(seconds=15)))  # SMS retry requested

    state, second = decide(state, provider_failed(voice, after_s=20))

    assert [e.type for e in second] == ["PageRetryScheduled"]
    assert second[0].payload.channel == "voice"  # type: ignore[attr-defined]


def test_a_call_failing_after_the_retried_sms_was_undelivered_texts_again() -> None:
    """Once the retried SMS has failed as well (undelivered: no retry of its own), nothing
    covers that channel: the call's failover texts the person once more."""
    state, voice, scheduled = sms_failed_over()
    retried = redial(scheduled, now=T0 + timedelta(seconds=15))
    state = evolve(state, retried)
    undelivered = provider_failed(retried, after_s=18).model_copy(
        update={
            "payload": provider_failed(retried).payload.model_copy(
                update={"reason": "undelivered (30003)", "provider_fault": False}
            )
        }
    )
    state, after_retry = decide(state, undelivered)
    for event in after_retry:
        state = evolve(state, event)

    state, second = decide(state, provider_failed(voice, after_s=20))

    texts = [e for e in second if e.type == "PageRequested"]
    assert [t.payload.channel for t in texts] == ["sms"]  # type: ignore[attr-defined]
