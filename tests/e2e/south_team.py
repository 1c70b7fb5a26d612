"""A second team for escalation tests: short acknowledgement timeouts, its own crisis line."""

from __future__ import annotations

from datetime import datetime

from dispatch.escalation.events import EscalationPolicySet
from dispatch.escalation.policy import EscalationPolicy, EscalationStep
from dispatch.events import Envelope
from tests.e2e.team_seed import TeamSeed

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
CLIENTS = {f"c-s{i}": f"+1555060000{i}" for i in range(1, 7)}
POLICY = EscalationPolicy(
    steps=(
        EscalationStep(targets=("primary",), ack_timeout_s=2),
        EscalationStep(targets=("backup",), ack_timeout_s=2),
    ),
    rounds=1,
    exhausted_repeat_s=2,
)


def south_team_events(now: datetime) -> list[Envelope]:
    seed = TeamSeed(now, TEAM)
    seed.team(name="ACT South", fallback_number="+15005550199", crisis_line_number=LINE)
    roles = {
        PRIMARY: "nurse",
        BACKUP: "social_worker",
        LEAD: "team_lead",
        NURSE: "nurse",
        MANAGER: "manager",
    }
    for staff_id, role in roles.items():
        seed.staff(
            staff_id,
            phone=PHONES[staff_id],
            role=role,  # type: ignore[arg-type]
            gender="unspecified",
            display_name=role,
        )
    for staff_id, layer in ((PRIMARY, "primary"), (BACKUP, "backup")):
        seed.shift(staff_id, layer)  # type: ignore[arg-type]
    seed.emit(EscalationPolicySet(team_id=TEAM, policy=POLICY), TEAM)
    for client_id, phone in CLIENTS.items():
        seed.client(client_id, phone=phone)
    return seed.events
