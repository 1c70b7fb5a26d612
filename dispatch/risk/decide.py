"""Pure risk decisions: what follows when a client's level changes.

elevated -> a same-day outreach task, and a non-urgent SMS to the on-duty worker when
someone covers the team; high or crisis (from the score, not from a crisis call: the crisis
line has opened that dispatch already) -> an urgent dispatch paging the on-duty worker.
Ids derive from the event that moved the level, so a redelivery decides the same events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from dispatch.crisis.codes import short_code
from dispatch.crisis.decide import Responder, open_and_page
from dispatch.crisis.events import CrisisCallReceived, CrisisTextReceived
from dispatch.events.envelope import Envelope, derived_id, new_event
from dispatch.paging.events import PageRequested
from dispatch.risk.events import (
    ContactTargetSet,
    MissedContactAlerted,
    OutreachTaskCreated,
    PlanReviewOverdue,
    RiskLevelChanged,
)
from dispatch.risk.fold import RiskState, contact_gap_since, contact_target, reasons
from dispatch.risk.levels import DEFAULT_POLICY, RANK, RiskPolicy
from dispatch.vocabulary import ServiceModel

ACTOR = "risk-agent"
EARLIEST = datetime.min.replace(tzinfo=UTC)  # due at once


def needs_responder(before: RiskState, after: RiskState) -> bool:
    """Whether the decision will page someone (so the service looks the rota up)."""
    return not after.admitted and RANK[after.level] > RANK[before.level]


def decide(
    before: RiskState,
    after: RiskState,
    trigger: Envelope,
    *,
    responder: Responder | None,
    now: datetime,
    policy: RiskPolicy = DEFAULT_POLICY,
) -> list[Envelope]:
    """The events that follow one folded event: nothing unless the level moved."""
    if after.level == before.level:
        return []
    why = reasons(after, policy)
    # A level change starts its own story: it links to its trigger by causation only, so a
    # crisis call's timeline stays the call's, and the change's follow-ups share its id.
    changed_id = derived_id("risk-level", after.client_id, trigger.event_id)
    changed = new_event(
        RiskLevelChanged(
            client_id=after.client_id,
            team_id=after.team_id,
            from_level=before.level,
            to_level=after.level,
            score=round(after.effective, 3),
            reasons=why,
            trigger_event_id=trigger.event_id,
        ),
        key=after.client_id,
        event_id=changed_id,
        occurred_at=trigger.occurred_at,
        recorded_at=now,
        actor=ACTOR,
        cause=trigger,
        correlation_id=changed_id,
    )
    out = [changed]
    rising = RANK[after.level] > RANK[before.level]
    if not rising or after.admitted:
        return out
    if after.level == "elevated":
        out += _outreach(after, changed, why, responder=responder, now=now)
    elif RANK[before.level] < RANK["high"] and not isinstance(
        trigger.payload, CrisisCallReceived | CrisisTextReceived
    ):
        out += _urgent_dispatch(after, changed, trigger, responder=responder, now=now)
    return out


def _outreach(
    state: RiskState,
    changed: Envelope,
    why: tuple[str, ...],
    *,
    responder: Responder | None,
    now: datetime,
) -> list[Envelope]:
    task_id = derived_id("outreach", changed.event_id)
    task = new_event(
        OutreachTaskCreated(
            task_id=task_id,
            client_id=state.client_id,
            team_id=state.team_id,
            reasons=why,
            due_by=changed.occurred_at.date().isoformat(),
            notified_staff_id=responder.staff_id if responder else None,
        ),
        key=state.client_id,
        event_id=derived_id(task_id, "created"),
        occurred_at=changed.occurred_at,
        recorded_at=now,
        actor=ACTOR,
        cause=changed,
    )
    if responder is None:
        return [task]
    notification_id = derived_id(task_id, 0, 0, "sms")
    code = short_code(task_id)
    sms = new_event(
        PageRequested(
            notification_id=notification_id,
            dispatch_id=task_id,
            step=0,
            attempt=0,
            channel="sms",
            staff_id=responder.staff_id,
            to_number=responder.phone,
            body=outreach_sms(code),
        ),
        key=str(task_id),
        event_id=derived_id(notification_id, "requested"),
        occurred_at=changed.occurred_at,
        recorded_at=now,
        actor=ACTOR,
        cause=task,
    )
    return [task, sms]


def outreach_sms(code: str) -> str:
    """Non-urgent, no client details: the huddle board and the API hold those."""
    return f"ACT OUTREACH {code}: same-day visit due, risk elevated. Details on the huddle board."


def _urgent_dispatch(
    state: RiskState,
    changed: Envelope,
    trigger: Envelope,
    *,
    responder: Responder | None,
    now: datetime,
) -> list[Envelope]:
    return open_and_page(
        derived_id("risk-dispatch", changed.event_id),
        team_id=state.team_id or "",
        client_id=state.client_id,
        caller_kind="client",
        reason="risk_high",
        risk_level=state.level,
        cause=changed,
        source_event_id=trigger.event_id,
        responder=responder,
        now=now,
        actor=ACTOR,
    )


def _gap_due(state: RiskState, policy: RiskPolicy) -> tuple[datetime, datetime] | None:
    """(since, due) of the contact gap the timer has yet to alert for, if there is one."""
    since = contact_gap_since(state)
    if since is None or state.admitted or not state.on_caseload or state.alerted_since == since:
        return None
    return since, since + contact_target(state, policy)


def missed_contact(
    state: RiskState, *, now: datetime, policy: RiskPolicy = DEFAULT_POLICY
) -> Envelope | None:
    """The timer's decision: alert once when a client has gone past their contact target
    without a face-to-face contact. Not while in hospital; the id is the gap's, so a
    second tick before the alert is folded back decides the same event."""
    gap = _gap_due(state, policy)
    if gap is None or now < gap[1]:
        return None
    since, due = gap
    return new_event(
        MissedContactAlerted(
            client_id=state.client_id,
            team_id=state.team_id,
            since=since,
            target_days=contact_target(state, policy) / timedelta(days=1),
        ),
        key=state.client_id,
        event_id=derived_id("missed-contact", state.client_id, since.isoformat()),
        occurred_at=due,
        recorded_at=now,
        actor=ACTOR,
    )


def needs_contact_target(state: RiskState) -> bool:
    """Whether the client's team is known but its contact target is not yet folded in."""
    return state.team_id is not None and state.target_team != state.team_id


