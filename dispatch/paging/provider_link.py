"""Keeping the way to the telephony provider open while a worker waits for calls.

A page is often the first request after a quiet spell, and an idle connection gets closed
(by our HTTP pool, by the provider or by a proxy on the way). The page would then wait for
a new connection and its TLS handshake before its request. So a worker reads the
provider's account (`Telephony.reach`: nothing sent, nothing billed) before it says it is
ready, and again every `every_s` while it runs. The connection the next page uses stays
open, and the credentials are known to be accepted.

A failed read changes no page: the notifier retries each page on its own. A run of failed
reads is logged once, as an error naming the provider's answer, and its end once, as a
warning (dispatch/health/streak.py). Once the failure is settled (two reads failed in a
row, or the credentials were refused) `error` says why, the worker's heartbeat carries it,
and /health's `telephony` check turns red, which stops the dead-man's switch. A worker
whose credentials are refused says so at its start, before any call comes in
(docs/decisions/046).
"""

from __future__ import annotations

import asyncio

import structlog

from dispatch.health.streak import FailureStreak
from dispatch.paging.telephony import Telephony
from dispatch.tasks import cancel_and_wait

log = structlog.get_logger(__name__)
SETTLED_AFTER = 2  # failed reads in a row before `error` tells /health
REFUSED = frozenset({401, 403})  # credentials refused: no retry mends it


class ProviderLink:
    """Reads the provider's account now and then, telling a change of state once."""

    def __init__(self, telephony: Telephony, *, every_s: float, timeout_s: float = 10.0) -> None:
        self._telephony = telephony
        self._every_s = every_s
        self._timeout_s = timeout_s
        self._failures = 0
        self._last: Exception | None = None
        self._streak = FailureStreak(
            log, failed="telephony_unreachable", recovered="telephony_reachable_again"
        )
        self._task: asyncio.Task[None] | None = None

    @property
    def failures(self) -> int:
        """Reads failed in a row (0: the last read succeeded, or none was made)."""
        return self._failures

    @property
    def error(self) -> str | None:
        """Why pages cannot reach the provider, once that is settled (SETTLED_AFTER failed
        reads in a row, or credentials refused); None while it answers or is not judged."""
        last = self._last
        if last is None:
            return None
        refused = getattr(last, "status_code", None) in REFUSED
        if self._failures < SETTLED_AFTER and not refused:
            return None
        return str(last) or type(last).__name__

    async def reach(self) -> bool:
        """One read of the account, within the timeout; True when the provider answered."""
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._telephony.reach()
        except Exception as exc:  # TelephonyError, a timeout, or what an adapter let out
            self._failures += 1
            self._last = exc
            self._streak.failure(
                exc,
                status_code=getattr(exc, "status_code", None),
                checked_again_every_s=self._every_s or None,
            )
            return False
        self._streak.success(failed_reads=self._failures)
        self._failures, self._last = 0, None
        return True

    def start(self) -> None:
        """Read every `every_s` from now on (never when it is 0); once only."""
        if self._task is None and self._every_s > 0:
            self._task = asyncio.create_task(self._run(), name="telephony-link")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every_s)
            await self.reach()

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
