"""Escalation service: fold the event into the state; when a step is due, load who the rota
names for the next step and decide the events."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from dispatch.clock import Clock
from dispatch.crisis.decide import Responder
from dispatch.escalation.decide import (
    escalate,
    next_targets,
    relative_to_first_paged,
    wants_escalation,
)
from dispatch.escalation.policy import Target
from dispatch.escalation.state import EscalationState, evolve
from dispatch.events import Envelope
from dispatch.replies.decide import decide_reply
from dispatch.replies.events import StaffReplyReceived


class TargetLookup(Protocol):
    async def targets(
        self, team_id: str, targets: tuple[Target, ...], at: datetime
    ) -> dict[Target, list[Responder]]:
        """Who each target means for the team at an instant (empty list: nobody)."""
        ...


class EscalationService:
    def __init__(self, lookup: TargetLookup, clock: Clock) -> None:
        self._lookup = lookup
        self._clock = clock

    async def handle(
        self, state: EscalationState | None, event: Envelope
    ) -> tuple[EscalationState | None, list[Envelope]]:
        """The dispatch's next state and the events to append. A staff reply is decided here,
        on the state folded from the dispatch's own events, and its effects are folded at
        once: the next reply in the partition already sees them."""
        if isinstance(event.payload, StaffReplyReceived):
            decided = decide_reply(state, event, now=self._clock.now())
            after = state
            for emitted in decided:
                after = evolve(after, emitted)
            return after, decided
        if state is not None and wants_escalation(state, event):
            wanted = tuple(dict.fromkeys((*next_targets(state), "primary", "backup", "manager")))
            found = await self._lookup.targets(state.team_id, wanted, event.occurred_at)
            responders = relative_to_first_paged(found, state.first_paged)
            out = escalate(state, event, responders=responders, now=self._clock.now())
            folded: EscalationState | None = state
            for emitted in out:
                folded = evolve(folded, emitted)
            return folded, out
        return evolve(state, event), []
