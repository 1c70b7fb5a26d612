"""The rota read model in PostgreSQL answers who is on call, and agrees with the fold."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, time
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.events import Envelope
from dispatch.rota.events import CoverageSet, OverrideScheduled, RotationDefined, ShiftAssigned
from dispatch.rota.oncall import on_call
from dispatch.rota.state import fold
from projections.pool import connect
from projections.project import project
from projections.queries import ReadModels
from tests.unit.test_rota_support import envelopes, instants, schedules

NY = ZoneInfo("America/New_York")


async def apply(pool: asyncpg.Pool, events: list[Envelope]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        for event in events:
            await project(conn, event)


def icm_rota() -> list[Envelope]:
    """An ICM team in New York: 08:00-20:00, daily 08:00 hand-off, a fallback team."""
    start = datetime(2026, 3, 1, 8, tzinfo=NY)
    return envelopes(
        "America/New_York",
        [
            CoverageSet(
                team_id="t", all_day=False, opens=time(8), closes=time(20),
                fallback_team_id="act-night",
            ),
            RotationDefined(
                team_id="t", rotation_id="day", layer="primary", period="daily",
                handoff_time=time(8), participants=("s1", "s2", "s3"), starts_at=start,
            ),
            RotationDefined(
                team_id="t", rotation_id="backup", layer="backup", period="weekly",
                handoff_time=time(8), handoff_weekday=0, participants=("s4",), starts_at=start,
            ),
            OverrideScheduled(
                team_id="t", override_id="o1", layer="primary", staff_id="s4",
                starts_at=datetime(2026, 3, 9, 12, tzinfo=NY),
                ends_at=datetime(2026, 3, 9, 14, tzinfo=NY),
            ),
            ShiftAssigned(
                team_id="t", staff_id="s2", layer="primary",
                starts_at=datetime(2030, 1, 1, 9, tzinfo=NY),
                ends_at=datetime(2030, 1, 1, 10, tzinfo=NY),
            ),
        ],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("at", "primary", "backup", "covered"),
    [
        (datetime(2026, 3, 1, 8, tzinfo=NY), "s1", "s4", True),
        (datetime(2026, 3, 7, 19, 59, tzinfo=NY), "s1", "s4", True),  # day 6: 6 % 3 = 0
        (datetime(2026, 3, 8, 8, tzinfo=NY), "s2", "s4", True),  # the 23-hour day
        (datetime(2026, 3, 8, 20, tzinfo=NY), None, None, False),
        (datetime(2026, 3, 9, 12, 30, tzinfo=NY), "s4", "s4", True),  # the override
        (datetime(2026, 3, 9, 14, tzinfo=NY), "s3", "s4", True),
        (datetime(2030, 1, 1, 9, 30, tzinfo=NY), "s2", "s4", True),  # a future shift
        (datetime(2026, 2, 28, 12, tzinfo=NY), None, None, True),  # before the rota
    ],
)
async def test_on_duty_from_the_rota_projection(
    pg_pool: asyncpg.Pool, at: datetime, primary: str | None, backup: str | None, covered: bool
) -> None:
    """on_duty answers any instant from the projected rota, with the fallback off hours."""
    await apply(pg_pool, icm_rota())
    duty = await ReadModels(pg_pool).on_duty("t", at)
    assert (duty.primary.staff_id if duty.primary else None) == primary
    assert (duty.backup.staff_id if duty.backup else None) == backup
    assert duty.covered is covered
    assert duty.fallback_team_id == "act-night" and duty.fallback_number is None


async def test_replayed_and_reordered_events_change_nothing(pg_pool: asyncpg.Pool) -> None:
    """Projecting the rota twice, the second time in reverse order, gives the same rows."""
    events = icm_rota()
    await apply(pg_pool, events)
    before = await pg_pool.fetch("SELECT * FROM rota_entries ORDER BY kind, entry_id")
    await apply(pg_pool, list(reversed(events)))
    after = await pg_pool.fetch("SELECT * FROM rota_entries ORDER BY kind, entry_id")
    assert before == after and len(after) == 4


async def test_caseload_flagged_against_the_model(pg_pool: asyncpg.Pool) -> None:
    """Clients per staff from the read model: 4 staff and no clients is within ACT's 1:10."""
    await apply(pg_pool, icm_rota())
    [figure] = await ReadModels(pg_pool).caseloads()
    assert (figure.team_id, figure.staff, figure.clients) == ("t", 4, 0)
    assert figure.target_per_staff == 10
    assert not figure.over_ratio


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schedules(), st.lists(instants(), min_size=5, max_size=10), st.randoms())
def test_postgres_agrees_with_the_fold(
    pg_url: str,
    schedule: tuple[str, list],
    moments: list[datetime],
    rnd: random.Random,  # type: ignore[type-arg]
) -> None:
    """For any generated schedule, on_duty from PostgreSQL equals the pure function."""
    zone, payloads = schedule
    events = envelopes(zone, payloads)
    rota = fold(events).team("t")
    shuffled = list(events)
    rnd.shuffle(shuffled)

    async def check() -> None:
        pool = await connect(pg_url, max_size=2)
        try:
            await pool.execute("TRUNCATE rota_entries, teams, staff, shifts, event_archive")
            await apply(pool, shuffled)
            rm = ReadModels(pool)
            for at in moments:
                duty = await rm.on_duty("t", at)
                for layer, person in (("primary", duty.primary), ("backup", duty.backup)):
                    expected = on_call(rota, layer, at)  # type: ignore[arg-type]
                    assert (person.staff_id if person else None) == expected.staff_id
                    assert duty.covered == expected.covered
        finally:
            await pool.close()

    asyncio.run(check())
