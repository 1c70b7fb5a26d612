"""PostgreSQL's lock file after a crash: postmaster.pid is cleared only when it is stale.

A postmaster killed with SIGKILL leaves postmaster.pid behind. PostgreSQL starts over a
stale one itself when the PID in it is free, but refuses when that number now belongs to
another process (PIDs are reused, and as root it cannot even signal the embedded server's
user). The file is removed here only when the PID in it is not a running postgres process
working in our data directory, and only once the dead server's backends are gone (they
hold its shared memory; they exit on their own when they see their postmaster is gone).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import psutil
import structlog

from dispatch.stack.processes import retire

log = structlog.get_logger(__name__)

LOCK_FILE = "postmaster.pid"


class ServerStillRunning(RuntimeError):
    """A postgres process still works in the data directory: the lock file is not stale."""

    def __init__(self, pid: int, data_dir: Path) -> None:
        super().__init__(f"PostgreSQL (pid {pid}) is still running on {data_dir}")
        self.pid = pid


def _works_in(proc: psutil.Process, data_dir: Path) -> bool:
    """Is proc a postgres process (postmaster or backend) whose directory is data_dir?"""
    try:
        return proc.name() == "postgres" and Path(proc.cwd()).resolve() == data_dir.resolve()
    except psutil.Error:  # gone, or not ours to inspect: not our server
        return False


def server_processes(data_dir: Path) -> list[psutil.Process]:
    """Every live postgres process working in data_dir."""
    return [proc for proc in psutil.process_iter() if _works_in(proc, data_dir)]


def lock_pid(data_dir: Path) -> int | None:
    """The postmaster PID written in the lock file (None: no file, or no number in it)."""
    try:
        first = (data_dir / LOCK_FILE).read_text().split("\n", 1)[0].strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return int(first) if first.isdigit() else None


def _holder(pid: int | None) -> str:
    if pid is None:
        return "unreadable"
    try:
        return f"now {psutil.Process(pid).name()}"
    except psutil.Error:
        return "not running"


async def clear_stale_lock(data_dir: Path, *, grace_s: float = 5.0) -> int | None:
    """Remove a stale postmaster.pid; returns the dead server's PID (None: nothing to do).

    Raises ServerStillRunning when the PID in it is a live postgres process in data_dir.
    Backends of the dead server still running after grace_s are killed, by PID.
    """
    path = data_dir / LOCK_FILE
    if not path.exists():
        return None
    pid = lock_pid(data_dir)
    if pid is not None:
        with contextlib.suppress(psutil.Error):
            if _works_in(psutil.Process(pid), data_dir):
                raise ServerStillRunning(pid, data_dir)
    # Verified one by one: postgres processes working in our data directory.
    killed = await retire(server_processes(data_dir), name="postgres", grace_s=grace_s)
    path.unlink(missing_ok=True)
    log.warning(
        "postgres_stale_lock_cleared",
        data_dir=str(data_dir),
        stale_pid=pid,
        pid_holder=_holder(pid),
        backends_killed=killed,
    )
    return pid
