"""The stack's hold on its STATE_DIR: one stack per directory, and its children on record.

`stack.lock` is held (flock) by the process running the stack, so a second `dispatch up` on
the same directory is refused instead of fighting over the database files; the kernel lets
go of it when that process dies, however it dies. `children.json` lists the supervised
children (name, PID, birth time); the supervisor rewrites it after every (re)start. When a
stack dies without stopping its children (SIGKILL of `dispatch up` alone), the next stack on
the directory stops those still running, each recognised by PID and birth time, never by
name.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
from pathlib import Path
from typing import IO

import psutil
import structlog

from dispatch.stack.processes import birth_time, retire, signal_group

log = structlog.get_logger(__name__)

LOCK_FILE = "stack.lock"
CHILDREN_FILE = "children.json"


class StackAlreadyRunning(RuntimeError):
    """Another stack holds this STATE_DIR."""


class StateDirLock:
    """An exclusive, non-blocking flock on STATE_DIR/stack.lock, holding our PID."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_FILE
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise StackAlreadyRunning(
                f"another stack (pid {holder}) runs on {self.path.parent}"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    @property
    def held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def record_children(state_dir: Path, pids: dict[str, int]) -> None:
    """Write children.json: each supervised child's name, PID and birth time."""
    entries = [{"name": name, "pid": pid, "born": birth_time(pid)} for name, pid in pids.items()]
    body = json.dumps({"stack_pid": os.getpid(), "children": entries}, indent=2)
    tmp = state_dir / f"{CHILDREN_FILE}.tmp"
    tmp.write_text(body + "\n")
    tmp.replace(state_dir / CHILDREN_FILE)


def recorded_children(state_dir: Path) -> list[dict[str, object]]:
    """What children.json says (empty when there is none)."""
    try:
        data = json.loads((state_dir / CHILDREN_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return []
    children: list[dict[str, object]] = data.get("children", [])
    return children


# Stopped last, in this order: what the other children lean on. A worker stopped after its
# broker and database waited out its whole grace and was killed.
_STOPPED_LAST = {"broker": 2, "postgres": 3}


def stopping_order(name: str) -> int:
    """Workers first, then the other children, then the broker, then PostgreSQL."""
    return 0 if name.startswith("worker") else _STOPPED_LAST.get(name, 1)


async def stop_leftovers(state_dir: Path) -> list[str]:
    """Stop the children a dead stack left running on this directory (call with the lock
    held: then no live stack owns them), in `stopping_order`. Returns their names."""
    stopped: list[str] = []
    children = sorted(
        recorded_children(state_dir), key=lambda c: stopping_order(str(c.get("name")))
    )
    for entry in children:
        pid, born, name = entry.get("pid"), entry.get("born"), str(entry.get("name"))
        if not isinstance(pid, int) or born is None or birth_time(pid) != born:
            continue  # gone, or the number now names another process
        log.warning("leftover_child_stopping", child=name, pid=pid)
        # PostgreSQL takes SIGINT as its fast shutdown; the others take SIGTERM.
        signal_group(pid, signal.SIGINT if name == "postgres" else signal.SIGTERM)
        with contextlib.suppress(psutil.Error):
            await retire([psutil.Process(pid)], name=name, grace_s=15.0)
        stopped.append(name)
    forget_children(state_dir)
    return stopped


def forget_children(state_dir: Path) -> None:
    """Every child was stopped: children.json goes."""
    (state_dir / CHILDREN_FILE).unlink(missing_ok=True)
