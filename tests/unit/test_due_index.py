"""The timers' index of due keys (decision 055): told of each write, rebuilt after a
restore, and never losing a write made while a rebuild reads its snapshot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from dispatch.worker.due_index import DueIndex

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def due_at(hours: int | None) -> datetime | None:
    """The state is the hour it falls due (None: never)."""
    return None if hours is None else T0 + timedelta(hours=hours)


def index() -> DueIndex[int | None]:
    return DueIndex(due_at)


def test_keys_are_due_from_their_time_on_the_earliest_first_until_written_again() -> None:
    keys = index()
    keys.note("late", 5)
    keys.note("early", 2)
    keys.note("never", None)
    assert keys.due(T0 + timedelta(hours=1)) == []
    assert keys.due(T0 + timedelta(hours=2)) == ["early"]
    assert keys.due(T0 + timedelta(hours=9)) == ["early", "late"]
    keys.note("early", None)  # its alert was folded back: nothing until it changes again
    keys.note("late", 12)
    assert keys.due(T0 + timedelta(hours=9)) == [] and len(keys) == 1


def test_an_index_is_stale_until_built_and_again_after_a_restore() -> None:
    keys = index()
    assert keys.stale
    keys.replace([("a", 1), ("b", None)])
    assert not keys.stale and keys.due(T0 + timedelta(hours=1)) == ["a"]
    keys.invalidate()
    assert keys.stale


async def test_a_write_made_while_a_rebuild_reads_its_snapshot_is_kept() -> None:
    """The rebuild reads an old snapshot a slice at a time; a batch folded meanwhile notes
    newer states: a new client, one whose gap was alerted, one due sooner. Those win."""
    keys = index()
    snapshot = [("a", 1), ("b", 3), ("c", 40)]

    async def read() -> AsyncIterator[tuple[str, int | None]]:
        for pair in snapshot:
            yield pair
            await asyncio.sleep(0)

    async def batch() -> None:
        keys.note("new", 2)
        keys.note("b", None)
        keys.note("c", 4)

    rebuilt = asyncio.create_task(keys.rebuild(read()))
    await asyncio.sleep(0)  # the rebuild has read part of its snapshot
    await batch()
    await rebuilt
    assert not keys.stale
    assert keys.due(T0 + timedelta(hours=10)) == ["a", "new", "c"]


async def test_a_restore_during_a_rebuild_leaves_the_index_stale() -> None:
    keys = index()

    async def read() -> AsyncIterator[tuple[str, int | None]]:
        yield "a", 1
        keys.invalidate()  # the partitions were assigned again meanwhile
        yield "b", 2

    await keys.rebuild(read())
    assert keys.stale, "the next tick reads the restored values"
