"""The client journey on real PostgreSQL: the service decides on the client's own events
(archived, or just spooled), and the read models and the huddle board follow the journey."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from dispatch.bus import EventPublisher
from dispatch.clients.events import CarePlanRecorded, ClientEnrolled
from dispatch.clients.inputs import (
    CarePlanInput,
    ContactInput,
    DischargeInput,
    EnrolInput,
    JourneyInput,
    ReferralInput,
    ReReferralInput,
    TransferInput,
)
from dispatch.clients.service import JourneyService
from dispatch.events import Envelope, EventPayload, derived_id, new_event
from dispatch.events.codec import decode
from dispatch.ingress.spool import IngressSpool
from dispatch.risk.events import FollowUpClosed, FollowUpOpened, RelapseSignalObserved
from dispatch.risk.fold import initial
from dispatch.risk.ports import HuddleRow
from dispatch.risk.service import RiskEngine
from dispatch.rota.events import StaffRegistered, TeamFormed
from projections.journey_queries import JourneyQueries
from projections.queries import ReadModels
from projections.risk_queries import RiskQueries
from tests.fixtures.postgres import project_all

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at


def _ev(payload: EventPayload, key: str, at: datetime) -> Envelope:
    return new_event(payload, key=key, occurred_at=at, recorded_at=at, actor="test")


def roster() -> list[Envelope]:
    out = []
    for team, model in (("aot-east", "AOT"), ("icm-west", "ICM")):
        out.append(_ev(TeamFormed(team_id=team, name=team, service_model=model,  # type: ignore[arg-type]
                                  time_zone="UTC", fallback_number="+15550880000",
                                  crisis_line_number=None),
                       team, T0 - timedelta(days=30)))  # fmt: skip
    for n, (staff_id, team) in enumerate((("s-ann", "aot-east"), ("s-bo", "aot-east"),
                                          ("s-cy", "icm-west"))):  # fmt: skip
        out.append(_ev(StaffRegistered(staff_id=staff_id, team_id=team, display_name=staff_id,
                                       role="nurse", gender="female", phone=f"+1555088100{n}"),
                       team, T0 - timedelta(days=30)))  # fmt: skip
    return out


async def project_spool(pool: asyncpg.Pool) -> None:
    """What the relay and the projector do: every spooled event into the read models."""
    rows = await pool.fetch("SELECT value FROM ingress_spool ORDER BY seq")
    await project_all(pool, [decode(bytes(r["value"])) for r in rows])


async def board(pool: asyncpg.Pool, team: str, at: datetime) -> dict[str, HuddleRow]:
    return {r.client_id: r for r in await RiskQueries(pool).huddle(team, at)}


async def test_an_outreach_clients_journey_through_the_service_and_the_read_models(
    pg_pool: asyncpg.Pool,
) -> None:
    """Referral to re-referral: each step decided on the steps before it (read back from the
    spool before any projector ran), the caseload, transfer and contacts in the read models."""
    await project_all(pg_pool, roster())
    clock = Clock()
    spool = IngressSpool(pg_pool, EventPublisher("127.0.0.1:9"), clock)
    journey = JourneyService(JourneyQueries(pg_pool, RiskQueries(pg_pool)), spool, clock)

    async def step(hours: float, change: object) -> None:
        clock.at = T0 + timedelta(hours=hours)
        await change  # type: ignore[misc]

    referral = ReferralInput(display_name="Client A", source="cmht", source_team="CMHT North",
                             criteria_met=("severe_mental_illness",))  # fmt: skip
    await step(0, journey.receive_referral("c-1", "aot-east", referral, actor="s-ann"))
    await step(1, journey.accept_referral("c-1", JourneyInput(), actor="s-bo"))
    phones = ("+15550881101", "+15550881102")
    enrolment = EnrolInput(care_coordinator_id="s-ann", phones=phones)
    await step(2, journey.enrol("c-1", "aot-east", enrolment, actor="s-ann"))
    both = ContactInput(kind="face_to_face", staff_ids=("s-ann", "s-bo"), where="home", minutes=50)
    await step(3, journey.contact("c-1", both, actor="s-ann"))
    await step(4, journey.care_plan("c-1", CarePlanInput(summary="daily living"), actor="s-ann"))
    await step(5, journey.transfer("c-1", TransferInput(to_team_id="icm-west"), actor="s-ann"))
    await project_spool(pg_pool)

    row = await pg_pool.fetchrow("SELECT * FROM clients WHERE client_id = 'c-1'")
    assert (row["team_id"], row["transfer_to_team_id"], row["care_coordinator_id"]) == (
        "aot-east", "icm-west", "s-ann"
    )  # fmt: skip
    assert row["other_phones"] == ["+15550881102"] and row["contact_target_days"] == 3.0
    assert (await ReadModels(pg_pool).caller_by_phone("+15550881102")).client_id == "c-1"
    referral_row = await pg_pool.fetchrow("SELECT status, source FROM referrals")
    assert dict(referral_row) == {"status": "accepted", "source": "cmht"}
    counts = await RiskQueries(pg_pool).contacts_by_staff("aot-east", T0, T0 + timedelta(days=1))
    assert [(c.staff_id, c.face_to_face, c.minutes) for c in counts] == [
        ("s-ann", 1, 50), ("s-bo", 1, 50)
    ]  # fmt: skip
    at = T0 + timedelta(hours=6)
    assert (await board(pg_pool, "aot-east", at))["c-1"].transfer == "to icm-west"
    assert (await board(pg_pool, "icm-west", at))["c-1"].transfer == "from aot-east"

    first_visit = ContactInput(kind="face_to_face", staff_ids=("s-cy",))
    await step(7, journey.contact("c-1", first_visit, actor="s-cy"))
    await step(8, journey.discharge("c-1", DischargeInput(reason="stable, GP care"), actor="s-cy"))
    await project_spool(pg_pool)
    row = await pg_pool.fetchrow("SELECT * FROM clients WHERE client_id = 'c-1'")
    assert (row["team_id"], row["status"], row["care_coordinator_id"]) == (
        "icm-west", "discharged", "s-cy"
    )  # fmt: skip
    assert "c-1" not in await board(pg_pool, "icm-west", T0 + timedelta(hours=9))
    caseloads = {c.team_id: c.clients for c in await ReadModels(pg_pool).caseloads()}
    assert caseloads == {"aot-east": 0, "icm-west": 0}

    back = ReReferralInput(source="mental_health_team", source_team="Crisis team")
    await step(30, journey.re_refer("c-1", back, actor="s-cy"))
    await project_spool(pg_pool)
    assert "c-1" in await board(pg_pool, "icm-west", T0 + timedelta(hours=31))
    kinds = await pg_pool.fetch(
        "SELECT type FROM event_archive WHERE key = 'c-1' ORDER BY occurred_at"
    )
    assert [k["type"] for k in kinds] == [
        "ReferralReceived", "ReferralAccepted", "ClientEnrolled", "ContactRecorded",
        "CarePlanRecorded", "ClientTransferRequested", "ContactRecorded", "TransferCompleted",
        "ClientDischarged", "ClientReReferred",
    ]  # fmt: skip


async def test_the_board_shows_the_current_score_follow_ups_and_overdue_care_plans(
    pg_pool: asyncpg.Pool,
) -> None:
    """The board's score is the score when it is read, decayed since the level last moved;
    an open follow-up shows until its closure; a care plan older than six months is flagged."""
    enrolled = _ev(ClientEnrolled(client_id="c-2", team_id="aot-east", display_name="C2",
                                  phone=None, contact_target_days=3.0), "c-2", T0)  # fmt: skip
    signal = _ev(RelapseSignalObserved(client_id="c-2", source="staff", sign="sleep_loss",
                                       severity=5), "c-2", T0 + timedelta(minutes=1))  # fmt: skip
    clock = Clock()
    engine = RiskEngine(_NoRota(), clock)
    state, decided = initial("c-2"), []
    for event in (enrolled, signal):
        state, out = await engine.handle(state, event)
        decided += out
    assert decided[0].type == "RiskLevelChanged"
    follow = derived_id("follow-up", "d-1")
    opened = _ev(FollowUpOpened(follow_up_id=follow, client_id="c-2", team_id="aot-east",
                                dispatch_id=derived_id("d-1"), due_at=T0 + timedelta(hours=24)),
                 "c-2", T0)  # fmt: skip
    plan = _plan_months_ago(7)
    await project_all(pg_pool, [*roster(), enrolled, signal, *decided, opened, plan])

    (row,) = (await board(pg_pool, "aot-east", T0 + timedelta(hours=72))).values()
    assert row.level == "elevated"
    assert abs(row.score - 2.5) < 0.01  # 5 points halved in 72 h
    assert row.follow_up_due == T0 + timedelta(hours=24)
    assert row.care_plan_review_overdue
    closed = _ev(FollowUpClosed(follow_up_id=follow, client_id="c-2", team_id="aot-east",
                                contact_event_id=None), "c-2", T0 + timedelta(hours=2))  # fmt: skip
    await project_all(pg_pool, [closed])
    (row,) = (await board(pg_pool, "aot-east", T0 + timedelta(hours=3))).values()
    assert row.follow_up_due is None


def _plan_months_ago(months: int) -> Envelope:
    payload = CarePlanRecorded(client_id="c-2", team_id="aot-east", care_coordinator_id="s-ann",
                               summary="housing")  # fmt: skip
    return _ev(payload, "c-2", T0 - timedelta(days=30 * months))


class _NoRota:
    async def responder(self, team_id: str, at: object) -> None:
        return None

    async def staff_responder(self, staff_id: str) -> None:
        return None
