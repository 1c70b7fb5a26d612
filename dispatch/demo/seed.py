"""Demo data: one ACT team (24/7), five staff, a daily primary/backup rota, ten clients,
three carers (two with the client's consent to share).

Display names are role labels, not people. Every fact is an event on Kafka, recorded through
the same paths a real team's are (so it is checked the same way): the team, its staff and
its rota are a rota file loaded as `dispatch rota load` loads one; the clients are enrolled
through the journey service (`dispatch client enrol`), their carers registered and consent
granted through the carers' intake (`dispatch carer add`, `dispatch consent grant`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from dispatch.clients.events import CONSENT_SHARES
from dispatch.clients.inputs import EnrolInput
from dispatch.clients.intake import (
    CarerInput,
    CarerLookup,
    ConsentInput,
    add_carer,
    grant_consent,
)
from dispatch.clients.ports import JourneyRefused
from dispatch.clients.service import JourneyService
from dispatch.escalation.policy import EscalationPolicy
from dispatch.events import Envelope
from dispatch.rota.events import Role
from dispatch.rota.loading import load_changes
from dispatch.rota.rotafile import dump, parse, to_events
from dispatch.rota.staff_intake import RosterLookup
from dispatch.vocabulary import Gender

log = structlog.get_logger(__name__)
TEAM_ID = "act-north"
ENROLLED_BY = "s-lead"  # the team lead enrols the demo's clients
TIME_ZONE = "America/New_York"
FALLBACK_NUMBER = "+15005550100"


@dataclass(frozen=True)
class DemoStaff:
    staff_id: str
    label: str
    role: Role
    gender: Gender
    phone: str


STAFF = (
    DemoStaff("s-nurse", "Community nurse", "nurse", "female", "+15550100001"),
    DemoStaff("s-social", "Social worker", "social_worker", "male", "+15550100002"),
    DemoStaff("s-psych", "Psychiatrist", "psychiatrist", "female", "+15550100003"),
    DemoStaff("s-peer", "Peer support worker", "peer_support_worker", "male", "+15550100004"),
    DemoStaff("s-lead", "Team lead", "team_lead", "female", "+15550100005"),
)
ROTATION = STAFF[:4]  # the team lead is not on the daily rota
CLIENT_PHONES = {f"c-{i:02d}": f"+1555020{i:04d}" for i in range(1, 11)}
CARERS = {  # client -> (the carer's phone, whether the client consents to share)
    "c-03": ("+15550300003", True),
    "c-06": ("+15550300006", True),
    "c-09": ("+15550300009", False),
}
CONSENT_REVIEW = timedelta(days=180)  # the demo's consents are reviewed in six months


def rota_day_start(at: datetime) -> datetime:
    local = at.astimezone(ZoneInfo(TIME_ZONE))
    return datetime.combine(local.date(), time(0), tzinfo=ZoneInfo(TIME_ZONE))


def on_call_for_day(day_index: int) -> tuple[DemoStaff, DemoStaff]:
    """(primary, backup) for a day of the rotation."""
    return ROTATION[day_index % len(ROTATION)], ROTATION[(day_index + 1) % len(ROTATION)]


def rota_document(
    now: datetime, crisis_line: str, policy: EscalationPolicy | None = None
) -> dict[str, Any]:
    """The demo team as the rota file a real team writes for `dispatch rota load`: the
    team, its staff, 24/7 cover and daily primary/backup rotations whose hand-off is local
    midnight in the team's zone (a DST day is one shift of 23 or 25 hours), starting
    yesterday; the backup is the next person in the primary's order; and, when given, the
    team's own escalation policy."""
    first_day = rota_day_start(now) - timedelta(days=1)
    order = [s.staff_id for s in ROTATION]
    layers = (("primary", order), ("backup", order[1:] + order[:1]))
    document: dict[str, Any] = {
        "team": {"id": TEAM_ID, "name": "ACT North", "service_model": "ACT",
                 "time_zone": TIME_ZONE, "fallback_number": FALLBACK_NUMBER,
                 "crisis_line_number": crisis_line},
        "coverage": {"hours": "24/7", "fallback_number": FALLBACK_NUMBER},
        "staff": [{"id": s.staff_id, "name": s.label, "role": s.role, "gender": s.gender,
                   "phone": s.phone} for s in STAFF],
        "rotations": [{"id": f"daily-{layer}", "layer": layer, "period": "daily",
                       "handoff": "00:00", "participants": who,
                       "starts": first_day.isoformat()} for layer, who in layers],
    }  # fmt: skip
    if policy is not None:
        document["escalation_policy"] = policy.model_dump(mode="json")
    return document


