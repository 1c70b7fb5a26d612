"""The faust worker as a child process: started, awaited until ready, stopped by PID."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)


class WorkerProcess:
    def __init__(self, env: dict[str, str], state_dir: Path, name: str = "worker") -> None:
        self._env = env
        self._state_dir = state_dir
        self._name = name
        self._proc: subprocess.Popen[bytes] | None = None
        self.log_path = state_dir / f"{name}.log"

    @property
    def pid(self) -> int:
        assert self._proc is not None, "worker not started"
        return self._proc.pid

    def start(self) -> None:
        self._state_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "dispatch.cli", "worker"],
                env={**os.environ, **self._env},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        log.info("worker_started", pid=self._proc.pid, log=str(self.log_path))

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
        """Crash the worker (SIGKILL): nothing is flushed, nothing is committed."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    async def stop(self, timeout_s: float = 20.0) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if proc.poll() is None:
            log.warning("worker_kill_after_timeout", pid=proc.pid)
            proc.kill()
        proc.wait()

    def _tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
