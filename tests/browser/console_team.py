"""A team of its own for the console's browser tests: a crisis line, four staff (one to
leave), two clients (one with a relapse-prevention plan), slow escalation steps so the
board shows a countdown, and a console account for each person."""

from __future__ import annotations

from datetime import datetime

from dispatch.clients.events import ClientEnrolled
from dispatch.escalation.events import EscalationPolicySet
from dispatch.escalation.policy import EscalationPolicy, EscalationStep
from dispatch.events import Envelope
from dispatch.risk.events import PlanAction, RelapsePlanRecorded, WarningSign
from dispatch.web.console.passwords import hash_password
from projections.console_accounts import ConsoleAccounts, NewAccount
from tests.e2e.team_seed import TeamSeed

TEAM = "act-console"
LINE = "+15005550061"
PRIMARY, BACKUP, LEAD, LEAVER = "con-primary", "con-backup", "con-lead", "con-leaver"
STAFF = {
    PRIMARY: ("+15550111001", "nurse", "Community nurse"),
    BACKUP: ("+15550111002", "social_worker", "Social worker"),
    LEAD: ("+15550111003", "team_lead", "Team lead"),
    LEAVER: ("+15550111004", "peer_support_worker", "Peer support worker"),
}
CLIENTS = {"con-c1": ("+15550112001", "Jordan Avery"), "con-c2": ("+15550112002", "Sam Okafor")}
PASSWORD = "harbour lantern violet 42"
POLICY = EscalationPolicy(
    steps=(
        EscalationStep(targets=("primary",), ack_timeout_s=900),
        EscalationStep(targets=("backup",), ack_timeout_s=900),
        EscalationStep(targets=("team_lead",), ack_timeout_s=900),
    ),
    rounds=2,
)


def console_team_events(now: datetime) -> list[Envelope]:
    seed = TeamSeed(now, TEAM)
    seed.team(name="ACT Riverside", fallback_number="+15005550199", crisis_line_number=LINE)
    for staff_id, (phone, role, name) in STAFF.items():
        seed.staff(staff_id, phone=phone, role=role, gender="unspecified", display_name=name)  # type: ignore[arg-type]
    seed.shift(PRIMARY, "primary")
    seed.shift(BACKUP, "backup")
    seed.emit(EscalationPolicySet(team_id=TEAM, policy=POLICY), TEAM)
    for client_id, (phone, name) in CLIENTS.items():
        enrolled = ClientEnrolled(client_id=client_id, team_id=TEAM, display_name=name, phone=phone)
        seed.emit(enrolled, client_id)
    plan = RelapsePlanRecorded(
        client_id="con-c1",
        warning_signs=(
            WarningSign(sign="sleep_loss", weight=2, description="Sleeping under four hours"),
            WarningSign(sign="withdrawal", description="Stops answering the door"),
        ),
        triggers=("Anniversary of a bereavement in March",),
        actions=(PlanAction(contact="Sister (carer)", offer="Visit together; she has a key"),),
        agreed_by=LEAD,
    )
    seed.emit(plan, "con-c1")
    return seed.events


async def add_accounts(accounts: ConsoleAccounts, now: datetime, *others: str) -> None:
    """One account per staff member (the lead as team lead) and per staff id of another
    team in `others`, all with PASSWORD."""
    stored = hash_password(PASSWORD)
    for staff_id in (*STAFF, *others):
        role = "team_lead" if staff_id == LEAD else "staff"
        await accounts.create(NewAccount(account_id=staff_id, staff_id=staff_id, team_id=None,
                                         role=role, created_at=now, created_by="test",
                                         password_hash=stored))  # fmt: skip
