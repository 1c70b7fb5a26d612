"""A second team for escalation tests: short acknowledgement timeouts, its own crisis line."""

from __future__ import annotations

from datetime import datetime, timedelta

from dispatch.escalation.events import EscalationPolicySet
from dispatch.escalation.policy import EscalationPolicy, EscalationStep
from dispatch.events import Envelope, EventPayload, new_event
from dispatch.events.catalogue import ClientEnrolled, ShiftAssigned, StaffRegistered, TeamFormed

TEAM = "act-south"
LINE = "+15005550002"
PRIMARY, BACKUP, LEAD, NURSE, MANAGER = (
    "s-s-primary",
    "s-s-backup",
    "s-s-lead",
    "s-s-nurse",
    "s-s-mgr",
)
PHONES = {
    PRIMARY: "+15550500001",
    BACKUP: "+15550500002",
    LEAD: "+15550500003",
    NURSE: "+15550500004",
    MANAGER: "+15550500005",
}
CLIENTS = {f"c-s{i}": f"+1555060000{i}" for i in range(1, 6)}
POLICY = EscalationPolicy(
    steps=(
        EscalationStep(targets=("primary",), ack_timeout_s=2),
        EscalationStep(targets=("backup",), ack_timeout_s=2),
    ),
    rounds=1,
    exhausted_repeat_s=2,
)


def south_team_events(now: datetime) -> list[Envelope]:
    out: list[Envelope] = []

    def emit(payload: EventPayload, key: str) -> None:
        out.append(new_event(payload, key=key, occurred_at=now, recorded_at=now, actor="test"))

    emit(
        TeamFormed(
            team_id=TEAM,
            name="ACT South",
            service_model="ACT",
            time_zone="Europe/London",
            fallback_number="+15005550199",
            crisis_line_number=LINE,
        ),
        TEAM,
    )
    roles = {
        PRIMARY: "nurse",
        BACKUP: "social_worker",
        LEAD: "team_lead",
        NURSE: "nurse",
        MANAGER: "manager",
    }
    for staff_id, role in roles.items():
        emit(
            StaffRegistered(
                staff_id=staff_id,
                team_id=TEAM,
                display_name=role,
                role=role,
                gender="unspecified",
                phone=PHONES[staff_id],
            ),
            TEAM,
        )  # type: ignore[arg-type]
    for staff_id, layer in ((PRIMARY, "primary"), (BACKUP, "backup")):
        emit(
            ShiftAssigned(
                team_id=TEAM,
                staff_id=staff_id,
                layer=layer,  # type: ignore[arg-type]
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=2),
            ),
            TEAM,
        )
    emit(EscalationPolicySet(team_id=TEAM, policy=POLICY), TEAM)
    for client_id, phone in CLIENTS.items():
        emit(
            ClientEnrolled(client_id=client_id, team_id=TEAM, display_name=client_id, phone=phone),
            client_id,
        )
    return out
