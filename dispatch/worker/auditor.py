"""The escalation auditor: a timer that checks the escalation timer's work from outside it.

Every tick it reads the open dispatches' own events from the archive (not the agent's
table, which is what it audits), and re-drives each step more than the grace period past
its deadline by emitting that step's deadline event again; the escalation agent moves the
step once and treats any copy for a step it already left as a no-op. Each re-drive is
logged as an error; /metrics counts them from the archive (actor `escalation-auditor`).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from dispatch.escalation.audit import fold, is_late, lateness, redrive
from dispatch.health.streak import FailureStreak
from projections.observations import open_dispatch_histories

if TYPE_CHECKING:
    from dispatch.worker.app import EventTopics
    from dispatch.worker.resources import WorkerServices
    from dispatch.worker.timers import Timers

log = structlog.get_logger(__name__)
AUDIT_BATCH = 500  # open dispatches read per tick, oldest first
READ_TIMEOUT_S = 30.0  # a hung database fails the tick instead of stopping the timer


def register_escalation_auditor(
    topics: EventTopics,
    res: WorkerServices,
    timers: Timers,
    *,
    tick_s: float,
    grace_s: float,
) -> None:
    grace = timedelta(seconds=grace_s)
    redriven: dict[tuple[uuid.UUID, int], datetime] = {}  # (dispatch, step) -> last re-drive
    ticks = FailureStreak(
        log, failed="escalation_audit_failed", recovered="escalation_audit_recovered"
    )

    @timers.every(tick_s, "escalation-audit")
    async def escalation_audit() -> None:
        now = res.clock.now()
        try:
            services = await res.get()
            histories = await asyncio.wait_for(
                open_dispatch_histories(
                    services.pool, opened_before=now - grace, limit=AUDIT_BATCH
                ),
                READ_TIMEOUT_S,
            )
            for history in histories:
                state = fold(history)
                if state is None or not is_late(state, now, grace):
                    continue
                marker = (state.dispatch_id, state.sequence)
                if now - redriven.get(marker, datetime.min.replace(tzinfo=now.tzinfo)) < grace:
                    continue  # re-driven within the grace period: give it time to move
                late = lateness(state, now)
                log.error(
                    "escalation_step_late",
                    dispatch_id=str(state.dispatch_id),
                    sequence=state.sequence,
                    deadline_at=state.deadline_at.isoformat() if state.deadline_at else None,
                    late_s=round(late.total_seconds(), 1) if late else None,
                    action="redriven",
                )
                await topics.append([redrive(state, now=now)])
                redriven[marker] = now
        except Exception as exc:  # database or broker away: the next tick tries again
            ticks.failure(exc)
            return
        ticks.success()
        for marker, at in list(redriven.items()):
            if now - at > 4 * grace:
                del redriven[marker]

    _unused: Any = escalation_audit
