"""Every event type of the system, named in the past tense. Payloads hold plain values only."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, Field

from dispatch.events.envelope import EventPayload

Role = Literal[
    "psychiatrist",
    "nurse",
    "social_worker",
    "substance_use_specialist",
    "peer_support_worker",
    "occupational_therapist",
    "team_lead",
    "manager",
]
Gender = Literal["female", "male", "nonbinary", "unspecified"]
ServiceModel = Literal["ACT", "ICM"]
Layer = Literal["primary", "backup"]
Channel = Literal["sms", "voice"]
RiskLevel = Literal["stable", "elevated", "high", "crisis"]
CallerKind = Literal["client", "carer", "unknown"]
DispatchReason = Literal["crisis_call", "crisis_text", "risk_high"]
E164 = Field(pattern=r"^\+[1-9]\d{6,14}$")


# --- clients (key: client id) ------------------------------------------------------------
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


class CrisisCallReceived(EventPayload):
    """A voice call reached the crisis line; the caller was already connected (dialled)."""

    event_type = "CrisisCallReceived"
    call_sid: str
    caller_number: str
    caller_kind: CallerKind
    client_id: str | None
    team_id: str
    dialled_staff_id: str | None


class CallerMessageRecorded(EventPayload):
    """Nobody could be reached live: the caller left a voice message for the team."""

    event_type = "CallerMessageRecorded"
    call_sid: str
    caller_number: str
    client_id: str | None
    team_id: str
    recording_sid: str
    recording_url: str
    duration_s: int = Field(ge=0)


class CrisisTextReceived(EventPayload):
    event_type = "CrisisTextReceived"
    message_sid: str
    sender_number: str
    caller_kind: CallerKind
    client_id: str | None
    team_id: str
    body: str


class ContactRecorded(EventPayload):
    event_type = "ContactRecorded"
    client_id: str
    staff_id: str
    kind: Literal["face_to_face", "phone", "attempted"]
    note: str = ""


class RelapseSignalObserved(EventPayload):
    event_type = "RelapseSignalObserved"
    client_id: str
    source: Literal["staff", "carer", "system", "client"]
    sign: str
    severity: int = Field(ge=1, le=5)


# --- roster (key: team id) ---------------------------------------------------------------
class TeamFormed(EventPayload):
    event_type = "TeamFormed"
    team_id: str
    name: str
    service_model: ServiceModel
    time_zone: str
    fallback_number: str = E164
    crisis_line_number: str | None = E164


class StaffRegistered(EventPayload):
    event_type = "StaffRegistered"
    staff_id: str
    team_id: str
    display_name: str
    role: Role
    gender: Gender
    phone: str = E164
    languages: tuple[str, ...] = ("en",)


class ShiftAssigned(EventPayload):
    event_type = "ShiftAssigned"
    team_id: str
    staff_id: str
    layer: Layer
    starts_at: AwareDatetime
    ends_at: AwareDatetime


# --- dispatches (key: dispatch id) -------------------------------------------------------
class DispatchOpened(EventPayload):
    event_type = "DispatchOpened"
    dispatch_id: uuid.UUID
    short_code: str
    team_id: str
    client_id: str | None
    caller_kind: CallerKind
    reason: DispatchReason
    risk_level: RiskLevel
    source_event_id: uuid.UUID
    assigned_staff_id: str | None


class DispatchAcknowledged(EventPayload):
    event_type = "DispatchAcknowledged"
    dispatch_id: uuid.UUID
    staff_id: str
    via: Literal["sms", "voice", "api"]


class DispatchResolved(EventPayload):
    event_type = "DispatchResolved"
    dispatch_id: uuid.UUID
    staff_id: str
    via: Literal["sms", "voice", "api"]
    outcome: str = Field(min_length=1, max_length=200)


# --- pages (key: dispatch id) ------------------------------------------------------------
class PageRequested(EventPayload):
    """Ask the notifier to reach one person on one channel. notification_id is the dedup key."""

    event_type = "PageRequested"
    notification_id: uuid.UUID
    dispatch_id: uuid.UUID
    step: int = Field(ge=0)
    attempt: int = Field(ge=0)
    channel: Channel
    staff_id: str
    to_number: str = E164
    body: str = Field(max_length=160)


class PageSent(EventPayload):
    event_type = "PageSent"
    notification_id: uuid.UUID
    dispatch_id: uuid.UUID
    channel: Channel
    provider_sid: str
    provider_status: str


class PageDelivered(EventPayload):
    event_type = "PageDelivered"
    notification_id: uuid.UUID
    dispatch_id: uuid.UUID
    provider_sid: str
    provider_status: str


class PageFailed(EventPayload):
    event_type = "PageFailed"
    notification_id: uuid.UUID
    dispatch_id: uuid.UUID
    channel: Channel
    reason: str
    provider_fault: bool
    provider_sid: str | None = None


ALL_PAYLOADS: tuple[type[EventPayload], ...] = (
    ClientEnrolled,
    CarerRegistered,
    CrisisCallReceived,
    CallerMessageRecorded,
    CrisisTextReceived,
    ContactRecorded,
    RelapseSignalObserved,
    TeamFormed,
    StaffRegistered,
    ShiftAssigned,
    DispatchOpened,
    DispatchAcknowledged,
    DispatchResolved,
    PageRequested,
    PageSent,
    PageDelivered,
    PageFailed,
)
