"""Pure decisions on staff replies, taken from the dispatch's own folded state.

The agent that keeps a dispatch's state (the escalation agent, keyed by dispatch id) reads
each StaffReplyReceived in partition order, so of two ACKs sent at the same moment exactly
one finds the dispatch open. Every reply ends in one StaffReplyDecided (accepted or refused,
with the reason), whatever the channel; its id derives from the reply's, so a redelivered
reply is decided into the same events.
"""

from __future__ import annotations

from datetime import datetime

from dispatch.crisis.decide import DispatchView, ReplyRefused, acknowledge, resolve
from dispatch.escalation.decide import request_escalation
from dispatch.escalation.state import EscalationState, evolve
from dispatch.events import Envelope, derived_id, new_event
from dispatch.replies.events import DispatchStatus, StaffReplyDecided, StaffReplyReceived

ACTOR = "reply-desk"


def may_answer(state: EscalationState, reply: StaffReplyReceived) -> bool:
    """A member of the dispatch's team, or anyone a step of it paged (a covering team)."""
    return reply.staff_team_id == state.team_id or reply.staff_id in state.paged


def _view(state: EscalationState) -> DispatchView:
    return DispatchView(
        dispatch_id=state.dispatch_id,
        short_code=state.short_code,
        status=state.status,
        acknowledged_by=state.acknowledged_by,
        escalation_sequence=state.sequence,
    )


def _already_as_asked(state: EscalationState, r: StaffReplyReceived) -> bool:
    """The dispatch is already what this reply asks for, by this person (a repeat)."""
    if r.verb == "ack":
        return state.status == "acknowledged" and state.acknowledged_by == r.staff_id
    if r.verb == "resolve":
        return (
            state.status == "resolved"
            and state.resolved_by == r.staff_id
            and state.outcome == r.outcome
        )
    return False


def _changes(state: EscalationState, reply: Envelope, now: datetime) -> list[Envelope]:
    """The dispatch events a reply yields; ReplyRefused when it may change nothing."""
    r = reply.payload
    assert isinstance(r, StaffReplyReceived)
    if not may_answer(state, r):
        raise ReplyRefused(f"{state.short_code} belongs to another team; nothing was changed.")
    if _already_as_asked(state, r):
        return []
    view, at, correlation = _view(state), reply.occurred_at, state.correlation_id
    if r.verb == "ack":
        return [
            acknowledge(view, staff_id=r.staff_id, via=r.channel, reply_id=r.reply_id,
                        occurred_at=at, now=now, correlation_id=str(correlation))
        ]  # fmt: skip
    if r.verb == "resolve":
        return resolve(view, staff_id=r.staff_id, via=r.channel, outcome=r.outcome,
                       reply_id=r.reply_id, occurred_at=at, now=now,
                       correlation_id=str(correlation))  # fmt: skip
    return [
        request_escalation(view, staff_id=r.staff_id, via=r.channel, reply_id=r.reply_id,
                           occurred_at=at, now=now, correlation_id=correlation)
    ]  # fmt: skip


def decide_reply(
    state: EscalationState | None, reply: Envelope, *, now: datetime
) -> list[Envelope]:
    """The events a staff reply yields, always ending with its StaffReplyDecided."""
    r = reply.payload
    if not isinstance(r, StaffReplyReceived):
        raise TypeError(f"decide_reply needs a StaffReplyReceived, got {reply.type}")
    earlier = state.decision_of(reply.event_id) if state is not None else None
    if earlier is not None:  # delivered again: the same answer, nothing changes twice
        return [_decided(earlier, reply, state, now)]
    status: DispatchStatus = "unknown"
    changes: list[Envelope] = []
    accepted, reason, holder = False, f"No open dispatch has code {r.short_code}.", None
    if state is not None:
        try:
            changes = _chained(reply, _changes(state, reply, now))
            accepted, reason = True, ""
        except ReplyRefused as exc:
            reason = str(exc)
        after: EscalationState | None = state
        for event in changes:
            after = evolve(after, event)
        assert after is not None
        status, holder = after.status, after.acknowledged_by
    decided = StaffReplyDecided(
        dispatch_id=r.dispatch_id,
        short_code=r.short_code,
        reply_event_id=reply.event_id,
        channel=r.channel,
        verb=r.verb,
        staff_id=r.staff_id,
        accepted=accepted,
        reason=reason,
        outcome=r.outcome,
        holder=holder,
        dispatch_status=status,
        reply_to=r.reply_to,
    )
    return [*changes, _decided(decided, reply, state, now, after=changes[-1] if changes else None)]


def _decided(
    decided: StaffReplyDecided,
    reply: Envelope,
    state: EscalationState | None,
    now: datetime,
    *,
    after: Envelope | None = None,
) -> Envelope:
    """The decision as an event: its id derives from the reply's, so it is one event however
    often the reply is delivered."""
    return new_event(
        decided,
        key=reply.key,
        event_id=derived_id(reply.event_id, "decided"),
        occurred_at=reply.occurred_at,
        recorded_at=now,
        actor=ACTOR,
        cause=after or reply,
        correlation_id=state.correlation_id if state is not None else None,
    )


def _chained(reply: Envelope, changes: list[Envelope]) -> list[Envelope]:
    """Each change caused by the one before it, the first by the reply: one decision's events
    share their stamps, and the chain is their order in every timeline."""
    out: list[Envelope] = []
    for event in changes:
        cause = out[-1] if out else reply
        out.append(event.model_copy(update={"causation_id": cause.event_id}))
    return out


def confirmation_sms(decided: StaffReplyDecided, holder_name: str | None = None) -> str:
    """What the replier is told by SMS: no client details, only the code and the outcome."""
    code = decided.short_code
    if not decided.accepted:
        if decided.dispatch_status == "acknowledged" and decided.holder != decided.staff_id:
            return f"{code} is already taken by {holder_name or decided.holder}; nothing changed."
        return decided.reason
    if decided.verb == "ack":
        return f"{code} is yours. Caller details are in the dispatch API."
    if decided.verb == "resolve":
        return f"{code} closed: {decided.outcome}"
    return f"{code} passed on: the next person on the rota is being paged."
