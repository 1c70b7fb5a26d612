"""A team for the fault tests: its own crisis line, staff phones and escalation timeouts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dispatch.escalation.events import EscalationPolicySet
from dispatch.escalation.policy import EscalationPolicy, EscalationStep
from dispatch.events import Envelope
from dispatch.rota.events import Role
from tests.e2e.team_seed import TeamSeed

TEAM = "act-fault"
LINE = "+15005550003"
PRIMARY, BACKUP, LEAD, MANAGER = "f-primary", "f-backup", "f-lead", "f-mgr"
PHONES = {
    PRIMARY: "+15550700001",
    BACKUP: "+15550700002",
    LEAD: "+15550700003",
    MANAGER: "+15550700004",
}
ROLES: dict[str, Role] = {
    PRIMARY: "nurse",
    BACKUP: "social_worker",
    LEAD: "team_lead",
    MANAGER: "manager",
}
CLIENTS = {f"c-f{i}": f"+1555080000{i}" for i in range(1, 7)}


def fault_team_events(now: datetime, step_timeouts_s: Sequence[int]) -> list[Envelope]:
    """The team, on duty around `now`, paging primary, backup, team lead in turn, each step
    waiting its timeout for an ACK."""
    seed = TeamSeed(now, TEAM)
    seed.team(name="ACT Fault", fallback_number="+15005550198", crisis_line_number=LINE)
    for staff_id, role in ROLES.items():
        seed.staff(
            staff_id, phone=PHONES[staff_id], role=role, gender="male", display_name=staff_id
        )
    seed.shift(PRIMARY, "primary")
    seed.shift(BACKUP, "backup")
    targets = ("primary", "backup", "team_lead")
    policy = EscalationPolicy(
        steps=tuple(
            EscalationStep(targets=(target,), ack_timeout_s=timeout)
            for target, timeout in zip(targets, step_timeouts_s, strict=True)
        ),
        rounds=1,
        exhausted_repeat_s=600,
    )
    seed.emit(EscalationPolicySet(team_id=TEAM, policy=policy), TEAM)
    for client_id, phone in CLIENTS.items():
        seed.client(client_id, phone=phone)
    return seed.events


def code_in(body: str) -> str | None:
    """The dispatch code of a page ('ACT CRISIS K7M2Q: ...'), None for other texts."""
    return body.split()[2].rstrip(":") if body.startswith("ACT ") else None
