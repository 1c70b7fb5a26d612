"""Client events (key: client id, topic act.client-events): enrolment, carers, contacts."""

from __future__ import annotations

from typing import Literal

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
    event_type = "CarerRegistered"
    client_id: str
    carer_id: str
    display_name: str
    phone: str = E164
    relationship: str
    client_consents_to_share: bool


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
