"""Staff replies decided on the dispatch's own folded state: given its events, when replies
arrive in partition order, then exactly what each replier is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import reduce

from dispatch.crisis.decide import Responder, open_dispatch
from dispatch.crisis.events import CrisisCallReceived, DispatchAcknowledged, DispatchResolved
from dispatch.escalation.decide import freeze_plan
from dispatch.escalation.events import DispatchEscalated, EscalationRequested
from dispatch.escalation.policy import default_policy
from dispatch.escalation.state import EscalationState, evolve
from dispatch.events import Envelope, derived_id, new_event
from dispatch.replies.decide import confirmation_sms, decide_reply
from dispatch.replies.events import ReplyVerb, StaffReplyDecided, StaffReplyReceived

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
PRIMARY = Responder("s-1", "+15550000001")


def opened() -> EscalationState:
    call = new_event(
        CrisisCallReceived(
            call_sid="CA1", caller_number="+15559990000", caller_kind="client",
            client_id="c-1", team_id="t-north", dialled_staff_id=PRIMARY.staff_id,
        ),
        key="c-1", event_id=derived_id("twilio-call", "CA1"), occurred_at=T0,
        recorded_at=T0, actor="twilio",
    )  # fmt: skip
    opened, _page = open_dispatch(call, responder=PRIMARY, now=T0)
    state = reduce(evolve, [opened, freeze_plan(opened, default_policy(), now=T0)], None)
    assert state is not None
    return state


def reply(
    state: EscalationState,
    staff_id: str,
    verb: ReplyVerb = "ack",
    *,
    team: str = "t-north",
    outcome: str = "",
    sid: str | None = None,
) -> Envelope:
    sid = sid or f"SM-{staff_id}-{verb}"
    return new_event(
        StaffReplyReceived(
            dispatch_id=state.dispatch_id, short_code=state.short_code, reply_id=sid,
            channel="sms", verb=verb, staff_id=staff_id, staff_team_id=team,
            outcome=outcome, reply_to="+1555000" + staff_id[-4:].rjust(4, "0"),
        ),
        key=str(state.dispatch_id), event_id=derived_id("staff-reply", "sms", sid, verb),
        occurred_at=T0 + timedelta(seconds=30), recorded_at=T0, actor=staff_id,
    )  # fmt: skip


def run(
    state: EscalationState | None, replies: list[Envelope]
) -> tuple[EscalationState | None, list[Envelope]]:
    """Decide replies one after another, folding each one's effects (what the agent does)."""
    out: list[Envelope] = []
    for r in replies:
        decided = decide_reply(state, r, now=T0)
        state = reduce(evolve, decided, state)
        out.extend(decided)
    return state, out


def decisions(events: list[Envelope]) -> list[StaffReplyDecided]:
    return [e.payload for e in events if isinstance(e.payload, StaffReplyDecided)]


def of_type(events: list[Envelope], cls: type) -> list[Envelope]:
    return [e for e in events if isinstance(e.payload, cls)]


def test_two_simultaneous_acks_one_wins_and_the_other_is_told_who_has_it() -> None:
    """Of two ACKs, the first in the partition takes the dispatch; the second is refused."""
    state = opened()
    after, out = run(state, [reply(state, "s-1"), reply(state, "s-2")])
    assert len(of_type(out, DispatchAcknowledged)) == 1
    first, second = decisions(out)
    assert (first.accepted, first.staff_id, first.holder) == (True, "s-1", "s-1")
    assert (second.accepted, second.holder, second.dispatch_status) == (
        False,
        "s-1",
        "acknowledged",
    )
    assert (
        confirmation_sms(first)
        == f"{state.short_code} is yours. Caller details are in the dispatch API."
    )
    assert confirmation_sms(second, "Sam Okafor") == (
        f"{state.short_code} is already taken by Sam Okafor; nothing changed."
    )
    assert after is not None and after.acknowledged_by == "s-1"


def test_five_acks_yield_exactly_one_acknowledgement_and_one_is_yours() -> None:
    """Five staff answering at once: one DispatchAcknowledged, one acceptance, four refusals."""
    state = opened()
    _, out = run(state, [reply(state, f"s-{i}") for i in range(1, 6)])
    assert len(of_type(out, DispatchAcknowledged)) == 1
    texts = [confirmation_sms(d) for d in decisions(out)]
    assert sum("is yours" in t for t in texts) == 1
    assert sum("already taken by s-1" in t for t in texts) == 4


