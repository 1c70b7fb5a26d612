"""A team of its own for the client page and incident review browser tests: a crisis line,
three staff and a manager, one client with a relapse-prevention plan, a care plan, contacts
over the last days and two carers (one with consent in force, one without), and a console
account for each person (the manager's with the role manager)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dispatch.clients.events import (
    CarePlanRecorded,
    CarerRegistered,
    ClientEnrolled,
    ConsentGranted,
    ContactRecorded,
)
from dispatch.escalation.events import EscalationPolicySet
from dispatch.escalation.policy import EscalationPolicy, EscalationStep
from dispatch.events import Envelope, EventPayload, new_event
from dispatch.risk.events import PlanAction, RelapsePlanRecorded, WarningSign
from dispatch.web.console.passwords import hash_password
from projections.console_accounts import ConsoleAccounts, NewAccount
from tests.e2e.team_seed import TeamSeed

TEAM = "act-records"
LINE = "+15005550071"
PRIMARY, BACKUP, LEAD, MANAGER = "rec-primary", "rec-backup", "rec-lead", "rec-manager"
STAFF = {
    PRIMARY: ("+15550113001", "nurse", "Harbour nurse"),
    BACKUP: ("+15550113002", "social_worker", "Harbour social worker"),
    LEAD: ("+15550113003", "team_lead", "Harbour lead"),
    MANAGER: ("+15550113004", "manager", "Harbour manager"),
}
ROLES = {LEAD: "team_lead", MANAGER: "manager"}  # console roles; everyone else staff
CLIENT, CLIENT_PHONE, CLIENT_NAME = "rec-c1", "+15550114001", "Robin Marsh"
CARERS = {"rec-carer-1": ("Alex Marsh", "+15550114101", "brother"),
          "rec-carer-2": ("Pat Doyle", "+15550114102", "neighbour")}  # fmt: skip
CARE_PLAN = "Weekly visits at home; support with tenancy and with medication."
GOALS = ("Keep the flat", "Back to the allotment twice a week")
CONTACT_NOTE = "Visited at home with the social worker; kitchen tidy, eating"
POLICY = EscalationPolicy(
    steps=(
        EscalationStep(targets=("primary",), ack_timeout_s=900),
        EscalationStep(targets=("backup",), ack_timeout_s=900),
        EscalationStep(targets=("team_lead",), ack_timeout_s=900),
    ),
    rounds=2,
)


def records_team_events(now: datetime) -> list[Envelope]:
    seed = TeamSeed(now, TEAM)
    seed.team(name="ACT Harbour", fallback_number="+15005550199", crisis_line_number=LINE)
    for staff_id, (phone, role, name) in STAFF.items():
        seed.staff(staff_id, phone=phone, role=role, gender="unspecified", display_name=name)  # type: ignore[arg-type]
    seed.shift(PRIMARY, "primary")
    seed.shift(BACKUP, "backup")
    seed.emit(EscalationPolicySet(team_id=TEAM, policy=POLICY), TEAM)
    events = seed.events

    def about(payload: EventPayload, days_ago: float) -> None:
        at = now - timedelta(days=days_ago)
        events.append(new_event(payload, key=CLIENT, occurred_at=at, recorded_at=at,
                                actor=PRIMARY))  # fmt: skip

    about(ClientEnrolled(client_id=CLIENT, team_id=TEAM, display_name=CLIENT_NAME,
                         phone=CLIENT_PHONE), 30)  # fmt: skip
    about(RelapsePlanRecorded(
        client_id=CLIENT,
        warning_signs=(WarningSign(sign="pacing", weight=2, description="Pacing at night"),),
        triggers=("Letters from the housing office",),
        actions=(PlanAction(contact="Brother (carer)", offer="Sit with him; call the team"),),
        agreed_by=LEAD,
    ), 29)  # fmt: skip
    about(CarePlanRecorded(client_id=CLIENT, team_id=TEAM, care_coordinator_id=PRIMARY,
                           summary=CARE_PLAN, goals=GOALS), 28)  # fmt: skip
    for carer_id, (name, phone, relationship) in CARERS.items():
        about(CarerRegistered(client_id=CLIENT, carer_id=carer_id, display_name=name,
                              phone=phone, relationship=relationship), 27)  # fmt: skip
    about(ConsentGranted(client_id=CLIENT, carer_id="rec-carer-1",
                         shares=("crisis_status", "care_plan"),
                         review_by=date.fromordinal(now.toordinal() + 90),
                         recorded_by=PRIMARY), 27)  # fmt: skip
    about(ContactRecorded(client_id=CLIENT, staff_id=PRIMARY, kind="phone", note="Called",
                          team_id=TEAM), 5)  # fmt: skip
    about(ContactRecorded(client_id=CLIENT, staff_id=PRIMARY, other_staff_ids=(BACKUP,),
                          kind="face_to_face", where="home", minutes=45, note=CONTACT_NOTE,
                          team_id=TEAM), 2)  # fmt: skip
    return events


async def add_records_accounts(accounts: ConsoleAccounts, now: datetime, password: str) -> None:
    stored = hash_password(password)
    for staff_id in STAFF:
        await accounts.create(NewAccount(account_id=staff_id, staff_id=staff_id, team_id=None,
                                         role=ROLES.get(staff_id, "staff"), created_at=now,
                                         created_by="test", password_hash=stored))  # fmt: skip
