"""Staff reply events, keyed by dispatch id (act.dispatch-events), so a reply is decided in
order with the dispatch's opening, escalations and every other reply."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from dispatch.events.envelope import EventPayload

ReplyChannel = Literal["sms", "voice", "api"]
ReplyVerb = Literal["ack", "esc", "resolve"]
DispatchStatus = Literal["open", "acknowledged", "resolved", "unknown"]


class StaffReplyReceived(EventPayload):
    """A staff member answered a dispatch: ACK/ESC/DONE by SMS, 1/2 on a voice page, or the
    API. Nothing is decided at the edge: the dispatch's agent decides."""

    event_type = "StaffReplyReceived"
    dispatch_id: uuid.UUID
    short_code: str
    reply_id: str = Field(min_length=1, max_length=200)  # MessageSid, CallSid or API request id
    channel: ReplyChannel
    verb: ReplyVerb
    staff_id: str
    staff_team_id: str
    outcome: str = Field(default="", max_length=200)
    reply_to: str | None = None  # the phone a confirmation SMS goes to (SMS replies)


class StaffReplyDecided(EventPayload):
    """What a reply did: accepted (the dispatch changed, or already was as asked) or refused
    with the reason the replier is told. `holder` is who has the dispatch now."""

    event_type = "StaffReplyDecided"
    dispatch_id: uuid.UUID
    short_code: str
    reply_event_id: uuid.UUID
    channel: ReplyChannel
    verb: ReplyVerb
    staff_id: str
    accepted: bool
    reason: str = ""
    outcome: str = ""
    holder: str | None = None
    dispatch_status: DispatchStatus = "unknown"
    reply_to: str | None = None


REPLY_PAYLOADS: tuple[type[EventPayload], ...] = (StaffReplyReceived, StaffReplyDecided)
