"""The dead-man's switch: POST to an outside URL every interval, only while /health is green.

An outside monitor (a cron-style check service, another site's alerting) expects these
posts; when the system dies, hangs or turns red, the posts stop and the monitor raises
the alarm. Silence is the signal, so nothing here retries harder or faster when red.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import aiohttp
import structlog

from dispatch.clock import Clock
from dispatch.health.monitor import HealthMonitor
from dispatch.health.streak import FailureStreak
from dispatch.tasks import cancel_and_wait

log = structlog.get_logger(__name__)


def _without_url(exc: BaseException) -> str:
    """Why a post failed, without the URL (aiohttp puts it in its messages)."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"HTTP {exc.status}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect: {exc.os_error.strerror or type(exc.os_error).__name__}"
    return type(exc).__name__


class DeadMansSwitch:
    def __init__(
        self,
        monitor: HealthMonitor,
        clock: Clock,
        *,
        url: str,
        interval_s: float,
        timeout_s: float = 5.0,
    ) -> None:
        self._monitor = monitor
        self._clock = clock
        self._url = url
        self._where = urlsplit(url).hostname or "?"  # the URL itself may carry a secret
        self._interval_s = interval_s
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._task: asyncio.Task[None] | None = None
        self._withheld = False
        self._sends = FailureStreak(
            log, failed="heartbeat_send_failed", recovered="heartbeat_send_recovered"
        )

    async def beat(self, session: aiohttp.ClientSession) -> bool:
        """One beat: POST when /health is green (True when the URL took it)."""
        report = await self._monitor.report()
        if not report.ok:
            if not self._withheld:
                log.error("heartbeat_withheld", reasons=report.reasons)
            self._withheld = True
            return False
        if self._withheld:
            log.warning("heartbeat_resumed")
        self._withheld = False
        body = {"status": "ok", "at": self._clock.now().isoformat()}
        try:
            async with session.post(self._url, json=body, timeout=self._timeout) as resp:
                resp.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._sends.failure(RuntimeError(_without_url(exc)), host=self._where)
            return False
        self._sends.success(host=self._where)
        return True

    async def _run(self) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                await self.beat(session)
                await asyncio.sleep(self._interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="dead-mans-switch")
        log.info("heartbeat_started", host=self._where, interval_s=self._interval_s)

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
