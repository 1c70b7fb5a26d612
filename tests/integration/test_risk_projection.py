"""The risk read models on real PostgreSQL: the huddle board, and replays changing nothing."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from dispatch.clients.events import CarerRegistered, ClientEnrolled
from dispatch.crisis.decide import Responder
from dispatch.events import Envelope, derived_id, new_event
from dispatch.risk.decide import timer_events
from dispatch.risk.events import (
    ContactTargetSet,
    PlanReviewOverdue,
    RelapsePlanRecorded,
    WarningSign,
)
from dispatch.risk.fold import RiskState, initial
from dispatch.risk.service import RiskEngine
from dispatch.rota.events import TeamFormed
from projections.risk_queries import RiskQueries
from tests.fixtures.postgres import project_all
from tests.unit.risk_builders import CLIENT, TEAM, at, contact, crisis_call, sign

NURSE = Responder(staff_id="s-nurse", phone="+15550001001")
READ_MODELS = (
    "client_risk",
    "risk_changes",
    "relapse_signals",
    "client_contacts",
    "relapse_plans",
    "outreach_tasks",
    "dispatches",
    "pages",
)


class Rota:
    async def responder(self, team_id: str, at: object) -> Responder | None:
        return NURSE

    async def staff_responder(self, staff_id: str) -> Responder | None:
        return NURSE


class Clock:
    def __init__(self) -> None:
        self.at = at(0)

    def now(self):  # type: ignore[no-untyped-def]
        return self.at


def _ev(payload: object, hours: float) -> Envelope:
    return new_event(
        payload,  # type: ignore[arg-type]
        key=CLIENT,
        event_id=derived_id("risk-projection-test", type(payload).__name__, hours),
        occurred_at=at(hours),
        recorded_at=at(hours),
        actor="test",
    )


def history() -> list[Envelope]:
    """Enrolled with a plan 7 months ago; signs, a crisis call and a visit in the last days."""
    months_ago = -24 * 213
    return [
        _ev(
            ClientEnrolled(client_id=CLIENT, team_id=TEAM, display_name="Client 77", phone=None),
            months_ago,
        ),
        _ev(
            CarerRegistered(
                client_id=CLIENT,
                carer_id="carer-77",
                display_name="Carer",
                phone="+15550307777",
                relationship="sister",
                client_consents_to_share=True,
            ),
            months_ago,
        ),
        _ev(
            RelapsePlanRecorded(
                client_id=CLIENT,
                warning_signs=(WarningSign(sign="sleep_loss", weight=1.0),),
                triggers=("anniversary of bereavement",),
                agreed_by="s-nurse",
            ),
            months_ago,
        ),
        contact(-2),
        sign(1, "sleep_loss", 2),
        sign(20, "withdrawal", 2),
        sign(40, "missed_meds", 2),
        crisis_call(44),
        contact(46),
    ]


async def run(engine: RiskEngine, clock: Clock) -> tuple[list[RiskState], list[Envelope]]:
    """Fold the history through the engine: every intermediate state and every event."""
    state, states, log = initial(CLIENT), [], []
    for offset, event in enumerate(history()):
        clock.at = event.occurred_at + timedelta(seconds=1)
        state, decided = await engine.handle(state, event, offset=offset)
        states.append(state)
        log += [event, *decided]
    return states, log


async def dump(pool: asyncpg.Pool) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    for table in READ_MODELS:
        rows = await pool.fetch(f"SELECT * FROM {table} ORDER BY 1")  # noqa: S608
        out[table] = [tuple(r.values()) for r in rows]
    return out


async def test_huddle_board_shows_levels_reasons_contacts_and_overdue_reviews(
    pg_pool: asyncpg.Pool,
) -> None:
    """After signs, a crisis call and a visit, the board shows all of it and the overdue plan."""
    clock = Clock()
    _, log = await run(RiskEngine(Rota(), clock), clock)
    await project_all(pg_pool, log)
    queries = RiskQueries(pg_pool)
    levels = [(a, b) for a, b, _ in await queries.risk_history(CLIENT)]
    assert levels == [("stable", "elevated"), ("elevated", "crisis"), ("crisis", "elevated")]
    assert await queries.level(CLIENT) == "elevated"
    board = await queries.huddle(TEAM, at(47))
    (row,) = board
    assert row.level == "elevated"
    assert any("face-to-face visit" in r for r in row.reasons)
    assert row.last_face_to_face_at == at(46)
    assert row.outreach_due and row.plan_review_overdue
    changes = " | ".join(row.changes_24h)
    assert "risk elevated -> crisis" in changes and "contact face_to_face" in changes
    assert "signal missed_meds" in changes and "signal sleep_loss" not in changes  # > 24 h ago
    assert await queries.carer_consents(CLIENT, "carer-77") is True
    assert await queries.carer_consents(CLIENT, "nobody") is None


async def test_replaying_the_log_reproduces_the_table_and_the_read_models(
    pg_pool: asyncpg.Pool,
) -> None:
    """Replaying from offset 0 gives every intermediate state and every read-model row again."""
    clock = Clock()
    states, log = await run(RiskEngine(Rota(), clock), clock)
    again, log_again = await run(RiskEngine(Rota(), clock), clock)
    assert states == again
    assert [e.event_id for e in log] == [e.event_id for e in log_again]
    await project_all(pg_pool, log)
    first = await dump(pg_pool)
    await project_all(pg_pool, log_again)
    assert await dump(pg_pool) == first
    assert first["client_risk"] and first["outreach_tasks"] and first["relapse_plans"]


async def test_the_risk_timer_reads_the_service_model_and_its_events_reach_the_board(
    pg_pool: asyncpg.Pool,
) -> None:
    """An ICM team on the roster: the tick sets the client's 7-day target and flags the
    overdue plan review; projected (twice, idempotently) the board shows both."""
    clock = Clock()
    states, log = await run(RiskEngine(Rota(), clock), clock)
    team = new_event(
        TeamFormed(
            team_id=TEAM,
            name="ICM test",
            service_model="ICM",
            time_zone="UTC",
            fallback_number="+15550300000",
            crisis_line_number=None,
        ),
        key=TEAM,
        occurred_at=at(-24 * 300),
        recorded_at=at(-24 * 300),
        actor="test",
    )
    await project_all(pg_pool, [team, *log])
    queries = RiskQueries(pg_pool)
    models = await queries.service_models({TEAM, "no-such-team"})
    assert models == {TEAM: "ICM"}
    ticked = timer_events([states[-1]], models, now=at(47))
    assert [e.type for e in ticked] == ["ContactTargetSet", "PlanReviewOverdue"]
    target, review = (e.payload for e in ticked)
    assert isinstance(target, ContactTargetSet) and target.target_days == 7
    assert isinstance(review, PlanReviewOverdue)
    await project_all(pg_pool, ticked)
    await project_all(pg_pool, ticked)
    assert await pg_pool.fetchval("SELECT count(*) FROM plan_review_alerts") == 1
    (row,) = await queries.huddle(TEAM, ticked[1].occurred_at + timedelta(hours=1))
    assert row.contact_target_days == 7 and row.plan_review_overdue
    assert any("plan review overdue (plan agreed" in c for c in row.changes_24h)
