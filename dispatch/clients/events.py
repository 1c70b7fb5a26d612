"""Client events (key: client id, topic act.client-events): the journey from referral to
discharge and re-referral, carers, contacts and the care plan under the Care Programme
Approach. Fields added after an event was first written are optional with defaults, so
every stored event still decodes."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from dispatch.events.envelope import EventPayload
from dispatch.vocabulary import E164, E164_PATTERN, Gender

ReferralSource = Literal["cmht", "mental_health_team", "gp", "self", "family", "other"]
ContactKind = Literal["face_to_face", "phone", "attempted"]
ContactPlace = Literal["home", "community", "office"]
Phone = Annotated[str, Field(pattern=E164_PATTERN)]
TargetDays = Annotated[float, Field(gt=0, le=60)]


class ReferralReceived(EventPayload):
    """Someone asked a team to take a client on: who referred, the criteria they say are met."""

    event_type = "ReferralReceived"
    referral_id: uuid.UUID
    client_id: str
    team_id: str
    display_name: str
    source: ReferralSource
    source_team: str | None = Field(default=None, description="the referring team's name")
    criteria_met: tuple[str, ...] = ()
    note: str = ""


class ReferralAccepted(EventPayload):
    """The team agreed to take the referred client on (enrolment follows)."""

    event_type = "ReferralAccepted"
    referral_id: uuid.UUID
    client_id: str
    team_id: str


class ReferralDeclined(EventPayload):
    """The team did not take the referred client on, and why."""

    event_type = "ReferralDeclined"
    referral_id: uuid.UUID
    client_id: str
    team_id: str
    reason: str = Field(min_length=1)


class ClientEnrolled(EventPayload):
    """The client is on the team's caseload, with their care coordinator (ICM: the one-to-one
    case manager), their preferences and numbers, and the team's contact target."""

    event_type = "ClientEnrolled"
    client_id: str
    team_id: str
    display_name: str
    phone: str | None = E164
    preferred_gender: Gender = "unspecified"
    language: str = "en"
    care_coordinator_id: str | None = None
    cultural_needs: str = Field(default="", description="cultural or religious needs, a note")
    other_phones: tuple[Phone, ...] = ()
    contact_target_days: TargetDays | None = None  # None: set later by ContactTargetSet
    referral_id: uuid.UUID | None = None


class ClientTransferRequested(EventPayload):
    """The client is to move to another team. The old team keeps contact until the new team
    has seen the client face to face (TransferCompleted)."""

    event_type = "ClientTransferRequested"
    client_id: str
    from_team_id: str
    to_team_id: str
    care_coordinator_id: str | None = None  # in the new team
    contact_target_days: TargetDays | None = None  # the new team's
    reason: str = ""


class TransferCompleted(EventPayload):
    """The new team saw the client face to face: the client is on its caseload now."""

    event_type = "TransferCompleted"
    client_id: str
    from_team_id: str
    to_team_id: str
    contact_event_id: uuid.UUID
    care_coordinator_id: str | None = None
    contact_target_days: TargetDays | None = None


class ClientDischarged(EventPayload):
    """A planned (or not) discharge from the team's caseload, and who took part in planning
    it: the client, and carers the client consents to share with."""

    event_type = "ClientDischarged"
    client_id: str
    team_id: str
    reason: str = Field(min_length=1)
    planned: bool = True
    client_involved: bool = True
    carers_involved: tuple[str, ...] = ()


class ClientReReferred(EventPayload):
    """A discharged client is back on the team's caseload in one step; their history stays."""

    event_type = "ClientReReferred"
    client_id: str
    team_id: str
    source: ReferralSource
    source_team: str | None = None
    reason: str = ""
    care_coordinator_id: str | None = None
    contact_target_days: TargetDays | None = None


class CarerRegistered(EventPayload):
    """Someone who cares for the client. What they may be told is a separate fact
    (ConsentGranted / ConsentRevoked). `client_consents_to_share` is the older, single flag:
    True on an event recorded before consent had its own events means consent to share
    everything with no review date, False none; new registrations leave it out (None)."""

    event_type = "CarerRegistered"
    client_id: str
    carer_id: str
    display_name: str
    phone: str = E164
    relationship: str
    client_consents_to_share: bool | None = None


