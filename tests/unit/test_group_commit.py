"""GroupCommit (decision 057): what arrives while a write is in flight goes in the next
write, together; every caller gets its own result or its statement's error."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from dispatch.group_commit import GroupCommit


class Store:
    """A write that holds until released, recording each statement's items."""

    def __init__(self) -> None:
        self.statements: list[list[int]] = []
        self.release = asyncio.Event()
        self.refuse: set[int] = set()
        self.down = False

    async def write(self, items: list[int]) -> list[int]:
        self.statements.append(items)
        await self.release.wait()
        if self.down:
            raise ConnectionRefusedError("database away")
        if self.refuse & set(items):
            raise asyncpg.CharacterNotInRepertoireError("invalid byte sequence")
        return [item * 10 for item in items]


async def test_what_arrives_during_a_write_goes_together_in_the_next() -> None:
    store = Store()
    group = GroupCommit(store.write)
    first = asyncio.create_task(group.submit(1))
    await asyncio.sleep(0)  # one turn: the first write is in flight
    rest = [asyncio.create_task(group.submit(n)) for n in (2, 3, 4)]
    store.release.set()

    assert await asyncio.gather(first, *rest) == [10, 20, 30, 40]
    assert store.statements == [[1], [2, 3, 4]]


async def test_an_item_refused_for_its_content_costs_the_others_nothing() -> None:
    store = Store()
    store.refuse = {3}
    store.release.set()
    group = GroupCommit(store.write)
    results = await asyncio.gather(*(group.submit(n) for n in (1, 2, 3, 4)), return_exceptions=True)

    assert results[:2] == [10, 20] and results[3] == 40
    assert isinstance(results[2], asyncpg.CharacterNotInRepertoireError)


async def test_the_database_away_reaches_every_caller_of_the_batch_once() -> None:
    store = Store()
    store.down = True
    store.release.set()
    group = GroupCommit(store.write)
    results = await asyncio.gather(*(group.submit(n) for n in (1, 2, 3)), return_exceptions=True)

    assert all(isinstance(r, ConnectionRefusedError) for r in results)
    assert store.statements == [[1, 2, 3]]  # not tried again item by item


async def test_a_writer_stopped_mid_write_leaves_no_caller_waiting() -> None:
    store = Store()
    group = GroupCommit(store.write)
    first = asyncio.create_task(group.submit(1))
    await asyncio.sleep(0)
    second = asyncio.create_task(group.submit(2))
    await asyncio.sleep(0)
    assert group._writer is not None
    group._writer.cancel()

    for caller in (first, second):
        with pytest.raises(asyncio.CancelledError):
            await caller


async def test_a_hung_statement_fails_its_batch_and_holds_up_nothing_behind_it() -> None:
    store = Store()  # not released: the first statement hangs
    group = GroupCommit(store.write, timeout_s=0.05)
    with pytest.raises(TimeoutError):
        await group.submit(1)
    store.release.set()

    assert await group.submit(2) == 20
    assert store.statements == [[1], [2]]
