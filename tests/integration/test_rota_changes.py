"""The web edge routes from memory while it hears PostgreSQL's notices of changes, and from
PostgreSQL whenever it might have missed one (docs/decisions/034; real PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import asyncpg
import pytest

from dispatch.clock import SystemClock
from dispatch.demo.seed import TEAM_ID, seed_events
from dispatch.web.rota_cache import RotaCache
from projections.edge_snapshot import load_edge_snapshot
from projections.queries import ReadModels
from tests.e2e.helpers import until
from tests.fixtures.postgres import project_all

LINE = "+15005550001"
NEW_LINE = "+15005550077"


@contextlib.asynccontextmanager
async def _cache(
    pg_pool: asyncpg.Pool, listen: Callable[[], Awaitable[asyncpg.Connection]]
) -> AsyncIterator[RotaCache]:
    """The demo team projected, and a started cache routing its line."""
    await project_all(pg_pool, seed_events(datetime.now(UTC), LINE))
    rota_cache = RotaCache(
        ReadModels(pg_pool),
        partial(load_edge_snapshot, pg_pool, horizon=timedelta(hours=12)),
        SystemClock(),
        refresh_s=3600,  # only a notice, a lost connection or a refused answer re-reads
        db_timeout_s=5.0,
        listen=listen,
    )
    await rota_cache.start()
    try:
        yield rota_cache
    finally:
        await rota_cache.stop()


@pytest.fixture
async def cache(pg_pool: asyncpg.Pool, pg_url: str) -> AsyncIterator[RotaCache]:
    async with _cache(pg_pool, partial(asyncpg.connect, pg_url)) as rota_cache:
        yield rota_cache


async def _current(rota_cache: RotaCache) -> bool:
    return rota_cache.current()


async def _new_line_in_memory(rota_cache: RotaCache) -> bool:
    snapshot = rota_cache.snapshot
    return rota_cache.current() and snapshot is not None and NEW_LINE in snapshot.lines


async def test_a_ring_is_routed_from_memory_while_the_tables_are_locked(
    cache: RotaCache, pg_pool: asyncpg.Pool
) -> None:
    """With the routing tables locked by a long transaction, the line's team and who is on
    duty are answered at once, and nothing is taken for an outage."""
    await until(partial(_current, cache), within_s=10, what="a current snapshot")
    async with pg_pool.acquire() as conn, conn.transaction():
        await conn.execute("LOCK TABLE teams, staff, shifts, clients IN ACCESS EXCLUSIVE MODE")
        assert await cache.team_for_line(LINE) == TEAM_ID
        on_duty = await cache.on_duty(TEAM_ID, datetime.now(UTC))
        assert on_duty.primary is not None
    assert cache.database_down is False


async def test_a_committed_change_reaches_memory_without_the_periodic_read(
    cache: RotaCache, pg_pool: asyncpg.Pool
) -> None:
    """A team's new line is in the edge's memory soon after it commits (the periodic
    re-read is an hour away), and routes from there."""
    await until(partial(_current, cache), within_s=10, what="a current snapshot")
    await pg_pool.execute(
        "UPDATE teams SET crisis_line_number = $2 WHERE team_id = $1", TEAM_ID, NEW_LINE
    )

    await until(partial(_new_line_in_memory, cache), within_s=10, what="the new line in memory")
    assert await cache.team_for_line(NEW_LINE) == TEAM_ID
    assert await cache.team_for_line(LINE) is None


async def test_while_not_listening_postgres_answers_and_a_missed_change_is_read_again(
    pg_pool: asyncpg.Pool, pg_url: str
) -> None:
    """The listening connection is cut and cannot be made again for a while; a change
    committed meanwhile is answered by PostgreSQL, and is in memory once the edge listens
    again."""
    gate = asyncio.Event()
    gate.set()

    async def connect() -> asyncpg.Connection:
        await gate.wait()
        return await asyncpg.connect(pg_url)

    async with _cache(pg_pool, connect) as rota_cache:
        await until(partial(_current, rota_cache), within_s=10, what="a current snapshot")
        gate.clear()
        await pg_pool.execute(
            """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE datname = current_database() AND query LIKE 'LISTEN %'"""
        )

        async def deaf() -> bool:
            return not rota_cache.current()

        await until(deaf, within_s=10, what="the lost connection noticed")
        await pg_pool.execute(
            "UPDATE teams SET crisis_line_number = $2 WHERE team_id = $1", TEAM_ID, NEW_LINE
        )
        assert await rota_cache.team_for_line(NEW_LINE) == TEAM_ID  # PostgreSQL's answer
        gate.set()
        await until(partial(_new_line_in_memory, rota_cache), within_s=10, what="memory")
        assert rota_cache.database_down is False