class ContactRecorded(EventPayload):
    """A contact with the client. Several staff on one visit (the team approach) are
    `staff_id` and `other_staff_ids`; the contact counts for each of them."""

    event_type = "ContactRecorded"
    client_id: str
    staff_id: str
    kind: ContactKind
    note: str = ""
    other_staff_ids: tuple[str, ...] = ()
    where: ContactPlace | None = None
    minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    team_id: str | None = None  # the team the staff recorded it for
    carer_id: str | None = None  # a carer of the client who took part (with consent)

    @property
    def staff_ids(self) -> tuple[str, ...]:
        return (self.staff_id, *self.other_staff_ids)


class CarePlanRecorded(EventPayload):
    """The client's written care plan under the Care Programme Approach: reviewed every six
    months. The relapse-prevention plan is separate (RelapsePlanRecorded)."""

    event_type = "CarePlanRecorded"
    client_id: str
    team_id: str
    care_coordinator_id: str
    summary: str = Field(min_length=1)
    goals: tuple[str, ...] = ()
    client_involved: bool = True
    carers_involved: tuple[str, ...] = ()


class CarePlanReviewed(EventPayload):
    """The care plan was reviewed (the next review is due six months on); `goals` replace
    the plan's goals when given."""

    event_type = "CarePlanReviewed"
    client_id: str
    team_id: str
    note: str = Field(min_length=1)
    goals: tuple[str, ...] | None = None
    client_involved: bool = True
    carers_involved: tuple[str, ...] = ()


CLIENT_PAYLOADS: tuple[type[EventPayload], ...] = (
    ReferralReceived,
    ReferralAccepted,
    ReferralDeclined,
    ClientEnrolled,
    ClientTransferRequested,
    TransferCompleted,
    ClientDischarged,
    ClientReReferred,
    CarerRegistered,
    ContactRecorded,
    CarePlanRecorded,
    CarePlanReviewed,
)


# --- carers and consent (key: client id) -----------------------------------------------------
ConsentShare = Literal["crisis_status", "care_plan", "appointments"]
"""What a client may agree to share with a carer: whether they are in crisis (and the team is
on it), their care plan, their appointments."""
CONSENT_SHARES: tuple[ConsentShare, ...] = ("crisis_status", "care_plan", "appointments")


def _each_once(shares: tuple[ConsentShare, ...]) -> tuple[ConsentShare, ...]:
    if len(set(shares)) != len(shares):
        raise ValueError("name each share once")
    return tuple(sorted(shares, key=CONSENT_SHARES.index))


Shares = Annotated[tuple[ConsentShare, ...], Field(min_length=1), AfterValidator(_each_once)]
"""One or more shares, each once, in CONSENT_SHARES order."""


class ConsentGranted(EventPayload):
    """The client agrees that the team may tell this carer `shares` until the consent is
    revoked; it is to be reviewed with the client by `review_by`. A later grant replaces
    the consent in force whole (fewer shares is a narrower consent)."""

    event_type = "ConsentGranted"
    client_id: str
    carer_id: str
    shares: Shares
    review_by: date
    recorded_by: str = Field(min_length=1)
    note: str = Field(default="", max_length=500)


class ConsentRevoked(EventPayload):
    """The client withdraws consent: from this instant the carer is told nothing about them."""

    event_type = "ConsentRevoked"
    client_id: str
    carer_id: str
    recorded_by: str = Field(min_length=1)
    reason: str = Field(default="", max_length=500)


class CarerAssessmentRecorded(EventPayload):
    """A carer's own assessment and care plan (what they need, what support is offered); a
    later one is its review. The next review is due by `review_by`."""

    event_type = "CarerAssessmentRecorded"
    client_id: str
    carer_id: str
    needs: tuple[str, ...] = Field(min_length=1)
    support: tuple[str, ...] = ()
    review_by: date
    assessed_by: str = Field(min_length=1)


CARER_PAYLOADS: tuple[type[EventPayload], ...] = (
    ConsentGranted,
    ConsentRevoked,
    CarerAssessmentRecorded,
)
