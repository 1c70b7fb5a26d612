"""Replay equals live: for generated histories of thousands of events, projected live the way
the projector does (partitions interleaved, retries delivered twice), the read models rebuilt
from the archive are the same row for row, and swapping them in changes no answer."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.pool import connect
from projections.replay import Replay, Swapped
from projections.replay_check import TableDiff, describe
from projections.replay_schema import READ_MODEL_TABLES
from tests.integration.live_projection import forget_everything, project_live
from tests.integration.replay_history import Shape, delivered, history


def shapes() -> st.SearchStrategy[Shape]:
    return st.builds(
        Shape,
        seed=st.integers(0, 2**32),
        teams=st.integers(1, 3),
        staff_per_team=st.integers(3, 6),
        clients_per_team=st.integers(2, 8),
        incidents=st.integers(80, 160),
        episodes=st.integers(100, 400),
        days=st.floats(3, 30),
        duplicates=st.sampled_from([0.0, 0.02, 0.1]),
        partitions=st.integers(1, 4),
    )


async def row_counts(pool: asyncpg.Pool) -> dict[str, int]:
    return {t: await pool.fetchval(f"SELECT count(*) FROM {t}") for t in READ_MODEL_TABLES}  # noqa: S608


def differences(result: list[TableDiff] | Swapped) -> list[str]:
    assert isinstance(result, list)
    return [line for d in result if not d.equal for line in describe(d)]


@pytest.mark.parametrize("together", [False, True], ids=["one_by_one", "in_rounds"])
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shapes())
def test_replayed_read_models_equal_the_live_ones(
    pg_url: str, together: bool, shape: Shape
) -> None:
    """Any generated history (1,500-6,000 events over 1-3 teams) projected live (event by
    event, or batches in rounds as the projector first tries) and then replayed from the
    archive gives the same rows in every read model; after the swap the live tables still
    hold those rows."""
    events = history(shape)
    assert len(events) >= 1500

    async def check() -> None:
        pool = await connect(pg_url, max_size=2)
        try:
            await forget_everything(pool)
            await project_live(pool, delivered(events, shape), together=together)
            before = await row_counts(pool)
            assert before["dispatches"] > 0 and before["pages"] > 0 and before["clients"] > 0
            assert differences(await Replay(pg_url).run(check=True)) == []
            assert isinstance(await Replay(pg_url).run(check=False), Swapped)
            after = await row_counts(pool)
            assert after == before
            assert differences(await Replay(pg_url).run(check=True)) == []
        finally:
            await pool.close()

    asyncio.run(check())