def set_contact_target(
    state: RiskState,
    service_model: ServiceModel,
    *,
    now: datetime,
    policy: RiskPolicy = DEFAULT_POLICY,
) -> Envelope | None:
    """The client's contact target from their team's service model (looked up at the edge),
    in force from when they joined the team. The id is the enrolment's, so a repeat is the
    same event."""
    if not needs_contact_target(state) or state.team_id is None:
        return None
    since = state.team_since or state.enrolled_at or now
    return new_event(
        ContactTargetSet(
            client_id=state.client_id,
            team_id=state.team_id,
            service_model=service_model,
            target_days=policy.target_for(service_model) / timedelta(days=1),
        ),
        key=state.client_id,
        event_id=derived_id("contact-target", state.client_id, state.team_id, since.isoformat()),
        occurred_at=since,
        recorded_at=now,
        actor=ACTOR,
    )


def _review_due(state: RiskState, policy: RiskPolicy) -> tuple[datetime, datetime] | None:
    """(the plan version, when its review falls due) if no overdue review was raised for it."""
    reviewed = state.plan_reviewed_at
    if reviewed is None or not state.on_caseload or state.review_alerted_for == reviewed:
        return None
    return reviewed, reviewed + policy.plan_review_interval


def plan_review_overdue(
    state: RiskState, *, now: datetime, policy: RiskPolicy = DEFAULT_POLICY
) -> Envelope | None:
    """Flag a relapse plan not reviewed within six months, once per plan version."""
    review = _review_due(state, policy)
    if review is None or now < review[1]:
        return None
    reviewed, due = review
    return new_event(
        PlanReviewOverdue(client_id=state.client_id, team_id=state.team_id, reviewed_at=reviewed),
        key=state.client_id,
        event_id=derived_id("plan-review-overdue", state.client_id, reviewed.isoformat()),
        occurred_at=due,
        recorded_at=now,
        actor=ACTOR,
    )


def timer_due_at(state: RiskState, policy: RiskPolicy = DEFAULT_POLICY) -> datetime | None:
    """The earliest time at which `timer_events` decides anything for this state; None:
    never, until the state changes. A client waiting for their team's contact target is
    due at once (`EARLIEST`). The timer decides only the states due by its tick (decision
    055): before this time `timer_events` returns nothing for the state, and at it, something."""
    if needs_contact_target(state):
        return EARLIEST
    dues = [found[1] for found in (_gap_due(state, policy), _review_due(state, policy)) if found]
    return min(dues, default=None)


def timer_events(
    states: Iterable[RiskState],
    service_models: Mapping[str, ServiceModel],
    *,
    now: datetime,
    policy: RiskPolicy = DEFAULT_POLICY,
) -> list[Envelope]:
    """One risk-timer tick: contact targets for clients new to a team (whose team's service
    model is known), then missed contacts and overdue plan reviews. A client whose target
    is being set is not alerted until it is folded in (their team may allow longer)."""
    out: list[Envelope] = []
    for state in states:
        model = service_models.get(state.team_id or "")
        target = set_contact_target(state, model, now=now, policy=policy) if model else None
        if target is not None:
            out.append(target)
        elif alert := missed_contact(state, now=now, policy=policy):
            out.append(alert)
        if review := plan_review_overdue(state, now=now, policy=policy):
            out.append(review)
    return out
