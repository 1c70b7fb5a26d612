"""Keeping the way to the telephony provider open while a worker waits for calls.

A page is often the first request after a quiet spell, and an idle connection gets closed
(by our HTTP pool, by the provider or by a proxy on the way). The page would then wait for
a new connection and its TLS handshake before its request. So a worker reads the
provider's account (`Telephony.reach`: nothing sent, nothing billed) before it says it is
ready, and again every `every_s` while it runs. The connection the next page uses stays
open, and the credentials are known to be accepted.

A failed read changes no page: the notifier retries each page on its own. It is told once,
as a warning naming the provider's answer, and its end once more, as info with how many
reads failed. A worker whose credentials are refused logs that warning at its start, before
any call comes in (docs/decisions/046).
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from dispatch.paging.telephony import Telephony, TelephonyError

log = structlog.get_logger(__name__)


class ProviderLink:
    """Reads the provider's account now and then, telling a change of state once."""

    def __init__(self, telephony: Telephony, *, every_s: float, timeout_s: float = 10.0) -> None:
        self._telephony = telephony
        self._every_s = every_s
        self._timeout_s = timeout_s
        self._failures = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def failures(self) -> int:
        """Reads failed in a row (0: the last read succeeded, or none was made)."""
        return self._failures

    async def reach(self) -> bool:
        """One read of the account, within the timeout; True when the provider answered."""
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._telephony.reach()
        except (TelephonyError, TimeoutError) as exc:
            self._failures += 1
            if self._failures == 1:
                log.warning(
                    "telephony_unreachable",
                    error=str(exc) or type(exc).__name__,
                    status_code=getattr(exc, "status_code", None),
                    checked_again_every_s=self._every_s or None,
                )
            return False
        if self._failures:
            log.info("telephony_reachable_again", failed_reads=self._failures)
            self._failures = 0
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
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
