"""Runs the probes side by side, each within its budget, and logs every change of verdict.

A probe that hangs (PostgreSQL or the broker not answering) is abandoned at its deadline
and counts as red: the report is ready within `timeout_s` whatever the parts do. Reports
are reused for `cache_s`, and concurrent callers share one run, so /health, /metrics and
the heartbeat can ask as often as they like.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import structlog

from dispatch.clock import Clock
from dispatch.health.budget import Budget
from dispatch.health.ports import BrokerReadings, HealthReadings
from dispatch.health.report import (
    HealthReport,
    Limits,
    ProbeFailed,
    Readings,
    Transitions,
    evaluate,
)

log = structlog.get_logger(__name__)


class HealthMonitor:
    def __init__(
        self,
        readings: HealthReadings,
        broker: BrokerReadings,
        clock: Clock,
        limits: Limits,
        *,
        lookback_s: float,
        timeout_s: float,
        cache_s: float,
    ) -> None:
        self._readings = readings
        self._broker = broker
        self._clock = clock
        self._limits = limits
        self._lookback = timedelta(seconds=lookback_s)
        self._cache_s = cache_s
        self._lock = asyncio.Lock()
        self._last: tuple[float, HealthReport] | None = None
        self._transitions = Transitions()
        self._budget = Budget(timeout_s)

    async def report(self) -> HealthReport:
        """The current verdict (at most `cache_s` old)."""
        async with self._lock:
            if self._last is not None and time.monotonic() - self._last[0] < self._cache_s:
                return self._last[1]
            report = await self._run()
            self._last = (time.monotonic(), report)
            self._log_changes(report)
            return report

    async def _run(self) -> HealthReport:
        now = self._clock.now()
        r = self._readings
        postgres, broker, workers, spool, contacts = await asyncio.gather(
            self._budget.run(r.ping()),
            self._budget.run(self._broker.read()),
            self._budget.run(r.worker_beats()),
            self._budget.run(r.spool()),
            self._budget.run(r.unpaged_contacts(now - self._lookback)),
        )
        readings = Readings(
            postgres=postgres if isinstance(postgres, ProbeFailed) else None,
            broker=broker,
            workers=workers,
            spool=spool,
            contacts=contacts,
        )
        return evaluate(readings, self._limits, self._clock.now())

    def _log_changes(self, report: HealthReport) -> None:
        turned, cleared = self._transitions.update(report)
        for name in turned:
            log.error("health_check_failing", check=name, reason=report.checks[name].reason)
        for name in cleared:
            log.warning("health_check_cleared", check=name)

    async def close(self) -> None:
        await self._budget.close()
