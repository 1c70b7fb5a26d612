"""Crisis line events: calls, messages and texts in (key: client id, or caller:<sid> for an
unknown caller; topic act.client-events) and the life of a dispatch (key: dispatch id;
topic act.dispatch-events)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from dispatch.clients.events import ConsentShare
from dispatch.events.envelope import EventPayload
from dispatch.vocabulary import CallerKind, ReplyChannel, RiskLevel

DispatchReason = Literal["crisis_call", "crisis_text", "risk_high"]


class CrisisCallReceived(EventPayload):
    """A voice call reached the crisis line; the caller was already connected (dialled)."""

    event_type = "CrisisCallReceived"
    call_sid: str
    caller_number: str
    caller_kind: CallerKind
    client_id: str | None
    team_id: str
    dialled_staff_id: str | None
    # A carer's call: who called, and what the consent in force let them be told (empty: none).
    carer_id: str | None = None
    carer_consent: tuple[ConsentShare, ...] | None = None


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
    via: ReplyChannel


class DispatchResolved(EventPayload):
    event_type = "DispatchResolved"
    dispatch_id: uuid.UUID
    staff_id: str
    via: ReplyChannel
    outcome: str = Field(min_length=1, max_length=200)


CRISIS_PAYLOADS: tuple[type[EventPayload], ...] = (
    CrisisCallReceived,
    CallerMessageRecorded,
    CrisisTextReceived,
    DispatchOpened,
    DispatchAcknowledged,
    DispatchResolved,
)
