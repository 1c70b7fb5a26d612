"""The cycle collector's pause over a burst of work: nested and shared by coroutines, the
collector is on again only when the last holder leaves, and only if it was on before."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from dispatch import gc_pause


@pytest.fixture(autouse=True)
def collector_as_it_was() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    (gc.enable if enabled else gc.disable)()


def test_nested_pauses_turn_it_on_once_the_outer_one_ends() -> None:
    gc.enable()
    with gc_pause.paused():
        assert not gc.isenabled()
        with gc_pause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with gc_pause.paused():
        pass
    assert not gc.isenabled()


def test_it_is_on_again_after_an_error_in_the_block() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), gc_pause.paused():
        raise RuntimeError("a batch failed")
    assert gc.isenabled()


async def test_coroutines_holding_it_at_once_leave_it_on_after_the_last() -> None:
    """Two batches interleaved on one event loop: the first to finish does not turn the
    collector on under the second."""
    gc.enable()
    first_done, second_may_finish = asyncio.Event(), asyncio.Event()
    seen_by_second: list[bool] = []

    async def first() -> None:
        with gc_pause.paused():
            await asyncio.sleep(0)
        first_done.set()

    async def second() -> None:
        with gc_pause.paused():
            await first_done.wait()
            seen_by_second.append(gc.isenabled())
            await second_may_finish.wait()

    task = asyncio.ensure_future(second())
    await asyncio.sleep(0)  # the second holds the pause first
    await first()
    await asyncio.sleep(0)
    assert seen_by_second == [False]
    assert not gc.isenabled()
    second_may_finish.set()
    await task
    assert gc.isenabled()
