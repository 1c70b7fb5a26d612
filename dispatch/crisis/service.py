"""Crisis line services: load what a decision needs, decide, return the events to append."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from dispatch.clock import Clock
from dispatch.crisis.decide import Responder, open_dispatch
from dispatch.escalation.decide import freeze_plan
from dispatch.escalation.policy import EscalationPolicy
from dispatch.events import Envelope
from dispatch.events.catalogue import CrisisCallReceived, CrisisTextReceived


class RotaLookup(Protocol):
    async def responder(self, team_id: str, at: datetime) -> Responder | None:
        """The on-duty primary (else backup) of a team at an instant."""
        ...

    async def staff_responder(self, staff_id: str) -> Responder | None: ...


class PolicyLookup(Protocol):
    async def policy_for(self, team_id: str) -> EscalationPolicy: ...


class CrisisLine:
    def __init__(self, rota: RotaLookup, clock: Clock, *, policies: PolicyLookup) -> None:
        self._rota = rota
        self._clock = clock
        self._policies = policies

    async def handle_contact(self, contact: Envelope) -> list[Envelope]:
        payload = contact.payload
        if not isinstance(payload, CrisisCallReceived | CrisisTextReceived):
            return []
        responder: Responder | None = None
        if isinstance(payload, CrisisCallReceived) and payload.dialled_staff_id:
            # Page the person the caller is already being connected to.
            responder = await self._rota.staff_responder(payload.dialled_staff_id)
        if responder is None:
            responder = await self._rota.responder(payload.team_id, contact.occurred_at)
        now = self._clock.now()
        opened, *pages = open_dispatch(contact, responder=responder, now=now)
        policy = await self._policies.policy_for(payload.team_id)
        return [opened, freeze_plan(opened, policy, now=now), *pages]
