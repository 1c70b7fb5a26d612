"""Hand-made archived events for the review's unit tests: a small team, one client, and one
crisis call that escalates from the primary to the backup, who acknowledges and resolves."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from dispatch.clients.events import ClientEnrolled, ContactRecorded
from dispatch.crisis.events import (
    CrisisCallReceived,
    DispatchAcknowledged,
    DispatchOpened,
    DispatchResolved,
)
from dispatch.escalation.events import (
    DispatchEscalated,
    EscalationDeadlineReached,
    EscalationPlanFrozen,
)
from dispatch.escalation.policy import EscalationPolicy, EscalationStep
from dispatch.events import Envelope, derived_id, new_event
from dispatch.events.envelope import EventPayload
from dispatch.paging.events import PageDelivered, PageFailed, PageRequested, PageSent
from dispatch.replies.events import StaffReplyDecided, StaffReplyReceived
from dispatch.rota.events import RotationDefined, StaffRegistered, TeamFormed
from projections.models import ArchivedEvent

T0 = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # a Monday, 12:00 in London
TEAM, CLIENT, PRIMARY, BACKUP = "act-rv", "c-rv1", "s-rv-primary", "s-rv-backup"
DISPATCH = uuid.UUID("00000000-0000-0000-0000-0000000d15a1")
POLICY = EscalationPolicy(
    steps=(
        EscalationStep(targets=("primary",), ack_timeout_s=120),
        EscalationStep(targets=("backup",), ack_timeout_s=300),
    ),
    rounds=1,
)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def archived(event: Envelope, **payload_extra: Any) -> ArchivedEvent:
    """An envelope as the archive stores it (payload as JSON, extra fields allowed)."""
    return ArchivedEvent(
        event_id=event.event_id,
        type=event.type,
        schema_version=event.schema_version,
        key=event.key,
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        correlation_id=event.correlation_id,
        causation_id=event.causation_id,
        actor=event.actor,
        payload={**json.loads(event.payload.model_dump_json()), **payload_extra},
        topic=None,
        partition=None,
        offset=None,
    )


def event(
    payload: EventPayload,
    key: str,
    at: datetime,
    *,
    recorded: datetime | None = None,
    cause: Envelope | None = None,
    tag: str = "",
    correlation: uuid.UUID | None = None,
) -> Envelope:
    return new_event(
        payload,
        key=key,
        occurred_at=at,
        recorded_at=recorded or at,
        actor="test",
        cause=cause,
        event_id=derived_id("review-test", payload.event_type, tag, at.isoformat()),
        correlation_id=correlation,
    )


def raw(
    event_type: str,
    key: str,
    at: datetime,
    payload: dict[str, Any],
    recorded: datetime | None = None,
) -> ArchivedEvent:
    """An archived event of a type this code does not declare (another area's, say)."""
    eid = derived_id("review-test-raw", event_type, key, at.isoformat())
    return ArchivedEvent(
        event_id=eid,
        type=event_type,
        schema_version=1,
        key=key,
        occurred_at=at,
        recorded_at=recorded or at,
        correlation_id=eid,
        causation_id=None,
        actor="test",
        payload=payload,
        topic=None,
        partition=None,
        offset=None,
    )


def team_events(at: datetime = T0 - timedelta(days=30)) -> list[Envelope]:
    """The team (London), its two staff and a daily primary rotation of the two."""
    out = [
        event(
            TeamFormed(
                team_id=TEAM,
                name="ACT RV",
                service_model="ACT",
                time_zone="Europe/London",
                fallback_number="+15005550999",
                crisis_line_number=None,
            ),
            TEAM,
            at,
        ),
        event(
            RotationDefined(
                team_id=TEAM,
                rotation_id="rv-primary",
                layer="primary",
                period="daily",
                handoff_time=time(9, 0),
                participants=(PRIMARY, BACKUP),
                starts_at=at,
            ),
            TEAM,
            at,
        ),
    ]
    for i, staff_id in enumerate((PRIMARY, BACKUP)):
        out.append(
            event(
                StaffRegistered(
                    staff_id=staff_id,
                    team_id=TEAM,
                    display_name=staff_id,
                    role="nurse",
                    gender="female",
                    phone=f"+1555077000{i}",
                ),
                TEAM,
                at,
                tag=staff_id,
            )
        )
    out.append(
        event(
            ClientEnrolled(
                client_id=CLIENT, team_id=TEAM, display_name="RV 1", phone="+15550770099"
            ),
            CLIENT,
            at,
        )
    )
    return out


def page(cause: Envelope, staff_id: str, step: int, at: datetime, tag: str) -> Envelope:
    """A page asked for by `cause`, stamped with its cause's times (as the agents do)."""
    return event(
        PageRequested(
            notification_id=derived_id("page", tag),
            dispatch_id=DISPATCH,
            step=step,
            attempt=0,
            channel="sms",
            staff_id=staff_id,
            to_number="+15550770000",
            body="ACT CRISIS K7M2Q",
        ),
        str(DISPATCH),
        at,
        recorded=cause.recorded_at,
        cause=cause,
        tag=tag,
    )


def golden_incident() -> list[Envelope]:
    """Ring at 0 s; the primary paged (sent 1 s, delivered 2 s) does not answer; at the
    120 s deadline the backup is paged, that page is reported failed at 122 s, yet the backup
    ACKs by SMS at 150 s; DONE at 900 s; a face-to-face visit at 3600 s."""
    call = event(
        CrisisCallReceived(
            call_sid="CA1",
            caller_number="+15550770099",
            caller_kind="client",
            client_id=CLIENT,
            team_id=TEAM,
            dialled_staff_id=PRIMARY,
        ),
        CLIENT,
        s(0),
    )
    opened = event(
        DispatchOpened(
            dispatch_id=DISPATCH,
            short_code="K7M2Q",
            team_id=TEAM,
            client_id=CLIENT,
            caller_kind="client",
            reason="crisis_call",
            risk_level="crisis",
            source_event_id=call.event_id,
            assigned_staff_id=PRIMARY,
        ),
        str(DISPATCH),
        s(0),
        recorded=s(0.5),
        cause=call,
    )
    frozen = event(
        EscalationPlanFrozen(dispatch_id=DISPATCH, team_id=TEAM, policy=POLICY, started_at=s(0)),
        str(DISPATCH),
        s(0),
        recorded=s(0.5),
        cause=opened,
    )
    first = page(opened, PRIMARY, 0, s(0), "first")
    p1 = first.payload
    assert isinstance(p1, PageRequested)
    sent = event(
        PageSent(
            notification_id=p1.notification_id,
            dispatch_id=DISPATCH,
            channel="sms",
            provider_sid="SM1",
            provider_status="queued",
        ),
        str(DISPATCH),
        s(1),
        cause=first,
    )
    delivered = event(
        PageDelivered(
            notification_id=p1.notification_id,
            dispatch_id=DISPATCH,
            provider_sid="SM1",
            provider_status="delivered",
        ),
        str(DISPATCH),
        s(2),
        correlation=call.event_id,
    )
    deadline = event(
        EscalationDeadlineReached(dispatch_id=DISPATCH, sequence=0, deadline_at=s(120)),
        str(DISPATCH),
        s(120),
        correlation=call.event_id,
    )
    escalated = event(
        DispatchEscalated(
            dispatch_id=DISPATCH,
            sequence=1,
            round=0,
            step=1,
            exhausted=False,
            reason="timeout",
            staff_ids=(BACKUP,),
            deadline_at=s(420),
        ),
        str(DISPATCH),
        s(120),
        recorded=s(120.2),
        cause=deadline,
    )
    second = page(escalated, BACKUP, 1, s(120), "second")
    p2 = second.payload
    assert isinstance(p2, PageRequested)
    failed = event(
        PageFailed(
            notification_id=p2.notification_id,
            dispatch_id=DISPATCH,
            channel="sms",
            reason="carrier: unreachable",
            provider_fault=False,
        ),
        str(DISPATCH),
        s(122),  # its callback came before the dispatch was projected: its own correlation
    )
    reply = event(
        StaffReplyReceived(
            dispatch_id=DISPATCH,
            short_code="K7M2Q",
            reply_id="SM9",
            channel="sms",
            verb="ack",
            staff_id=BACKUP,
            staff_team_id=TEAM,
        ),
        str(DISPATCH),
        s(150),
        correlation=call.event_id,
    )
    decided = event(
        StaffReplyDecided(
            dispatch_id=DISPATCH,
            short_code="K7M2Q",
            reply_event_id=reply.event_id,
            channel="sms",
            verb="ack",
            staff_id=BACKUP,
            accepted=True,
            holder=BACKUP,
        ),
        str(DISPATCH),
        s(150),
        recorded=s(150.1),
        cause=reply,
    )
    acked = event(
        DispatchAcknowledged(dispatch_id=DISPATCH, staff_id=BACKUP, via="sms"),
        str(DISPATCH),
        s(150),
        recorded=s(150.1),
        cause=reply,
    )
    resolved = event(
        DispatchResolved(dispatch_id=DISPATCH, staff_id=BACKUP, via="sms", outcome="visited, safe"),
        str(DISPATCH),
        s(900),
        cause=acked,
    )
    visit = event(
        ContactRecorded(client_id=CLIENT, staff_id=BACKUP, kind="face_to_face"), CLIENT, s(3600)
    )
    return [
        call,
        opened,
        frozen,
        first,
        sent,
        delivered,
        deadline,
        escalated,
        second,
        failed,
        reply,
        decided,
        acked,
        resolved,
        visit,
    ]
