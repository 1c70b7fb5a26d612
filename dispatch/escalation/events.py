"""Escalation events: a team's policy (key: team id, act.roster-events); the rest are
keyed by dispatch id (act.dispatch-events)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, Field

from dispatch.escalation.policy import EscalationPolicy
from dispatch.events.envelope import EventPayload
from dispatch.vocabulary import ReplyChannel


class EscalationPolicySet(EventPayload):
    """A team's policy for dispatches opened from now on (key: team id)."""

    event_type = "EscalationPolicySet"
    team_id: str
    policy: EscalationPolicy


class EscalationPlanFrozen(EventPayload):
    """The policy in force when the dispatch opened; later policy edits do not touch it."""

    event_type = "EscalationPlanFrozen"
    dispatch_id: uuid.UUID
    team_id: str
    policy: EscalationPolicy
    started_at: AwareDatetime


class EscalationDeadlineReached(EventPayload):
    """A step's acknowledgement timeout passed (emitted by the escalation timer)."""

    event_type = "EscalationDeadlineReached"
    dispatch_id: uuid.UUID
    sequence: int = Field(ge=0)
    deadline_at: AwareDatetime


class EscalationRequested(EventPayload):
    """A paged worker passed the dispatch on (ESC by SMS, 2 on a voice page, the API)."""

    event_type = "EscalationRequested"
    dispatch_id: uuid.UUID
    staff_id: str
    via: ReplyChannel
    sequence: int = Field(ge=0)


class DispatchEscalated(EventPayload):
    event_type = "DispatchEscalated"
    dispatch_id: uuid.UUID
    sequence: int = Field(ge=1)
    round: int = Field(ge=0)
    step: int = Field(ge=0)
    exhausted: bool
    reason: Literal["timeout", "requested"]
    staff_ids: tuple[str, ...]
    deadline_at: AwareDatetime


class EscalationTargetUnreachable(EventPayload):
    """A step named someone who cannot be paged; reported, never skipped silently."""

    event_type = "EscalationTargetUnreachable"
    dispatch_id: uuid.UUID
    sequence: int = Field(ge=0)
    target: str
    reason: str


ESCALATION_PAYLOADS: tuple[type[EventPayload], ...] = (
    EscalationPolicySet,
    EscalationPlanFrozen,
    EscalationDeadlineReached,
    EscalationRequested,
    DispatchEscalated,
    EscalationTargetUnreachable,
)
