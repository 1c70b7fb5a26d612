"""Crisis line services: load what a decision needs, decide, return the events to append."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from dispatch.clock import Clock
from dispatch.crisis.decide import Responder, open_dispatch
from dispatch.crisis.events import CrisisCallReceived, CrisisTextReceived
from dispatch.crisis.preferences import (
    NO_PREFERENCE,
    Candidate,
    Choice,
    ClientPreferences,
    choose,
    unmet_preferences,
)
from dispatch.escalation.decide import freeze_plan
from dispatch.escalation.policy import EscalationPolicy
from dispatch.events import Envelope


class RotaLookup(Protocol):
    async def responder(self, team_id: str, at: datetime) -> Responder | None:
        """The on-duty primary (else backup) of a team at an instant."""
        ...

    async def staff_responder(self, staff_id: str) -> Responder | None: ...


class OnDutyPerson(Candidate, Protocol):
    """A staff member the crisis line can choose and page."""

    @property
    def phone(self) -> str: ...


class CrisisRota(RotaLookup, Protocol):
    """What the crisis line asks of the rota to honour a client's preferences."""

    async def on_duty_people(self, team_id: str, at: datetime) -> Sequence[OnDutyPerson | None]:
        """(primary, backup) of a team at an instant; None for an uncovered layer."""
        ...

    async def staff_person(self, staff_id: str) -> OnDutyPerson | None: ...

    async def client_preferences(self, client_id: str) -> ClientPreferences: ...


class PolicyLookup(Protocol):
    async def policy_for(self, team_id: str) -> EscalationPolicy: ...


class CrisisLine:
    def __init__(self, rota: CrisisRota, clock: Clock, *, policies: PolicyLookup) -> None:
        self._rota = rota
        self._clock = clock
        self._policies = policies

    async def handle_contact(self, contact: Envelope) -> list[Envelope]:
        payload = contact.payload
        if not isinstance(payload, CrisisCallReceived | CrisisTextReceived):
            return []
        choice = await self._choose(payload, contact.occurred_at)
        person = choice.person
        responder = Responder(staff_id=person.staff_id, phone=person.phone) if person else None
        now = self._clock.now()
        opened, *pages = open_dispatch(contact, responder=responder, now=now, note=choice.note)
        policy = await self._policies.policy_for(payload.team_id)
        return [opened, freeze_plan(opened, policy, now=now), *pages]

    async def _choose(
        self, payload: CrisisCallReceived | CrisisTextReceived, at: datetime
    ) -> Choice[OnDutyPerson]:
        """Who is paged: the person the caller is already being connected to (the voice
        webhook chose them with the same `choose`), else the choice over who is on duty."""
        prefs = NO_PREFERENCE
        if payload.client_id is not None:  # a carer's call uses the client's preferences
            prefs = await self._rota.client_preferences(payload.client_id)
        if isinstance(payload, CrisisCallReceived) and payload.dialled_staff_id:
            dialled = await self._rota.staff_person(payload.dialled_staff_id)
            if dialled is not None:
                return Choice(dialled, unmet_preferences(dialled, prefs))
        return choose(await self._rota.on_duty_people(payload.team_id, at), prefs)
