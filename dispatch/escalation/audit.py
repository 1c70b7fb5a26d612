"""The escalation auditor's decisions: which dispatches are late, and the event re-driving
one. Pure: the worker's auditor timer loads each open dispatch's events and calls these.

A dispatch is late when its step's deadline passed more than `grace` ago and nothing moved
it since (no DispatchEscalated, acknowledgement or resolution in its own events). The
re-drive is the deadline event of its current step: the escalation agent, which decides on
its own folded state, moves the step once and ignores any copy aimed at a step it left.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from dispatch.escalation.decide import deadline_reached
from dispatch.escalation.state import EscalationState, evolve
from dispatch.events import Envelope, derived_id

AUDITOR = "escalation-auditor"
AUDITED_TYPES = frozenset(
    {
        "DispatchOpened",
        "EscalationPlanFrozen",
        "DispatchAcknowledged",
        "DispatchResolved",
        "DispatchEscalated",
    }
)


def fold(history: Iterable[Envelope]) -> EscalationState | None:
    """The dispatch's escalation state from its own events (its opening first)."""
    state: EscalationState | None = None
    for event in history:
        state = evolve(state, event)
    return state


def lateness(state: EscalationState, now: datetime) -> timedelta | None:
    """How far past its deadline the dispatch's current step is (None: not waiting)."""
    if not state.waiting or state.deadline_at is None:
        return None
    return now - state.deadline_at


def is_late(state: EscalationState, now: datetime, grace: timedelta) -> bool:
    late = lateness(state, now)
    return late is not None and late > grace


def redrive(state: EscalationState, *, now: datetime) -> Envelope:
    """The current step's deadline event again, marked as the auditor's. Its id is derived
    from the step, so the archive keeps one per late step however often it is re-driven."""
    event = deadline_reached(state, now=now)
    return event.model_copy(
        update={
            "event_id": derived_id(state.dispatch_id, "deadline-audit", state.sequence),
            "actor": AUDITOR,
        }
    )
