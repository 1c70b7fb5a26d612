"""Pure decisions of the crisis line: given facts and the rota, which events follow.

No I/O and no clock: `now` is passed in and only stamps recorded_at. Every id is derived
from the event that caused it, so deciding twice (a redelivery) yields the same events.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from dispatch.crisis.codes import short_code
from dispatch.crisis.events import (
    CrisisCallReceived,
    CrisisTextReceived,
    DispatchAcknowledged,
    DispatchOpened,
    DispatchReason,
    DispatchResolved,
)
from dispatch.crisis.page_text import page_sms
from dispatch.events.envelope import Envelope, derived_id, new_event
from dispatch.paging.events import PageRequested
from dispatch.vocabulary import CallerKind, Channel, RiskLevel

ACTOR = "dispatch-agent"
ReplyChannel = Literal["sms", "voice", "api"]


@dataclass(frozen=True)
class Responder:
    """A staff member who can be paged: the rota's answer for one layer at one instant."""

    staff_id: str
    phone: str


@dataclass(frozen=True)
class DispatchView:
    """What the crisis line knows about an existing dispatch when a staff reply arrives."""

    dispatch_id: uuid.UUID
    short_code: str
    status: str  # open | acknowledged | resolved
    acknowledged_by: str | None
    escalation_sequence: int = 0


def risk_for_crisis_contact() -> RiskLevel:
    """A crisis call or text puts the client at crisis level until the risk agent says otherwise."""
    return "crisis"


def open_dispatch(
    contact: Envelope, *, responder: Responder | None, now: datetime, note: str | None = None
) -> list[Envelope]:
    """A crisis call/text opens one dispatch and pages the on-duty responder by SMS.

    `note` (e.g. "pref F worker unmet") is added to the page text, never to the dispatch.
    """
    payload = contact.payload
    if not isinstance(payload, CrisisCallReceived | CrisisTextReceived):
        raise TypeError(f"open_dispatch needs a crisis contact, got {contact.type}")
    dispatch_id = derived_id("dispatch", contact.event_id)
    reason: DispatchReason = (
        "crisis_call" if isinstance(payload, CrisisCallReceived) else "crisis_text"
    )
    risk = risk_for_crisis_contact()
    return open_and_page(
        dispatch_id,
        team_id=payload.team_id,
        client_id=payload.client_id,
        caller_kind=payload.caller_kind,
        reason=reason,
        risk_level=risk,
        cause=contact,
        responder=responder,
        now=now,
        actor=ACTOR,
        note=note,
    )


def open_and_page(
    dispatch_id: uuid.UUID,
    *,
    team_id: str,
    client_id: str | None,
    caller_kind: CallerKind,
    reason: DispatchReason,
    risk_level: RiskLevel,
    cause: Envelope,
    responder: Responder | None,
    now: datetime,
    actor: str,
    note: str | None = None,
    source_event_id: uuid.UUID | None = None,
) -> list[Envelope]:
    """DispatchOpened at the cause's event time, then an SMS page to the first responder
    (none when nobody could be found: escalation takes it from there)."""
    opened = new_event(
        DispatchOpened(
            dispatch_id=dispatch_id,
            short_code=short_code(dispatch_id),
            team_id=team_id,
            client_id=client_id,
            caller_kind=caller_kind,
            reason=reason,
            risk_level=risk_level,
            source_event_id=source_event_id or cause.event_id,
            assigned_staff_id=responder.staff_id if responder else None,
        ),
        key=str(dispatch_id),
        event_id=derived_id(dispatch_id, "opened"),
        occurred_at=cause.occurred_at,
        recorded_at=now,
        actor=actor,
        cause=cause,
    )
    if responder is None:
        return [opened]
    page = request_page(opened, responder=responder, step=0, attempt=0, now=now, note=note)
    return [opened, page]


