"""The static fallback server as the stack's child process, next to the web edge."""

from __future__ import annotations

import sys
from pathlib import Path

import structlog

from dispatch.fallback.document import write_fallback_twiml
from dispatch.settings import Settings
from dispatch.stack.server_child import ServerChild

log = structlog.get_logger(__name__)
DOCUMENT = "fallback-twiml.xml"


class FallbackServer:
    """`python -m dispatch.fallback.server` serving `document`; started and stopped by PID."""

    def __init__(self, document: Path, *, host: str, port: int, log_path: Path) -> None:
        self.document = document
        self.host = host
        self.port = port
        self.log_path = log_path
        self._child: ServerChild | None = None

    @property
    def pid(self) -> int:
        assert self._child is not None, "fallback server not started"
        return self._child.pid

    @property
    def alive(self) -> bool:
        return self._child is not None and self._child.alive

    @property
    def url(self) -> str:
        """The URL to give the crisis line numbers as their voice Fallback URL."""
        return f"http://{self.host}:{self.port}/{self.document.name}"

    async def start(self, timeout_s: float = 10.0) -> str:
        argv = [
            *(sys.executable, "-m", "dispatch.fallback.server", "--file", str(self.document)),
            *("--host", self.host, "--port", str(self.port)),
        ]
        self._child = ServerChild(argv, name="fallback TwiML server", log_path=self.log_path)
        self.port = await self._child.start(timeout_s)
        log.info("fallback_twiml_server_started", pid=self.pid, url=self.url)
        return self.url

    async def stop(self) -> None:
        """SIGTERM by PID, SIGKILL if it lingers; reaped either way."""
        if self._child is not None:
            await self._child.stop()


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
