"""The static fallback server as the stack's child process, next to the web edge."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from pathlib import Path

import structlog

from dispatch.fallback.document import write_fallback_twiml
from dispatch.settings import Settings

log = structlog.get_logger(__name__)
DOCUMENT = "fallback-twiml.xml"


class FallbackServer:
    """`python -m dispatch.fallback.server` serving `document`; started and stopped by PID."""

    def __init__(self, document: Path, *, host: str, port: int, log_path: Path) -> None:
        self.document = document
        self.host = host
        self.port = port
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None, "fallback server not started"
        return self._proc.pid

    @property
    def url(self) -> str:
        """The URL to give the crisis line numbers as their voice Fallback URL."""
        return f"http://{self.host}:{self.port}/{self.document.name}"

    async def start(self, timeout_s: float = 10.0) -> str:
        port_file = self.log_path.with_suffix(".port")
        port_file.unlink(missing_ok=True)
        self._proc = self._spawn(port_file)
        deadline = time.monotonic() + timeout_s
        while not port_file.exists() or not port_file.read_text():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                await self.stop()
                raise RuntimeError(f"the fallback TwiML server did not start; see {self.log_path}")
            await asyncio.sleep(0.02)
        self.port = int(port_file.read_text())
        log.info("fallback_twiml_server_started", pid=self.pid, url=self.url)
        return self.url

    def _spawn(self, port_file: Path) -> subprocess.Popen[bytes]:
        argv = [
            *(sys.executable, "-m", "dispatch.fallback.server", "--file", str(self.document)),
            *("--host", self.host, "--port", str(self.port), "--port-file", str(port_file)),
        ]
        with self.log_path.open("ab") as out:
            return subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    async def stop(self) -> None:
        """SIGTERM by PID, SIGKILL if it lingers; reaped either way."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(proc.wait, 5.0)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.info("fallback_twiml_server_stopped", pid=proc.pid)


async def start_fallback_server(settings: Settings, state_dir: Path) -> FallbackServer:
    """Write the document from DEFAULT_CRISIS_NUMBER into `state_dir` and serve it."""
    document = write_fallback_twiml(state_dir / DOCUMENT, settings.default_crisis_number)
    server = FallbackServer(
        document,
        host=settings.web_host,
        port=settings.fallback_twiml_port,
        log_path=state_dir / "fallback-twiml-server.log",
    )
    await server.start()
    return server
