"""One stack per STATE_DIR, and the children a dead stack left behind are stopped by the next
one, recognised by PID and birth time."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import psutil
import pytest

from dispatch.stack.processes import spawn, stop_child
from dispatch.stack.state_dir import (
    CHILDREN_FILE,
    StackAlreadyRunning,
    StateDirLock,
    record_children,
    stop_leftovers,
)

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_a_second_stack_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    """While one stack holds the directory another is refused, naming the holder's PID."""
    first = StateDirLock(tmp_path)
    first.acquire()
    try:
        with pytest.raises(StackAlreadyRunning, match=f"pid {os.getpid()}"):
            StateDirLock(tmp_path).acquire()
    finally:
        first.release()
    again = StateDirLock(tmp_path)
    again.acquire()
    again.release()


async def test_children_left_by_a_dead_stack_are_stopped_and_strangers_are_not(
    tmp_path: Path,
) -> None:
    """A recorded child still running is stopped; a PID whose birth time differs from the
    record (the number given to another process since) is left alone."""
    left = spawn(SLEEPER, log_path=tmp_path / "left.log")
    stranger = spawn(SLEEPER, log_path=tmp_path / "stranger.log")
    try:
        record_children(tmp_path, {"worker-0": left.pid, "broker": stranger.pid})
        data = json.loads((tmp_path / CHILDREN_FILE).read_text())
        data["children"][1]["born"] -= 100.0  # as if "broker" were an older process
        (tmp_path / CHILDREN_FILE).write_text(json.dumps(data))
        assert await stop_leftovers(tmp_path) == ["worker-0"]
        assert left.wait(timeout=5) is not None
        assert psutil.Process(stranger.pid).is_running()
        assert not (tmp_path / CHILDREN_FILE).exists()
    finally:
        for proc in (left, stranger):
            await stop_child(proc, name="sleeper", timeout_s=5)


async def test_leftover_workers_are_stopped_before_what_they_lean_on(tmp_path: Path) -> None:
    """Workers first, PostgreSQL last: a worker stopped after its broker and database waited
    out its whole grace and was killed."""
    names = ["postgres", "broker", "twilio-sandbox", "worker-0", "fallback-twiml", "worker-1"]
    procs = [spawn(SLEEPER, log_path=tmp_path / f"{name}.log") for name in names]
    try:
        record_children(tmp_path, {name: proc.pid for name, proc in zip(names, procs, strict=True)})
        stopped = await stop_leftovers(tmp_path)
        assert stopped[:2] == ["worker-0", "worker-1"]
        assert sorted(stopped[2:4]) == ["fallback-twiml", "twilio-sandbox"]
        assert stopped[4:] == ["broker", "postgres"]
        assert all(proc.wait(timeout=5) is not None for proc in procs)
    finally:
        for proc in procs:
            await stop_child(proc, name="sleeper", timeout_s=5)
