"""The escalation state of one dispatch: a pure fold of its dispatch-topic events."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from dispatch.crisis.events import DispatchAcknowledged, DispatchOpened, DispatchResolved
from dispatch.escalation.events import DispatchEscalated, EscalationPlanFrozen
from dispatch.escalation.policy import EXHAUSTED_STEP, EscalationPolicy, EscalationStep
from dispatch.events import Envelope
from dispatch.replies.events import StaffReplyDecided
from dispatch.vocabulary import CallerKind, RiskLevel

REPLY_MEMORY = 64


class EscalationState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    dispatch_id: uuid.UUID
    correlation_id: uuid.UUID
    team_id: str
    short_code: str
    risk_level: RiskLevel
    reason: str
    caller_kind: CallerKind
    first_paged: str | None = None  # who the dispatch paged first (None: nobody)
    paged: tuple[str, ...] = ()  # everyone a step of this dispatch paged, in order
    status: Literal["open", "acknowledged", "resolved"] = "open"
    acknowledged_by: str | None = None
    resolved_by: str | None = None
    outcome: str = ""
    policy: EscalationPolicy | None = None
    sequence: int = 0
    round: int = 0
    step: int = 0
    exhausted: bool = False
    deadline_at: AwareDatetime | None = None
    # The replies already decided (the last REPLY_MEMORY): a reply delivered again is
    # answered with its first decision, never re-decided against a later state.
    replies: tuple[StaffReplyDecided, ...] = ()

    def decision_of(self, reply_event_id: uuid.UUID) -> StaffReplyDecided | None:
        return next((d for d in self.replies if d.reply_event_id == reply_event_id), None)

    @property
    def waiting(self) -> bool:
        """Open, with a policy and a deadline: the timer watches it."""
        return self.status == "open" and self.policy is not None and self.deadline_at is not None

    def current_step(self) -> EscalationStep:
        assert self.policy is not None
        if self.exhausted:
            return exhausted_step(self.policy)
        return self.policy.steps[self.step]


def exhausted_step(policy: EscalationPolicy) -> EscalationStep:
    return EXHAUSTED_STEP.model_copy(update={"ack_timeout_s": policy.exhausted_repeat_s})


def evolve(state: EscalationState | None, event: Envelope) -> EscalationState | None:
    """Apply one dispatch-topic event. Replaying the same events gives the same state."""
    p = event.payload
    if isinstance(p, DispatchOpened):
        return state or EscalationState(
            dispatch_id=p.dispatch_id,
            correlation_id=event.correlation_id,
            team_id=p.team_id,
            short_code=p.short_code,
            risk_level=p.risk_level,
            reason=p.reason,
            caller_kind=p.caller_kind,
            first_paged=p.assigned_staff_id,
            paged=(p.assigned_staff_id,) if p.assigned_staff_id else (),
        )
    if state is None:
        return None
    if isinstance(p, EscalationPlanFrozen) and state.policy is None:
        # Nobody could be paged at opening: the first step is already overdue.
        wait = p.policy.steps[0].ack_timeout_s if state.first_paged else 0
        return state.model_copy(
            update={"policy": p.policy, "deadline_at": p.started_at + timedelta(seconds=wait)}
        )
    if isinstance(p, DispatchAcknowledged) and state.status == "open":
        return state.model_copy(update={"status": "acknowledged", "acknowledged_by": p.staff_id})
    if isinstance(p, DispatchResolved) and state.status != "resolved":
        return state.model_copy(
            update={"status": "resolved", "resolved_by": p.staff_id, "outcome": p.outcome}
        )
    if isinstance(p, StaffReplyDecided) and state.decision_of(p.reply_event_id) is None:
        return state.model_copy(update={"replies": (*state.replies, p)[-REPLY_MEMORY:]})
    if isinstance(p, DispatchEscalated) and p.sequence > state.sequence:
        return state.model_copy(
            update={
                "sequence": p.sequence,
                "round": p.round,
                "step": p.step,
                "exhausted": p.exhausted,
                "deadline_at": p.deadline_at,
                "paged": tuple(dict.fromkeys((*state.paged, *p.staff_ids))),
            }
        )
    return state


def next_position(state: EscalationState) -> tuple[int, int, bool]:
    """(round, step, exhausted) after the current step: next step, next round, then everyone."""
    assert state.policy is not None
    if state.exhausted:
        return state.round + 1, state.step, True
    if state.step + 1 < len(state.policy.steps):
        return state.round, state.step + 1, False
    if state.round + 1 < state.policy.rounds:
        return state.round + 1, 0, False
    return state.round + 1, len(state.policy.steps), True


def is_due(state: EscalationState, now: datetime) -> bool:
    return state.waiting and state.deadline_at is not None and state.deadline_at <= now


def retire(state: EscalationState) -> EscalationState:
    """What the escalation agent keeps of a resolved dispatch (a tombstone): everything a late
    or redelivered event of it needs (who may answer, its status, holder and outcome, its
    sequence, the remembered reply decisions), without what only an open dispatch uses (its
    policy, deadline, position and first page). Resolved is final and a resolved dispatch
    never waits, so every later event is decided exactly as on the full state."""
    if state.status != "resolved":
        return state
    return state.model_copy(
        update={
            "policy": None,
            "deadline_at": None,
            "first_paged": None,
            "round": 0,
            "step": 0,
            "exhausted": False,
        }
    )
