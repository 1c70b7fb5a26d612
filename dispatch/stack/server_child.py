"""A server the stack runs as a child process: it binds the port it is given (0: any free
one) and writes the port it bound to a file, which the stack waits for. It leads a session
of its own, as every child of the stack does: a terminal's Ctrl-C reaches `dispatch up`
alone, which stops its children in order. Started and stopped by PID: SIGTERM, then SIGKILL
if it lingers; reaped either way."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import structlog

from dispatch.stack.processes import ChildProcess, spawn, stop_child

log = structlog.get_logger(__name__)
STOP_WAIT_S = 5.0


class ServerChild(ChildProcess):
    """`argv` plus `--port-file FILE`, its output appended to `log_path`."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        name: str,
        log_path: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.log_path = log_path
        self._argv = list(argv)
        self._env = env
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None, f"{self.name} not started"
        return self._proc.pid

    async def start(self, timeout_s: float = 10.0) -> int:
        """Spawn it and wait until it wrote its port; that port. A child that exits or
        stays silent for `timeout_s` is stopped, and the error names its log."""
        port_file = self.log_path.with_suffix(".port")
        port_file.unlink(missing_ok=True)
        self._proc = self._spawn(port_file)
        deadline = time.monotonic() + timeout_s
        while not port_file.exists() or not port_file.read_text():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                await self.stop()
                raise RuntimeError(f"the {self.name} did not start; see {self.log_path}")
            await asyncio.sleep(0.02)
        return int(port_file.read_text())

    def _spawn(self, port_file: Path) -> subprocess.Popen[bytes]:
        argv = [*self._argv, "--port-file", str(port_file)]
        return spawn(argv, log_path=self.log_path, env=self._env)

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        await stop_child(proc, name=self.name, timeout_s=STOP_WAIT_S)
        log.info("server_child_stopped", child=self.name, pid=proc.pid)
