"""`dispatch replay` on a real PostgreSQL: it names what differs, repairs a damaged read model,
waits for the projector's transaction in flight, and keeps what was archived meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from click.testing import CliRunner

from dispatch.cli import main
from dispatch.events import Envelope
from dispatch.rota.events import StaffRegistered
from projections.edge_snapshot import EDGE_FACTS_CHANNEL
from projections.pool import connect
from projections.project import Position
from projections.queries import ReadModels
from projections.replay import REPLAY_LOCK, Replay, ReplayError
from tests.integration.live_projection import apply_batch, project_live
from tests.integration.replay_history import Shape, delivered, history

SHAPE = Shape(seed=11, teams=2, incidents=12, episodes=30, days=4)
INDEXES = """SELECT tablename, indexname, indexdef FROM pg_indexes
             WHERE schemaname = 'public' ORDER BY 1, 2"""


def with_pool(url: str, work: Callable[[asyncpg.Pool], Awaitable[Any]], size: int = 3) -> Any:
    async def go() -> Any:
        pool = await connect(url, min_size=1, max_size=size)
        try:
            return await work(pool)
        finally:
            await pool.close()

    return asyncio.run(go())


def projected(url: str) -> list[Envelope]:
    """The generated history projected live on `url`; returns its events."""
    events = history(SHAPE)
    with_pool(url, lambda pool: project_live(pool, delivered(events, SHAPE)))
    return events


def newcomer(events: list[Envelope], n: int) -> tuple[Envelope, Position]:
    """A staff member joining the first team, at the roster topic's next free offset."""
    from dispatch.events import new_event

    first = events[0]
    payload = StaffRegistered(staff_id=f"late-{n}", team_id=first.key, display_name="Late",
                              role="nurse", gender="female", phone=f"+1559000000{n}")  # fmt: skip
    event = new_event(payload, key=first.key, occurred_at=first.occurred_at,
                      recorded_at=first.recorded_at, actor="test")  # fmt: skip
    return event, Position("act.roster-events", 10 + n, 0)  # a partition of its own


def test_check_names_the_rows_that_differ_and_hides_phone_numbers(pg_url: str) -> None:
    """A live row changed behind the projections' back: --check exits 1 naming the table, the
    row's key and the differing columns; phone numbers are shown as hidden."""
    projected(pg_url)
    runner = CliRunner()
    env = {"DATABASE_URL": pg_url}
    equal = runner.invoke(main, ["replay", "--check"], env=env)
    assert equal.exit_code == 0, equal.output
    assert "Equal: 26 read models" in equal.output

    with_pool(pg_url, lambda pool: pool.execute(
        "UPDATE clients SET status = 'discharged', phone = '+15550000000' "
        "WHERE client_id = 'gen-t0-c1'"))  # fmt: skip
    found = runner.invoke(main, ["replay", "--check"], env=env)
    assert found.exit_code == 1, found.output
    assert "DIFFERENT: 1 of 26 read models" in found.output
    assert "clients: 2 row(s) differ" in found.output
    line = next(x for x in found.output.splitlines() if "client_id=gen-t0-c1" in x)
    assert 'status live "discharged" rebuilt "enrolled"' in line
    assert "phone live (hidden) rebuilt (hidden)" in line
    assert "+1555" not in found.output


