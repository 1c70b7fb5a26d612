"""Pure escalation decisions: given the state and who the rota names, which events follow.

A deadline or an ESC moves the dispatch one step; anything aimed at an older step, or at a
dispatch already acknowledged or resolved, is a no-op.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

from dispatch.crisis.decide import (
    DispatchView,
    ReplyChannel,
    ReplyRefused,
    Responder,
    page_requested,
)
from dispatch.crisis.events import DispatchOpened
from dispatch.crisis.page_text import notice_sms, page_sms
from dispatch.escalation.events import (
    DispatchEscalated,
    EscalationDeadlineReached,
    EscalationPlanFrozen,
    EscalationRequested,
    EscalationTargetUnreachable,
)
from dispatch.escalation.policy import EscalationPolicy, Target
from dispatch.escalation.state import EscalationState, exhausted_step, next_position
from dispatch.events import Envelope, derived_id, new_event
from dispatch.vocabulary import Channel

ACTOR = "escalation-agent"


def request_escalation(
    view: DispatchView,
    *,
    staff_id: str,
    via: ReplyChannel,
    reply_id: str,
    occurred_at: datetime,
    now: datetime,
    correlation_id: uuid.UUID,
) -> Envelope:
    """ESC: the paged worker cannot take it; the next step is paged at once."""
    if view.status != "open":
        raise ReplyRefused(f"{view.short_code} is already {view.status}; nothing to pass on.")
    return new_event(
        EscalationRequested(
            dispatch_id=view.dispatch_id,
            staff_id=staff_id,
            via=via,
            sequence=view.escalation_sequence,
        ),
        key=str(view.dispatch_id),
        event_id=derived_id(reply_id, "EscalationRequested"),
        occurred_at=occurred_at,
        recorded_at=now,
        actor=staff_id,
        correlation_id=correlation_id,
    )


def freeze_plan(opened: Envelope, policy: EscalationPolicy, *, now: datetime) -> Envelope:
    """The policy in force when the dispatch opened, as an event of that dispatch."""
    d = opened.payload
    assert isinstance(d, DispatchOpened)
    return new_event(
        EscalationPlanFrozen(
            dispatch_id=d.dispatch_id,
            team_id=d.team_id,
            policy=policy,
            started_at=opened.occurred_at,
        ),
        key=str(d.dispatch_id),
        event_id=derived_id(d.dispatch_id, "plan"),
        occurred_at=opened.occurred_at,
        recorded_at=now,
        actor=opened.actor,
        cause=opened,
    )


def deadline_reached(state: EscalationState, *, now: datetime) -> Envelope:
    """The timer's event: the current step's acknowledgement timeout has passed."""
    assert state.deadline_at is not None
    return new_event(
        EscalationDeadlineReached(
            dispatch_id=state.dispatch_id, sequence=state.sequence, deadline_at=state.deadline_at
        ),
        key=str(state.dispatch_id),
        event_id=derived_id(state.dispatch_id, "deadline", state.sequence),
        occurred_at=state.deadline_at,
        recorded_at=now,
        actor="escalation-timer",
        correlation_id=state.correlation_id,
    )


def wants_escalation(state: EscalationState | None, event: Envelope) -> bool:
    """A deadline or ESC for the step the dispatch is on now, while nobody has taken it."""
    p = event.payload
    if state is None or not state.waiting:
        return False
    if isinstance(p, EscalationDeadlineReached):
        return p.sequence == state.sequence and p.deadline_at == state.deadline_at
    if isinstance(p, EscalationRequested):
        return p.sequence == state.sequence
    return False


def next_targets(state: EscalationState) -> tuple[Target, ...]:
    assert state.policy is not None
    _, step, exhausted = next_position(state)
    chosen = exhausted_step(state.policy) if exhausted else state.policy.steps[step]
    return chosen.targets


def relative_to_first_paged(
    responders: Mapping[Target, list[Responder]], first_paged: str | None
) -> dict[Target, list[Responder]]:
    """Primary and backup as this dispatch saw them: when the first page went to the on-duty
    backup (a client's preference), the on-duty primary is the one to try next."""
    out = dict(responders)
    primary, backup = out.get("primary", []), out.get("backup", [])
    if first_paged and backup and backup[0].staff_id == first_paged:
        out["primary"], out["backup"] = backup, primary
    return out


def escalate(
    state: EscalationState,
    cause: Envelope,
    *,
    responders: Mapping[Target, list[Responder]],
    now: datetime,
) -> list[Envelope]:
    """Move one step: DispatchEscalated, one PageRequested per person and channel, and an
    EscalationTargetUnreachable for every target nobody could be found for."""
    assert state.policy is not None
    round_, step, exhausted = next_position(state)
    chosen = exhausted_step(state.policy) if exhausted else state.policy.steps[step]
    at = cause.occurred_at
    sequence = state.sequence + 1
    people: dict[str, Responder] = {}
    unreachable: list[Target] = []
    for target in chosen.targets:
        found = responders.get(target, [])
        if not found:
            unreachable.append(target)
        for person in found:
            people.setdefault(person.staff_id, person)
    reason = "timeout" if isinstance(cause.payload, EscalationDeadlineReached) else "requested"
    key = str(state.dispatch_id)
    escalated = new_event(
        DispatchEscalated(
            dispatch_id=state.dispatch_id,
            sequence=sequence,
            round=round_,
            step=step,
            exhausted=exhausted,
            reason=reason,
            staff_ids=tuple(people),
            deadline_at=at + timedelta(seconds=chosen.ack_timeout_s),
        ),
        key=key,
        event_id=derived_id(state.dispatch_id, "escalated", sequence),
        occurred_at=at,
        recorded_at=now,
        actor=ACTOR,
        cause=cause,
    )
    out = [escalated]
    for target in unreachable:
        out.append(
            new_event(
                EscalationTargetUnreachable(
                    dispatch_id=state.dispatch_id,
                    sequence=sequence,
                    target=target,
                    reason=f"nobody on the rota is {target.replace('_', ' ')}",
                ),
                key=key,
                event_id=derived_id(state.dispatch_id, "unreachable", sequence, target),
                occurred_at=at,
                recorded_at=now,
                actor=ACTOR,
                cause=escalated,
            )
        )
    for person in people.values():
        for channel in chosen.channels:
            out.append(page(state, person, channel, sequence, escalated, now=now))
    missing = [t for t in unreachable if t != "manager"]
    if missing:
        # Reported to the manager, never skipped silently (unless already paged this step).
        text = " or ".join(t.replace("_", " ") for t in missing)
        for manager in responders.get("manager", []):
            if manager.staff_id not in people:
                out.append(notice(state, manager, text, sequence, escalated, now=now))
    return out


def notice(
    state: EscalationState,
    manager: Responder,
    missing: str,
    sequence: int,
    cause: Envelope,
    *,
    now: datetime,
) -> Envelope:
    """An SMS telling a manager that a step named nobody; deduplicated like any page."""
    notification_id = derived_id(state.dispatch_id, sequence, manager.staff_id, "sms", "notice")
    return page_requested(
        notification_id=notification_id,
        dispatch_id=state.dispatch_id,
        step=sequence,
        attempt=0,
        channel="sms",
        responder=manager,
        body=notice_sms(code=state.short_code, missing=missing),
        cause=cause,
        now=now,
        actor=ACTOR,
    )


def page(
    state: EscalationState,
    person: Responder,
    channel: Channel,
    sequence: int,
    cause: Envelope,
    *,
    now: datetime,
) -> Envelope:
    notification_id = derived_id(state.dispatch_id, sequence, person.staff_id, channel)
    body = page_sms(
        code=state.short_code,
        risk_level=state.risk_level,
        reason=state.reason,
        caller_kind=state.caller_kind,
    )
    return page_requested(
        notification_id=notification_id,
        dispatch_id=state.dispatch_id,
        step=sequence,
        attempt=0,
        channel=channel,
        responder=person,
        body=body,
        cause=cause,
        now=now,
        actor=ACTOR,
    )
