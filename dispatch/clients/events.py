"""Client events (key: client id, topic act.client-events): enrolment, carers, contacts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from dispatch.events.envelope import EventPayload
from dispatch.vocabulary import E164, Gender


class ClientEnrolled(EventPayload):
    event_type = "ClientEnrolled"
    client_id: str
    team_id: str
    display_name: str
    phone: str | None = E164
    preferred_gender: Gender = "unspecified"
    language: str = "en"


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
    event_type = "ContactRecorded"
    client_id: str
    staff_id: str
    kind: Literal["face_to_face", "phone", "attempted"]
    note: str = ""


CLIENT_PAYLOADS: tuple[type[EventPayload], ...] = (
    ClientEnrolled,
    CarerRegistered,
    ContactRecorded,
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
