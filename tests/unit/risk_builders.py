"""Event builders the risk unit tests share (one client, event times given explicitly)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.clients.events import ClientEnrolled, ContactRecorded
from dispatch.crisis.events import CrisisCallReceived
from dispatch.events import Envelope, derived_id, new_event
from dispatch.events.envelope import EventPayload
from dispatch.risk.events import (
    ContactTargetSet,
    RelapsePlanRecorded,
    RelapseSignalObserved,
    WarningSign,
)
from dispatch.vocabulary import ServiceModel

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CLIENT = "c-77"
TEAM = "act-test"


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def ev(payload: EventPayload, hours: float, tag: str) -> Envelope:
    when = at(hours)
    return new_event(
        payload,
        key=CLIENT,
        event_id=derived_id("risk-test", tag, hours),
        occurred_at=when,
        recorded_at=when,
        actor="test",
    )


def enrolled(hours: float = 0) -> Envelope:
    return ev(
        ClientEnrolled(client_id=CLIENT, team_id=TEAM, display_name="C 77", phone=None),
        hours,
        "enrol",
    )


def plan(hours: float = 0, **weights: float) -> Envelope:
    signs = tuple(WarningSign(sign=s, weight=w) for s, w in weights.items())
    return ev(
        RelapsePlanRecorded(client_id=CLIENT, warning_signs=signs, agreed_by="s-nurse"),
        hours,
        "plan",
    )


def sign(hours: float, name: str = "sleep_loss", severity: int = 2, tag: str = "") -> Envelope:
    return ev(
        RelapseSignalObserved(client_id=CLIENT, source="staff", sign=name, severity=severity),
        hours,
        f"sign-{name}-{tag}",
    )


def contact(hours: float, kind: str = "face_to_face") -> Envelope:
    return ev(
        ContactRecorded(client_id=CLIENT, staff_id="s-nurse", kind=kind),
        hours,
        f"contact-{kind}",
    )


def crisis_call(hours: float) -> Envelope:
    return ev(
        CrisisCallReceived(
            call_sid=f"CA{hours}",
            caller_number="+15550209999",
            caller_kind="client",
            client_id=CLIENT,
            team_id=TEAM,
            dialled_staff_id="s-nurse",
        ),
        hours,
        "call",
    )


def target(hours: float, service_model: ServiceModel, days: float, team: str = TEAM) -> Envelope:
    return ev(
        ContactTargetSet(
            client_id=CLIENT, team_id=team, service_model=service_model, target_days=days
        ),
        hours,
        f"target-{team}",
    )
