"""Demo data: one ACT team (24/7), five staff, a daily primary/backup rota, ten clients,
three carers (two with the client's consent to share).

Display names are role labels, not people. Every fact is an event on Kafka: the roster is
published as events; the clients are enrolled through the journey service, their carers
registered and consent granted through the carers' intake, the same services the commands
and the API use (so they are checked the same way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
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
from dispatch.events import Envelope, new_event
from dispatch.events.envelope import EventPayload
from dispatch.rota.events import CoverageSet, Role, RotationDefined, StaffRegistered, TeamFormed
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


def _emitter(out: list[Envelope], now: datetime) -> Callable[[EventPayload, str], None]:
    def emit(payload: EventPayload, key: str) -> None:
        out.append(new_event(payload, key=key, occurred_at=now, recorded_at=now, actor="seed"))

    return emit


def seed_events(now: datetime, crisis_line: str) -> list[Envelope]:
    """The team, its staff and its rota, as events stamped at `now`."""
    out: list[Envelope] = []
    emit = _emitter(out, now)
    emit(
        TeamFormed(
            team_id=TEAM_ID,
            name="ACT North",
            service_model="ACT",
            time_zone=TIME_ZONE,
            fallback_number=FALLBACK_NUMBER,
            crisis_line_number=crisis_line,
        ),
        TEAM_ID,
    )
    for s in STAFF:
        emit(
            StaffRegistered(
                staff_id=s.staff_id,
                team_id=TEAM_ID,
                display_name=s.label,
                role=s.role,
                gender=s.gender,
                phone=s.phone,
            ),
            TEAM_ID,
        )
    # 24/7 cover; daily hand-offs at local midnight in the team's zone (a DST day is one
    # shift of 23 or 25 hours); the backup is the next person in the primary's order.
    emit(CoverageSet(team_id=TEAM_ID, all_day=True, fallback_number=FALLBACK_NUMBER), TEAM_ID)
    first_day = rota_day_start(now) - timedelta(days=1)
    order = tuple(s.staff_id for s in ROTATION)
    for layer, participants in (("primary", order), ("backup", order[1:] + order[:1])):
        emit(
            RotationDefined(
                team_id=TEAM_ID,
                rotation_id=f"daily-{layer}",
                layer=layer,
                period="daily",
                handoff_time=time(0),
                participants=participants,
                starts_at=first_day,
            ),
            TEAM_ID,
        )
    return out


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
