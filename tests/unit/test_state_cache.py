"""What the risk timer scans while some changed states are not written yet (decision 051)."""

from __future__ import annotations

import asyncio

from dispatch.worker.state_cache import newest_states, newest_states_in_slices


def decode(raw: bytes | None, key: str) -> str:
    return f"{key}={raw.decode() if raw else None}"


def test_a_state_changed_since_the_last_write_is_the_one_scanned() -> None:
    saved = [("a", b"1"), ("b", b"1")]
    unsaved = {"b": (0, "b=2"), "c": (1, "c=1")}  # b moved on, c is new since the write
    assert list(newest_states(saved, unsaved, decode)) == ["a=1", "b=2", "c=1"]


def test_the_unsaved_states_are_read_once_at_the_start() -> None:
    """A batch that runs while the timer is part way through (the timer yields between
    states) does not change what this scan sees."""
    unsaved = {"b": (0, "b=2")}
    scan = newest_states([("a", b"1"), ("b", b"1")], unsaved, decode)
    assert next(scan) == "a=1"
    unsaved["b"] = (0, "b=3")
    unsaved["d"] = (0, "d=1")
    assert list(scan) == ["b=2"]


async def test_a_scan_in_slices_lets_other_work_run_between_them_and_sees_its_snapshot() -> None:
    """The risk timer's scan of every state hands the loop back every `slice_size` states,
    so a crisis call fetched meanwhile is decided between two slices, not after the scan;
    what the scan sees is fixed at its start, whatever the batches change meanwhile."""
    saved = {f"k{i:04}": b"1" for i in range(1000)}
    unsaved = {"k0001": (0, "k0001=2")}
    turns = 0
    scanning = True

    async def other_work() -> None:
        nonlocal turns
        while scanning:
            turns += 1
            await asyncio.sleep(0)

    other = asyncio.create_task(other_work())
    await asyncio.sleep(0)  # it runs once before the scan
    seen = []
    async for state in newest_states_in_slices(saved.items(), unsaved, decode, slice_size=100):
        if len(seen) == 500:  # a batch changes states half way through
            saved["k0900"] = b"9"
            saved["k5000"] = b"1"
            unsaved["k0901"] = (0, "k0901=9")
        seen.append(state)
    scanning = False
    await other
    assert turns >= 10, "the other work ran between the slices"
    assert len(seen) == 1000 and seen[1] == "k0001=2"
    assert seen[900:902] == ["k0900=1", "k0901=1"], "as the scan began"
