"""The client journey service: load the client's record and the facts a change names,
decide, record the events. The command line, the team API and the demo all come through
here, so the same input is refused the same way everywhere and nothing is recorded then."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from dispatch.clients.careplans import record_care_plan, review_care_plan
from dispatch.clients.caseload import discharge, enrol, re_refer, transfer
from dispatch.clients.contacts import record_contact
from dispatch.clients.inputs import (
    CarePlanInput,
    CarePlanReviewInput,
    ContactInput,
    DeclineInput,
    DischargeInput,
    EnrolInput,
    JourneyInput,
    ReferralInput,
    ReReferralInput,
    TransferInput,
)
from dispatch.clients.ports import JourneyLookup, JourneyRefused
from dispatch.clients.referrals import accept_referral, decline_referral, receive_referral
from dispatch.clients.rules import Facts
from dispatch.clock import Clock
from dispatch.events import Envelope

CLIENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,80}")
Decision = Callable[[Facts], list[Envelope]]


class EventSink(Protocol):
    async def record(self, events: Sequence[Envelope]) -> bool:
        """Store the events at once; False when the first was stored before (a repeat)."""
        ...


@dataclass(frozen=True)
class Recorded:
    """What a change recorded (`fresh` False: the same change had been recorded before)."""

    events: tuple[Envelope, ...]
    fresh: bool


class JourneyService:
    def __init__(self, lookup: JourneyLookup, sink: EventSink, clock: Clock) -> None:
        self._lookup = lookup
        self._sink = sink
        self._clock = clock

    async def decide(
        self,
        client_id: str,
        decision: Decision,
        *,
        actor: str,
        scope: str | None = None,
        teams: Iterable[str | None] = (),
        staff: Iterable[str | None] = (),
        carers: Iterable[str] = (),
    ) -> Recorded:
        """Load the record and every team, staff member and carer the change names, decide,
        and record the events; JourneyRefused (nothing recorded) names the field at fault."""
        if not CLIENT_ID.fullmatch(client_id):
            raise JourneyRefused("client_id", "letters, digits and _ . : - only (1-80)")
        record = await self._lookup.record(client_id)
        moving_to = record.transfer.to_team_id if record.transfer else None
        team_ids = {t for t in (*teams, record.team_id, moving_to) if t}
        staff_ids = {s for s in (actor, record.care_coordinator_id, *staff) if s}
        found_teams = {t: team for t in sorted(team_ids) if (team := await self._lookup.team(t))}
        found_staff = {s: who for s in sorted(staff_ids) if (who := await self._lookup.staff(s))}
        consents = {c: await self._lookup.carer_consents(client_id, c) for c in set(carers)}
        facts = Facts(
            record=record,
            now=self._clock.now(),
            actor=actor,
            scope=scope,
            teams=found_teams,
            staff=found_staff,
            consents=consents,
        )
        events = decision(facts)
        fresh = await self._sink.record(events)
        return Recorded(tuple(events), fresh)

    async def receive_referral(
        self, client_id: str, team_id: str, referral: ReferralInput, *, actor: str
    ) -> Recorded:
        return await self.decide(
            client_id,
            lambda f: receive_referral(f, team_id, referral),
            actor=actor,
            teams=(team_id,),
        )

    async def accept_referral(
        self, client_id: str, decision: JourneyInput, *, actor: str, scope: str | None = None
    ) -> Recorded:
        return await self.decide(
            client_id, lambda f: accept_referral(f, decision), actor=actor, scope=scope
        )

    async def decline_referral(
        self, client_id: str, decision: DeclineInput, *, actor: str, scope: str | None = None
    ) -> Recorded:
        return await self.decide(
            client_id, lambda f: decline_referral(f, decision), actor=actor, scope=scope
        )

    async def enrol(
        self, client_id: str, team_id: str, enrolment: EnrolInput, *, actor: str
    ) -> Recorded:
        return await self.decide(
            client_id,
            lambda f: enrol(f, team_id, enrolment),
            actor=actor,
            teams=(team_id,),
            staff=(enrolment.care_coordinator_id,),
        )

    async def transfer(
        self, client_id: str, move: TransferInput, *, actor: str, scope: str | None = None
    ) -> Recorded:
        return await self.decide(
            client_id,
            lambda f: transfer(f, move),
            actor=actor,
            scope=scope,
            teams=(move.to_team_id,),
            staff=(move.care_coordinator_id,),
        )

    async def discharge(
        self, client_id: str, leaving: DischargeInput, *, actor: str, scope: str | None = None
    ) -> Recorded:
        return await self.decide(
            client_id,
            lambda f: discharge(f, leaving),
            actor=actor,
            scope=scope,
            carers=leaving.carers_involved,
        )

    async def re_refer(
        self, client_id: str, back: ReReferralInput, *, actor: str, scope: str | None = None
    ) -> Recorded:
        return await self.decide(
            client_id,
            lambda f: re_refer(f, back),
            actor=actor,
            scope=scope,
            staff=(back.care_coordinator_id,),
        )

    async def contact(
        self, client_id: str, contact: ContactInput, *, actor: str, scope: str | None = None
    ) -> Recorded:
        return await self.decide(
            client_id,
            lambda f: record_contact(f, contact),
            actor=actor,
            scope=scope,
            staff=contact.staff_ids,
            carers=(contact.carer_id,) if contact.carer_id else (),
        )

    async def care_plan(
        self, client_id: str, plan: CarePlanInput, *, actor: str, scope: str | None = None
    ) -> Recorded:
        return await self.decide(
            client_id,
            lambda f: record_care_plan(f, plan),
            actor=actor,
            scope=scope,
            staff=(plan.care_coordinator_id,),
            carers=plan.carers_involved,
        )

    async def care_plan_review(
        self, client_id: str, review: CarePlanReviewInput, *, actor: str, scope: str | None = None
    ) -> Recorded:
        return await self.decide(
            client_id,
            lambda f: review_care_plan(f, review),
            actor=actor,
            scope=scope,
            carers=review.carers_involved,
        )
