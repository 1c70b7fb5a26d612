"""What the staff's reply channels (SMS, voice keypress, API) share: the dispatch as the pure
decisions see it, and the events a take / pass-on / close yields."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from dispatch.crisis.decide import DispatchView, ReplyChannel, acknowledge, resolve
from dispatch.escalation.decide import request_escalation
from dispatch.events import Envelope
from projections.models import Dispatch

ReplyVerb = Literal["ack", "esc", "resolve"]


def dispatch_view(row: Dispatch) -> DispatchView:
    """The read-model row as the reply decisions take it."""
    return DispatchView(
        dispatch_id=row.dispatch_id,
        short_code=row.short_code,
        status=row.status,
        acknowledged_by=row.acknowledged_by,
        escalation_sequence=row.escalation_sequence,
    )


def reply_events(
    view: DispatchView,
    verb: ReplyVerb,
    *,
    via: ReplyChannel,
    staff_id: str,
    reply_id: str,
    now: datetime,
    correlation_id: UUID,
    outcome: str = "",
) -> list[Envelope]:
    """The events a staff member's reply yields, occurring `now`; ReplyRefused when it
    changes nothing."""
    at, correlation = now, str(correlation_id)
    if verb == "ack":
        return [
            acknowledge(view, staff_id=staff_id, via=via, reply_id=reply_id, occurred_at=at,
                        now=now, correlation_id=correlation)
        ]  # fmt: skip
    if verb == "resolve":
        return resolve(view, staff_id=staff_id, via=via, outcome=outcome,
                       reply_id=reply_id, occurred_at=at, now=now,
                       correlation_id=correlation)  # fmt: skip
    return [
        request_escalation(view, staff_id=staff_id, via=via, reply_id=reply_id,
                           occurred_at=at, now=now, correlation_id=correlation_id)
    ]  # fmt: skip
