"""What the risk timer scans while some changed states are not written yet (decision 051)."""

from __future__ import annotations

from dispatch.worker.state_cache import newest_states


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