def rota_file(now: datetime, crisis_line: str, policy: EscalationPolicy | None = None) -> str:
    """The demo team's rota file (YAML), as `dispatch rota export` would write it back."""
    return dump(rota_document(now, crisis_line, policy))


def seed_events(now: datetime, crisis_line: str) -> list[Envelope]:
    """The demo team's rota file read and turned into events at `now` as `dispatch rota load`
    does (parse, then to_events), without the checks against what is recorded: for tests
    that project the demo team on their own."""
    return to_events(parse(rota_file(now, crisis_line)), now=now, actor=ENROLLED_BY)


async def load_team(
    roster: RosterLookup, now: datetime, crisis_line: str, policy: EscalationPolicy | None = None
) -> list[Envelope]:
    """The demo team's rota file loaded through `dispatch rota load`'s own path (parse, the
    checks against the recorded roster, to_events); the caller spools the events."""
    spec = parse(rota_file(now, crisis_line, policy))
    return await load_changes(roster, spec, now=now, actor=ENROLLED_BY)


async def enrol_clients(journey: JourneyService) -> None:
    """Each demo client joins the team's caseload through the enrolment service (after the
    roster is projected: the service checks the team and who enrols them). A client already
    on it (a stack started again on its own database) is left as they are."""
    for client_id, phone in CLIENT_PHONES.items():
        enrolment = EnrolInput(
            display_name=f"Client {client_id[2:]}",
            phones=(phone,),
            preferred_gender="female" if client_id in {"c-02", "c-05"} else "unspecified",
        )
        try:
            await journey.enrol(client_id, TEAM_ID, enrolment, actor=ENROLLED_BY)
        except JourneyRefused as refused:
            if refused.field != "client_id":  # only "already on the caseload" is expected
                raise
            log.info("demo_client_already_enrolled", client_id=client_id)


def carer_id_of(client_id: str) -> str:
    return f"carer-{client_id}"


async def carer_changes(lookup: CarerLookup, now: datetime) -> list[Envelope]:
    """The carers of three clients, registered through the carers' intake (after the
    enrolments are projected: it checks the client's team)."""
    return [
        await add_carer(
            lookup,
            client_id,
            CarerInput(carer_id=carer_id_of(client_id), phone=phone, relationship="parent",
                       display_name=f"Carer of client {client_id[2:]}"),
            team_id=TEAM_ID, now=now, actor=ENROLLED_BY,
        )
        for client_id, (phone, _) in CARERS.items()
    ]  # fmt: skip


async def consent_changes(lookup: CarerLookup, now: datetime) -> list[Envelope]:
    """The consent of the two clients who agree to share everything with their carer (after
    the carers are projected: the intake checks the carer is the client's)."""
    review_by: date = (now + CONSENT_REVIEW).date()
    consent = ConsentInput(shares=CONSENT_SHARES, review_by=review_by,
                           note="agreed with the client at enrolment")  # fmt: skip
    return [
        await grant_consent(
            lookup,
            client_id,
            carer_id_of(client_id),
            consent,
            team_id=TEAM_ID,
            now=now,
            actor=ENROLLED_BY,
        )
        for client_id, (_, consents) in CARERS.items()
        if consents
    ]
