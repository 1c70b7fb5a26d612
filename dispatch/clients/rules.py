"""The checks every journey decision shares, on facts loaded before deciding: times, teams,
staff, carers' consent, and who may refer a client to an Assertive Outreach team."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dispatch.clients.events import ReferralSource
from dispatch.clients.ports import JourneyRefused, StaffRef, TeamRef
from dispatch.clients.record import ClientRecord
from dispatch.events import Envelope, EventPayload, new_event
from dispatch.risk.levels import DEFAULT_POLICY
from dispatch.vocabulary import ServiceModel

FUTURE_SLACK = timedelta(minutes=5)  # a clock a little ahead is not "the future"
# Assertive Outreach takes referrals from mental-health teams in the community only.
OUTREACH_SOURCES: frozenset[ReferralSource] = frozenset({"cmht", "mental_health_team"})
TEAM_SOURCES: frozenset[ReferralSource] = OUTREACH_SOURCES  # they name the referring team
SOURCE_WORDS = {"self": "a self-referral", "family": "a referral by family or friends",
                "gp": "a referral by a GP", "other": "this referral"}  # fmt: skip
NEEDS_COORDINATOR: frozenset[ServiceModel] = frozenset({"ICM", "AOT"})


@dataclass(frozen=True)
class Facts:
    """Everything a decision may look at, loaded by the service before it decides."""

    record: ClientRecord
    now: datetime
    actor: str  # the staff id of whoever makes the change
    scope: str | None = None  # the caller's team (API); None: any team (command line)
    teams: Mapping[str, TeamRef] = field(default_factory=dict)
    staff: Mapping[str, StaffRef] = field(default_factory=dict)
    consents: Mapping[str, bool | None] = field(default_factory=dict)

    def team(self, team_id: str, where: str) -> TeamRef:
        found = self.teams.get(team_id)
        if found is None:
            raise JourneyRefused(where, f"no team {team_id!r}")
        return found

    def member(self, staff_id: str, team_ids: Iterable[str], where: str) -> StaffRef:
        """The staff member, who must belong to one of the teams."""
        person = self.staff.get(staff_id)
        allowed = tuple(team_ids)
        if person is None:
            raise JourneyRefused(where, f"no staff member {staff_id!r}")
        if person.team_id not in allowed:
            teams = " or ".join(repr(t) for t in allowed)
            raise JourneyRefused(where, f"{staff_id!r} is not a member of team {teams}")
        return person

    def by(self, team_ids: Iterable[str]) -> None:
        """Whoever makes the change works for one of these teams."""
        self.member(self.actor, team_ids, "by")

    def carers(self, carer_ids: Iterable[str], where: str) -> None:
        """Each carer is the client's and the client consents to share with them."""
        for carer_id in carer_ids:
            consents = self.consents.get(carer_id)
            if consents is None:
                raise JourneyRefused(where, f"{carer_id!r} is not this client's carer")
            if not consents:
                raise JourneyRefused(
                    where, f"the client has not consented to share with {carer_id!r}"
                )

    def in_scope(self, team_ids: Iterable[str | None]) -> None:
        """The caller's team (API) is one of these, or the client is not theirs to change."""
        if self.scope is not None and self.scope not in tuple(team_ids):
            raise JourneyRefused(
                "client_id", f"no client {self.record.client_id!r} in your team", 404
            )

    def when(self, given: datetime | None, *, not_before: datetime | None = None,
             before_what: str = "") -> datetime:  # fmt: skip
        """When the change happened: now by default, never in the future, never before
        `not_before` (the enrolment, the referral...)."""
        at = given or self.now
        if at > self.now + FUTURE_SLACK:
            raise JourneyRefused("occurred_at", "is in the future")
        if not_before is not None and at < not_before:
            raise JourneyRefused(
                "occurred_at", f"is before {before_what} ({not_before:%Y-%m-%d %H:%M}Z)"
            )
        return at

    def enrolled(self) -> ClientRecord:
        """The record of a client on a caseload, or a refusal saying where they are."""
        r = self.record
        if r.enrolled:
            return r
        if r.status == "discharged" and r.discharged_at is not None:
            raise JourneyRefused("client_id", f"{r.client_id!r} was discharged on "
                                 f"{r.discharged_at:%Y-%m-%d}; re-refer them first")  # fmt: skip
        raise JourneyRefused("client_id", f"{r.client_id!r} is not enrolled with any team")

    def not_enrolled(self, team_id: str) -> None:
        """Refuse a client already on a caseload (another team's: a transfer moves them)."""
        r = self.record
        if r.enrolled:
            hint = "" if r.team_id == team_id else "; transfer them instead"
            raise JourneyRefused("client_id", f"{r.client_id!r} is already on the caseload of "
                                 f"team {r.team_id!r}{hint}")  # fmt: skip

    def event(self, payload: EventPayload, *, at: datetime, event_id: uuid.UUID) -> Envelope:
        """The change as an event on the client's stream, made by the actor."""
        return new_event(payload, key=self.record.client_id, event_id=event_id,
                         occurred_at=at, recorded_at=self.now, actor=self.actor)  # fmt: skip


def source_refusal(model: ServiceModel, source: ReferralSource, source_team: str | None) -> None:
    """Assertive Outreach is referral-only from a community mental health team or another
    mental-health team; a team source names the referring team."""
    if model == "AOT" and source not in OUTREACH_SOURCES:
        raise JourneyRefused(
            "source",
            f"Assertive Outreach takes referrals only from a community mental health team or "
            f"another mental-health team; {SOURCE_WORDS[source]} is not accepted",
        )
    if source in TEAM_SOURCES and not source_team:
        raise JourneyRefused("source_team", "name the referring team")


def target_days(model: ServiceModel) -> float:
    """The team's face-to-face contact target (days), from its service model."""
    return DEFAULT_POLICY.target_for(model) / timedelta(days=1)


def coordinator(facts: Facts, team: TeamRef, staff_id: str | None, where: str) -> str | None:
    """The care coordinator: a member of the team; ICM and Assertive Outreach need one."""
    if staff_id is None:
        if team.service_model in NEEDS_COORDINATOR:
            raise JourneyRefused(where, f"a {team.service_model} team names a care coordinator")
        return None
    return facts.member(staff_id, (team.team_id,), where).staff_id
