"""Failover and redial decisions: given a page and its failure, which events follow."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from dispatch.crisis.decide import Responder
from dispatch.escalation.decide import page as escalation_page
from dispatch.escalation.state import EscalationState
from dispatch.events import Envelope, derived_id, new_event
from dispatch.paging.events import PageFailed, PageRedialScheduled, PageRequested
from dispatch.paging.failover import (
    PagesOfDispatch,
    due_redials,
    evolve,
    on_page_failed,
    redial,
)
from dispatch.vocabulary import Channel

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
DISPATCH = uuid.UUID("00000000-0000-4000-8000-000000000001")
DELAY = timedelta(seconds=60)
BODY = (
    "ACT CRISIS K7M2Q: crisis call (client). Reply ACK K7M2Q to take it, DONE K7M2Q <o> to close."
)


def request(
    channel: Channel = "sms", *, attempt: int = 0, step: int = 1, actor: str = "escalation-agent"
) -> Envelope:
    nid = derived_id(DISPATCH, step, attempt, channel)
    return new_event(
        PageRequested(
            notification_id=nid,
            dispatch_id=DISPATCH,
            step=step,
            attempt=attempt,
            channel=channel,
            staff_id="s-nurse",
            to_number="+15550100001",
            body=BODY,
        ),
        key=str(DISPATCH),
        event_id=derived_id(nid, "requested"),
        occurred_at=T0,
        recorded_at=T0,
        actor=actor,
    )


def failed(req: Envelope, reason: str, *, after_s: int = 5) -> Envelope:
    page = req.payload
    assert isinstance(page, PageRequested)
    return new_event(
        PageFailed(
            notification_id=page.notification_id,
            dispatch_id=DISPATCH,
            channel=page.channel,
            reason=reason,
            provider_fault=False,
        ),
        key=str(DISPATCH),
        event_id=derived_id(page.notification_id, reason),
        occurred_at=T0 + timedelta(seconds=after_s),
        recorded_at=T0 + timedelta(seconds=after_s),
        actor="twilio:status",
    )


def test_failed_sms_is_followed_by_a_voice_page_to_the_same_person_and_step() -> None:
    """An SMS Twilio could not deliver becomes a voice page at once, same person and step."""
    req = request("sms")
    [voice] = on_page_failed(req, failed(req, "undelivered 30003"), redial_delay=DELAY, now=T0)
    page = voice.payload
    assert isinstance(page, PageRequested)
    assert (page.channel, page.staff_id, page.step, page.attempt) == ("voice", "s-nurse", 1, 0)
    assert page.to_number == "+15550100001"
    assert voice.correlation_id == req.correlation_id


def test_voice_failover_has_a_derived_id_so_redelivery_pages_once() -> None:
    """Deciding twice on the same failure gives the same voice page (same ids)."""
    req = request("sms")
    first = on_page_failed(req, failed(req, "failed 30008"), redial_delay=DELAY, now=T0)
    again = on_page_failed(
        req, failed(req, "failed 30008"), redial_delay=DELAY, now=T0 + timedelta(minutes=1)
    )
    assert first[0].event_id == again[0].event_id
    assert first[0].payload == again[0].payload


def test_failover_voice_id_is_the_escalation_steps_own_voice_id() -> None:
    """A step that already calls (sms+voice) is not called a second time by the failover."""
    state = EscalationState(
        dispatch_id=DISPATCH,
        correlation_id=DISPATCH,
        team_id="act-south",
        short_code="K7M2Q",
        risk_level="crisis",
        reason="crisis_call",
        caller_kind="client",
    )
    cause = request("sms")
    step_voice = escalation_page(
        state, Responder("s-nurse", "+15550100001"), "voice", 1, cause, now=T0
    )
    [failover] = on_page_failed(cause, failed(cause, "failed"), redial_delay=DELAY, now=T0)
    assert failover.payload.notification_id == step_voice.payload.notification_id  # type: ignore[attr-defined]


def test_outreach_sms_failure_is_not_turned_into_a_call() -> None:
    """A non-urgent outreach text (risk agent) that fails is not followed by a call."""
    req = request("sms", actor="risk-agent")
    assert on_page_failed(req, failed(req, "failed 30008"), redial_delay=DELAY, now=T0) == []


def test_unanswered_voice_page_is_redialled_once_after_the_delay() -> None:
    """no-answer schedules one redial (attempt 1) at failure time + delay."""
    req = request("voice")
    [scheduled] = on_page_failed(req, failed(req, "no-answer"), redial_delay=DELAY, now=T0)
    s = scheduled.payload
    assert isinstance(s, PageRedialScheduled)
    assert s.attempt == 1 and s.due_at == T0 + timedelta(seconds=5) + DELAY
    assert s.failed_notification_id == req.payload.notification_id  # type: ignore[attr-defined]


def test_busy_is_unanswered_too() -> None:
    """A busy line is redialled like an unanswered one."""
    req = request("voice")
    out = on_page_failed(req, failed(req, "busy"), redial_delay=DELAY, now=T0)
    assert [e.type for e in out] == ["PageRedialScheduled"]


def test_a_redial_that_is_not_answered_is_not_redialled_again() -> None:
    """attempt 1 unanswered: nothing more (the escalation step goes on)."""
    req = request("voice", attempt=1)
    assert on_page_failed(req, failed(req, "no-answer"), redial_delay=DELAY, now=T0) == []


def test_a_machine_answer_is_not_redialled() -> None:
    """Voicemail is a failed page, not an unanswered one: no redial, escalation goes on."""
    req = request("voice")
    reason = "answered-by-machine machine_start"
    assert on_page_failed(req, failed(req, reason), redial_delay=DELAY, now=T0) == []


def test_a_provider_error_on_a_call_is_not_redialled() -> None:
    """A REST failure placing the call (the notifier's PageFailed) schedules nothing."""
    req = request("voice")
    reason = "twilio place_call: HTTP 503 (code 20503): Service Unavailable"
    assert on_page_failed(req, failed(req, reason), redial_delay=DELAY, now=T0) == []


def test_the_timer_requests_a_scheduled_redial_only_when_due() -> None:
    """A scheduled redial is due at due_at; the timer's PageRequested is attempt 1 by voice."""
    req = request("voice")
    [scheduled] = on_page_failed(req, failed(req, "no-answer"), redial_delay=DELAY, now=T0)
    state = evolve(evolve(PagesOfDispatch(), req), scheduled)
    due_at = scheduled.payload.due_at  # type: ignore[attr-defined]
    assert due_redials(state, due_at - timedelta(seconds=1)) == []
    assert due_redials(state, due_at) == [scheduled]
    again = redial(scheduled, now=due_at + timedelta(seconds=3))
    page = again.payload
    assert isinstance(page, PageRequested)
    assert (page.channel, page.attempt, page.step) == ("voice", 1, 1)
    assert page.notification_id == scheduled.payload.notification_id  # type: ignore[attr-defined]
    assert again.event_id == redial(scheduled, now=due_at).event_id
    assert again.occurred_at == due_at


def test_a_requested_redial_is_no_longer_pending() -> None:
    """Once the redial's PageRequested is folded, the timer has nothing more to emit."""
    req = request("voice")
    [scheduled] = on_page_failed(req, failed(req, "no-answer"), redial_delay=DELAY, now=T0)
    state = evolve(evolve(PagesOfDispatch(), req), scheduled)
    due_at = scheduled.payload.due_at  # type: ignore[attr-defined]
    state = evolve(state, redial(scheduled, now=due_at))
    assert due_redials(state, due_at + DELAY) == []
    # A redelivered PageRedialScheduled after the redial does not bring it back.
    assert due_redials(evolve(state, scheduled), due_at + DELAY) == []


def test_pages_older_than_a_day_are_forgotten() -> None:
    """The fold keeps a day of pages per dispatch, so its state stays small."""
    old = request("sms")
    later = new_event(
        old.payload.model_copy(update={"notification_id": uuid.uuid4()}),
        key=str(DISPATCH),
        occurred_at=T0 + timedelta(days=2),
        recorded_at=T0 + timedelta(days=2),
        actor="escalation-agent",
    )
    state = evolve(evolve(PagesOfDispatch(), old), later)
    assert list(state.requests) == [str(later.payload.notification_id)]  # type: ignore[attr-defined]
