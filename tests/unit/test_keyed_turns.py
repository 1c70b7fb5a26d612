"""The notifier's pages run side by side, but one dispatch's pages one at a time, in order."""

from __future__ import annotations

import asyncio

from dispatch.worker.keyed_turns import KeyedTurns


async def test_one_key_waits_its_turn_and_other_keys_do_not() -> None:
    turns, seen = KeyedTurns(), []
    release = asyncio.Event()

    async def page(key: str, name: str, *, hold: bool = False) -> None:
        async with turns.turn(key):
            seen.append(f"start {name}")
            if hold:
                await release.wait()
            seen.append(f"end {name}")

    first = asyncio.create_task(page("d-1", "a1", hold=True))
    second = asyncio.create_task(page("d-1", "a2"))
    other = asyncio.create_task(page("d-2", "b1"))
    await other  # another dispatch's page does not wait for d-1's
    assert seen == ["start a1", "start b1", "end b1"]
    release.set()
    await asyncio.gather(first, second)
    assert seen[3:] == ["end a1", "start a2", "end a2"]


async def test_a_failed_turn_lets_the_next_one_go() -> None:
    turns, seen = KeyedTurns(), []

    async def fail() -> None:
        async with turns.turn("d-1"):
            raise RuntimeError("provider down")

    async def after() -> None:
        async with turns.turn("d-1"):
            seen.append("next")

    results = await asyncio.gather(fail(), after(), return_exceptions=True)
    assert isinstance(results[0], RuntimeError) and seen == ["next"]
