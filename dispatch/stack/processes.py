"""The stack's child processes: each leads a process group of its own and is stopped by it.

Children start with start_new_session=True, so a terminal's Ctrl-C or a signal sent to
`dispatch up` reaches `dispatch up` alone, which then stops them itself in reverse start
order. A child's process group id is its PID; stopping signals that group, waits a bounded
time, then kills it. Nothing is ever looked up or signalled by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil
import structlog

log = structlog.get_logger(__name__)

_KILL_WAIT_S = 5.0


class ChildProcess:
    """What every child of the stack answers besides its PID: is it running, how it ended."""

    _proc: subprocess.Popen[bytes] | None

    @property
    def alive(self) -> bool:
        """Started and not exited (a child that died keeps its PID until restarted)."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def exit_code(self) -> int | None:
        """None while it runs (or before it started); its exit code once it ended."""
        return None if self._proc is None else self._proc.poll()

    @property
    def last_pid(self) -> int | None:
        """Its process, running or dead; None when it has none (never started, or stopped)."""
        return None if self._proc is None else self._proc.pid


def spawn(
    argv: Sequence[str], *, log_path: Path, env: dict[str, str] | None = None, **popen: Any
) -> subprocess.Popen[bytes]:
    """Start a child leading its own session and process group, its output in log_path."""
    with log_path.open("ab") as out:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            **popen,
        )


async def exited(proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Wait (bounded) for the child to exit; True when it has."""
    deadline = time.monotonic() + timeout_s
    while proc.poll() is None:
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Signal a process group we started; a group already gone is fine."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


async def stop_child(
    proc: subprocess.Popen[bytes],
    *,
    name: str,
    timeout_s: float,
    first: signal.Signals = signal.SIGTERM,
    whole_group: bool = True,
) -> int | None:
    """`first` to the child's group (or to the child alone), SIGKILL to the group after
    timeout_s; always reaps. Returns the exit code. Safe to call on a child already dead."""
    try:
        if proc.poll() is None:
            if whole_group:
                signal_group(proc.pid, first)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, first)
            if not await exited(proc, timeout_s):
                log.warning(
                    "child_kill_after_timeout", child=name, pid=proc.pid, timeout_s=timeout_s
                )
                signal_group(proc.pid, signal.SIGKILL)
                await exited(proc, _KILL_WAIT_S)
    finally:  # also when cancelled while waiting: leave nothing running, reap it
        if proc.poll() is None:
            signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
    return proc.returncode


def group_members(pgid: int, *, born_before: float) -> list[psutil.Process]:
    """Live processes of the group `pgid` that existed before `born_before` (a timestamp):
    what is left of a child's group after the child died. The birth bound tells them from
    a later process that could have been given the same number."""
    members: list[psutil.Process] = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getpgid(proc.pid) == pgid and proc.create_time() <= born_before:
                members.append(proc)
    return members


async def retire(procs: list[psutil.Process], *, name: str, grace_s: float = 2.0) -> int:
    """Give processes left behind by a dead child `grace_s` to exit on their own (PostgreSQL
    backends do when their postmaster is gone), then SIGKILL the rest, by PID, and wait
    (bounded) until they are gone. Returns how many had to be killed."""
    deadline = time.monotonic() + grace_s
    while procs and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        procs = [proc for proc in procs if not _gone(proc)]
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    if procs:
        log.warning("child_leftovers_killed", child=name, pids=[proc.pid for proc in procs])
        deadline = time.monotonic() + _KILL_WAIT_S
        while not all(_gone(proc) for proc in procs) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
    return len(procs)


def _gone(proc: psutil.Process) -> bool:
    """Exited (a zombie waiting for its parent to reap it counts as gone)."""
    try:
        return bool(proc.status() == psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return True


def birth_time(pid: int) -> float | None:
    """When the process `pid` started (None if there is none): with the PID it names one
    process for good, since numbers are reused but birth times are not."""
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None