def test_a_repeated_ack_by_the_holder_is_accepted_without_a_second_acknowledgement() -> None:
    """The holder texting ACK again is told it is theirs; nothing new is recorded."""
    state = opened()
    _, out = run(state, [reply(state, "s-1"), reply(state, "s-1", sid="SM-again")])
    assert len(of_type(out, DispatchAcknowledged)) == 1
    assert [d.accepted for d in decisions(out)] == [True, True]


def test_done_on_an_open_dispatch_acknowledges_then_resolves_and_late_acks_hear_closed() -> None:
    """DONE takes and closes; an ACK afterwards is told the dispatch is closed, not taken."""
    state = opened()
    done = reply(state, "s-2", "resolve", outcome="visited, safe")
    _, out = run(state, [done, reply(state, "s-3")])
    assert [e.type for e in out] == [
        "DispatchAcknowledged", "DispatchResolved", "StaffReplyDecided", "StaffReplyDecided",
    ]  # fmt: skip
    late = decisions(out)[1]
    assert (late.accepted, late.dispatch_status) == (False, "resolved")
    assert confirmation_sms(late) == f"{state.short_code} is already closed."


def test_a_redelivered_done_is_decided_into_the_same_events() -> None:
    """The same DONE decided twice (a redelivery after a crash) yields the same event ids."""
    state = opened()
    done = reply(state, "s-2", "resolve", outcome="visited")
    first = decide_reply(state, done, now=T0)
    assert [e.event_id for e in decide_reply(state, done, now=T0)] == [e.event_id for e in first]
    after = reduce(evolve, first, state)
    again = decide_reply(after, done, now=T0)
    assert not of_type(again, DispatchResolved)
    assert again[-1].event_id == first[-1].event_id and decisions(again)[0].accepted


def test_esc_passes_an_open_dispatch_on_and_is_refused_once_taken() -> None:
    """ESC asks for the next step at the current sequence; after an ACK it changes nothing."""
    state = opened()
    _, out = run(state, [reply(state, "s-1", "esc")])
    [requested] = of_type(out, EscalationRequested)
    assert requested.payload.sequence == state.sequence  # type: ignore[attr-defined]
    _, out = run(state, [reply(state, "s-2"), reply(state, "s-1", "esc")])
    refused = decisions(out)[1]
    assert not refused.accepted and "nothing to pass on" in refused.reason


def test_a_replier_of_another_team_is_refused_unless_a_step_paged_them() -> None:
    """Another team's staff may answer only when this dispatch paged them (covering team)."""
    state = opened()
    _, out = run(state, [reply(state, "s-9", team="t-south")])
    [refused] = decisions(out)
    assert not refused.accepted and "another team" in refused.reason
    escalated = new_event(
        DispatchEscalated(
            dispatch_id=state.dispatch_id, sequence=1, round=0, step=1, exhausted=False,
            reason="timeout", staff_ids=("s-9",), deadline_at=T0 + timedelta(minutes=10),
        ),
        key=str(state.dispatch_id), occurred_at=T0, recorded_at=T0, actor="escalation-agent",
    )  # fmt: skip
    covering = evolve(state, escalated)
    _, out = run(covering, [reply(state, "s-9", team="t-south")])
    assert decisions(out)[0].accepted


def test_a_reply_to_a_dispatch_the_agent_does_not_know_is_refused_with_the_code() -> None:
    """No state for the dispatch: refused, naming the code, and nothing else recorded."""
    state = opened()
    out = decide_reply(None, reply(state, "s-1"), now=T0)
    assert [e.type for e in out] == ["StaffReplyDecided"]
    assert decisions(out)[0].reason == f"No open dispatch has code {state.short_code}."


def test_a_reply_delivered_again_later_gets_its_first_answer() -> None:
    """An ACK redelivered after the dispatch was closed (a worker restart re-reading its
    input) is answered as the first time, with nothing decided again."""
    state = opened()
    ack = reply(state, "s-1")
    after, first = run(state, [ack, reply(state, "s-2", "resolve", outcome="visited")])
    again = decide_reply(after, ack, now=T0 + timedelta(hours=1))
    assert [e.type for e in again] == ["StaffReplyDecided"]
    assert again[0].event_id == first[1].event_id
    assert again[0].payload == first[1].payload
