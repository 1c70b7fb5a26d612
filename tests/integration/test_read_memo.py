"""The worker keeps a staff member, a client's preferences and a team's policy while
PostgreSQL says nothing changed, and reads them again after any change (real PostgreSQL;
projections/read_memo.py, docs/decisions/044).

"Kept" is shown by a change made with the tables' triggers switched off
(`session_replication_role = replica`): no notice goes out, so only an answer kept in
memory can still be the old one. Every change made the normal way notifies.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from functools import partial

import asyncpg
import pytest

from dispatch.demo.seed import STAFF, TEAM_ID, seed_events
from dispatch.escalation.policy import EscalationPolicy, EscalationStep, default_policy
from projections.lookups import ReadModelRota, TeamPolicies
from projections.queries import ReadModels
from projections.read_memo import ReadMemo
from tests.e2e.helpers import until
from tests.fixtures.postgres import project_all

LINE = "+15005550001"
STAFF_ID = STAFF[0].staff_id
QUICK = EscalationPolicy(steps=(EscalationStep(targets=("primary",), ack_timeout_s=60),))


@contextlib.asynccontextmanager
async def _memo(
    pg_pool: asyncpg.Pool, connect: Callable[[], Awaitable[asyncpg.Connection]]
) -> AsyncIterator[ReadMemo]:
    """The demo team projected, and a started memo."""
    await project_all(pg_pool, seed_events(datetime.now(UTC), LINE))
    memo = ReadMemo(connect)
    await memo.start()
    try:
        yield memo
    finally:
        await memo.stop()


@pytest.fixture
async def memo(pg_pool: asyncpg.Pool, pg_url: str) -> AsyncIterator[ReadMemo]:
    async with _memo(pg_pool, partial(asyncpg.connect, pg_url)) as started:
        yield started


async def _silently(pg_pool: asyncpg.Pool, sql: str, *args: object) -> None:
    """A change that notifies nobody: the tables' triggers do not fire."""
    async with pg_pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(sql, *args)


async def _name(rota: ReadModelRota) -> str | None:
    return await rota.display_name(STAFF_ID)


async def test_a_staff_member_is_kept_until_a_change_is_announced(
    memo: ReadMemo, pg_pool: asyncpg.Pool
) -> None:
    rota = ReadModelRota(ReadModels(pg_pool), memo)
    assert memo.remembering
    first = await _name(rota)
    assert first is not None

    await _silently(pg_pool, "UPDATE staff SET display_name = 'Unheard' WHERE staff_id = $1",
                    STAFF_ID)  # fmt: skip
    assert await _name(rota) == first  # kept: nothing was announced

    await pg_pool.execute("UPDATE staff SET display_name = 'Renamed' WHERE staff_id = $1", STAFF_ID)

    async def renamed() -> bool:
        return await _name(rota) == "Renamed"

    await until(renamed, within_s=10, what="the announced change read again")


async def test_a_leaver_is_never_chosen_once_their_leaving_commits(
    memo: ReadMemo, pg_pool: asyncpg.Pool
) -> None:
    """A staff member kept in memory who then leaves is no longer someone to page: the
    change is announced, and when they leave is checked at each use."""
    rota = ReadModelRota(ReadModels(pg_pool), memo)
    assert await rota.staff_person(STAFF_ID) is not None
    await pg_pool.execute(
        "UPDATE staff SET left_at = now() - interval '1 minute' WHERE staff_id = $1", STAFF_ID
    )

    async def gone() -> bool:
        return await rota.staff_person(STAFF_ID) is None

    await until(gone, within_s=10, what="the leaver no longer chosen")


async def test_a_new_escalation_policy_reaches_the_next_decision(
    memo: ReadMemo, pg_pool: asyncpg.Pool
) -> None:
    policies = TeamPolicies(pg_pool, memo)
    assert await policies.policy_for(TEAM_ID) == default_policy()
    await pg_pool.execute(
        """INSERT INTO escalation_policies (team_id, policy, updated_at, updated_by_event)
           VALUES ($1, $2::jsonb, now(), gen_random_uuid())""",
        TEAM_ID,
        QUICK.model_dump_json(),
    )

    async def quick() -> bool:
        return await policies.policy_for(TEAM_ID) == QUICK

    await until(quick, within_s=10, what="the team's new policy")


async def test_while_nobody_listens_every_answer_comes_from_postgres(
    pg_pool: asyncpg.Pool, pg_url: str
) -> None:
    """The listener is cut and cannot be made again for a while: a change that notifies
    nobody is answered at once (nothing is kept while changes could be missed); once it
    listens again, answers are kept again."""
    gate = asyncio.Event()
    gate.set()

    async def connect() -> asyncpg.Connection:
        await gate.wait()
        return await asyncpg.connect(pg_url)

    async with _memo(pg_pool, connect) as memo:
        rota = ReadModelRota(ReadModels(pg_pool), memo)
        await _name(rota)
        gate.clear()
        await pg_pool.execute(
            """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE datname = current_database() AND query LIKE 'LISTEN %'"""
        )

        async def deaf() -> bool:
            return not memo.remembering

        async def hearing() -> bool:
            return memo.remembering

        await until(deaf, within_s=10, what="the lost listener noticed")
        await _silently(pg_pool, "UPDATE staff SET display_name = 'Unheard' WHERE staff_id = $1",
                        STAFF_ID)  # fmt: skip
        assert await _name(rota) == "Unheard"

        gate.set()
        await until(hearing, within_s=10, what="listening again")
        assert await _name(rota) == "Unheard"
        await _silently(pg_pool, "UPDATE staff SET display_name = 'Later' WHERE staff_id = $1",
                        STAFF_ID)  # fmt: skip
        assert await _name(rota) == "Unheard"  # kept again


async def test_a_memo_never_started_remembers_nothing(pg_pool: asyncpg.Pool, pg_url: str) -> None:
    """A CLI command's services: every question is asked of PostgreSQL."""
    await project_all(pg_pool, seed_events(datetime.now(UTC), LINE))
    rota = ReadModelRota(ReadModels(pg_pool), ReadMemo(partial(asyncpg.connect, pg_url)))
    await _name(rota)
    await _silently(pg_pool, "UPDATE staff SET display_name = 'Unheard' WHERE staff_id = $1",
                    STAFF_ID)  # fmt: skip
    assert await _name(rota) == "Unheard"