def test_replay_repairs_a_damaged_read_model_and_the_projector_carries_on(pg_url: str) -> None:
    """After `dispatch replay` the damaged row is as the archive says, the projector's offsets
    are untouched, a pooled connection that had read the old table reads the new one, and
    events projected afterwards land in the new tables."""
    events = projected(pg_url)

    async def damage(pool: asyncpg.Pool) -> tuple[Any, list[Any]]:
        rm = ReadModels(pool)
        await pool.execute("UPDATE staff SET display_name = 'Wrong' WHERE staff_id = 'gen-t0-s1'")
        assert (await rm.staff("gen-t0-s1")).display_name == "Wrong"  # type: ignore[union-attr]
        offsets = await pool.fetch("SELECT * FROM projection_offsets ORDER BY 1, 2, 3")
        return rm, offsets

    async def run_all(pool: asyncpg.Pool) -> None:
        rm, offsets = await damage(pool)
        indexes = await pool.fetch(INDEXES)
        invoke = CliRunner().invoke  # in a thread: the command runs an event loop of its own
        result = await asyncio.to_thread(invoke, main, ["replay"], env={"DATABASE_URL": pg_url})
        assert result.exit_code == 0, result.output
        assert "Swapped the read models in" in result.output
        assert "events/s" in result.output
        assert (await rm.staff("gen-t0-s1")).display_name == "Staff 0.1"  # type: ignore[union-attr]
        assert await pool.fetch("SELECT * FROM projection_offsets ORDER BY 1, 2, 3") == offsets
        assert await pool.fetch(INDEXES) == indexes  # the ones the replay built after filling
        notices: asyncio.Queue[str] = asyncio.Queue()
        listener = await asyncpg.connect(pg_url)  # as the web edge listens (decision 034)
        await listener.add_listener(EDGE_FACTS_CHANNEL, lambda *a: notices.put_nowait(a[3]))
        async with pool.acquire() as conn:
            await apply_batch(conn, [newcomer(events, 1)])
        assert await rm.staff("late-1") is not None
        # the swapped-in staff table still tells the edge of changes
        assert await asyncio.wait_for(notices.get(), timeout=10) == "public"
        await listener.close()
        schemas = await pool.fetch("SELECT nspname FROM pg_namespace WHERE nspname ~ '^repla'")
        assert schemas == []  # the shadow and the replaced tables are gone

    with_pool(pg_url, run_all, size=1)  # one connection: its cached statements outlive the swap


async def test_the_swap_waits_for_the_projector_and_keeps_what_it_archived(pg_url: str) -> None:
    """A projector transaction in flight when the swap begins holds the swap until it commits;
    its event, and one archived while the rebuild was running, are in the swapped tables."""
    events = history(SHAPE)
    pool = await connect(pg_url, max_size=3)
    try:
        await project_live(pool, delivered(events, SHAPE))
        meanwhile: list[asyncio.Task[None]] = []
        async with pool.acquire() as during:

            def archive_meanwhile(done: int, total: int) -> None:
                if done == 0:  # the snapshot is taken; this commit comes after it
                    meanwhile.append(
                        asyncio.create_task(apply_batch(during, [newcomer(events, 2)]))
                    )

            async with pool.acquire() as projector:
                tx = projector.transaction()
                await tx.start()
                await apply_batch(projector, [newcomer(events, 3)])  # a savepoint: not committed
                replay = Replay(pg_url, batch=20, progress=archive_meanwhile)
                job = asyncio.create_task(replay.run(check=False))
                await until_waiting_on_the_archive_lock(pool)
                assert meanwhile[0].done() and not job.done()
                await tx.commit()
                await job
        assert replay.tally.caught_up == 2
        rm = ReadModels(pool)
        assert await rm.staff("late-2") is not None
        assert await rm.staff("late-3") is not None
    finally:
        await pool.close()


async def until_waiting_on_the_archive_lock(pool: asyncpg.Pool) -> None:
    for _ in range(600):
        waiting = await pool.fetchval(
            """SELECT count(*) FROM pg_stat_activity
               WHERE wait_event_type = 'Lock' AND query LIKE 'LOCK TABLE public.event_archive%'"""
        )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the replay never asked for the archive's lock")


async def test_one_replay_at_a_time(pg_url: str) -> None:
    """A second replay while one runs is refused, and leaves no shadow behind."""
    holder = await asyncpg.connect(pg_url)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", REPLAY_LOCK)
        with pytest.raises(ReplayError, match="another replay"):
            await Replay(pg_url).run(check=True)
        assert (
            await holder.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname ~ '^repl'") == 0
        )
    finally:
        await holder.close()