def request_page(
    opened: Envelope,
    *,
    responder: Responder,
    step: int,
    attempt: int,
    now: datetime,
    note: str | None = None,
) -> Envelope:
    """One page on one channel; its notification id is the dedup key for the notifier."""
    d = opened.payload
    assert isinstance(d, DispatchOpened)
    notification_id = derived_id(d.dispatch_id, step, attempt, "sms")
    body = page_sms(
        code=d.short_code,
        risk_level=d.risk_level,
        reason=d.reason,
        caller_kind=d.caller_kind,
        note=note,
    )
    return page_requested(
        notification_id=notification_id,
        dispatch_id=d.dispatch_id,
        step=step,
        attempt=attempt,
        channel="sms",
        responder=responder,
        body=body,
        cause=opened,
        now=now,
        actor=ACTOR,
    )


def page_requested(
    *,
    notification_id: uuid.UUID,
    dispatch_id: uuid.UUID,
    step: int,
    attempt: int,
    channel: Channel,
    responder: Responder,
    body: str,
    cause: Envelope,
    now: datetime,
    actor: str,
) -> Envelope:
    """The PageRequested for one notification, keyed by its dispatch and dated by its cause;
    its event id derives from the notification id, so deciding twice yields the same event."""
    return new_event(
        PageRequested(
            notification_id=notification_id,
            dispatch_id=dispatch_id,
            step=step,
            attempt=attempt,
            channel=channel,
            staff_id=responder.staff_id,
            to_number=responder.phone,
            body=body,
        ),
        key=str(dispatch_id),
        event_id=derived_id(notification_id, "requested"),
        occurred_at=cause.occurred_at,
        recorded_at=now,
        actor=actor,
        cause=cause,
    )


class ReplyRefused(ValueError):
    """A staff reply that changes nothing; the message is what the sender is told."""


def acknowledge(
    view: DispatchView,
    *,
    staff_id: str,
    via: ReplyChannel,
    reply_id: str,
    occurred_at: datetime,
    now: datetime,
    correlation_id: str,
) -> Envelope:
    """ACK: the first responder to acknowledge takes the dispatch."""
    if view.status == "resolved":
        raise ReplyRefused(f"{view.short_code} is already closed.")
    if view.status == "acknowledged" and view.acknowledged_by != staff_id:
        raise ReplyRefused(f"{view.short_code} is already taken by a colleague.")
    return _reply_event(
        DispatchAcknowledged(dispatch_id=view.dispatch_id, staff_id=staff_id, via=via),
        view,
        reply_id=reply_id,
        occurred_at=occurred_at,
        now=now,
        actor=staff_id,
        correlation_id=correlation_id,
    )


def resolve(
    view: DispatchView,
    *,
    staff_id: str,
    via: ReplyChannel,
    outcome: str,
    reply_id: str,
    occurred_at: datetime,
    now: datetime,
    correlation_id: str,
) -> list[Envelope]:
    """DONE: closes the dispatch; an unacknowledged dispatch is acknowledged first."""
    if view.status == "resolved":
        raise ReplyRefused(f"{view.short_code} is already closed.")
    events: list[Envelope] = []
    if view.status == "open":
        events.append(
            acknowledge(
                view,
                staff_id=staff_id,
                via=via,
                reply_id=reply_id,
                occurred_at=occurred_at,
                now=now,
                correlation_id=correlation_id,
            )
        )
    events.append(
        _reply_event(
            DispatchResolved(
                dispatch_id=view.dispatch_id,
                staff_id=staff_id,
                via=via,
                outcome=outcome,
            ),
            view,
            reply_id=reply_id,
            occurred_at=occurred_at,
            now=now,
            actor=staff_id,
            correlation_id=correlation_id,
        )
    )
    return events


def _reply_event(
    payload: DispatchAcknowledged | DispatchResolved,
    view: DispatchView,
    *,
    reply_id: str,
    occurred_at: datetime,
    now: datetime,
    actor: str,
    correlation_id: str,
) -> Envelope:
    return new_event(
        payload,
        key=str(view.dispatch_id),
        event_id=derived_id(reply_id, payload.event_type),
        occurred_at=occurred_at,
        recorded_at=now,
        actor=actor,
        correlation_id=uuid.UUID(correlation_id),
    )
