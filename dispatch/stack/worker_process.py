"""The faust worker as a child process: started in its own process group, awaited until
ready, stopped through its group by PID."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import structlog

from dispatch.stack.processes import ChildProcess, signal_group, spawn, stop_child

log = structlog.get_logger(__name__)


class WorkerProcess(ChildProcess):
    def __init__(self, env: dict[str, str], state_dir: Path, name: str = "worker") -> None:
        self._env = env
        self._state_dir = state_dir
        self.name = name
        self._proc: subprocess.Popen[bytes] | None = None
        self.log_path = state_dir / f"{name}.log"

    @property
    def pid(self) -> int:
        assert self._proc is not None, "worker not started"
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        """The exit code once it has exited (negative: killed by that signal)."""
        return None if self._proc is None else self._proc.poll()

    def start(self) -> None:
        self._state_dir.mkdir(parents=True, exist_ok=True)
        self._proc = spawn(
            [sys.executable, "-m", "dispatch.cli", "worker"],
            log_path=self.log_path,
            env={**os.environ, **self._env},
        )
        log.info("worker_started", worker=self.name, pid=self._proc.pid, log=str(self.log_path))

    async def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Wait until the worker has joined its group and owns partitions."""
        from dispatch.worker.app import ready_file

        marker = ready_file(self._state_dir, self.pid)
        deadline = time.monotonic() + timeout_s
        while not marker.exists():
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self._proc.returncode}: {self._tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker not ready after {timeout_s}s: {self._tail()}")
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        """Crash the worker (SIGKILL to its group): nothing is flushed, nothing is committed."""
        if self._proc is not None and self._proc.poll() is None:
            signal_group(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
            self._forget_ready()

    async def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM to its group (faust shuts down cleanly), SIGKILL after timeout_s."""
        if self._proc is None:
            return
        await stop_child(self._proc, name=self.name, timeout_s=timeout_s)
        self._forget_ready()

    def _forget_ready(self) -> None:
        """A dead worker's ready marker goes: a later process given its PID must not find it."""
        from dispatch.worker.app import ready_file

        if self._proc is not None:
            ready_file(self._state_dir, self._proc.pid).unlink(missing_ok=True)

    def _tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
