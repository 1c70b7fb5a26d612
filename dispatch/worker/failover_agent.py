"""The failover agent (page events -> channel failover, scheduled redials and retries) and its
timer.

The table is keyed by dispatch id and co-partitioned with act.page-events, so a page's
PageRequested is always folded before its PageFailed. The timer reads the wall clock (an
edge) and emits the PageRequested of a due redial or retry; the notifier's ledger makes a
repeated emission harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import faust
import structlog

from dispatch.clock import Clock
from dispatch.events import Envelope
from dispatch.events.codec import decode_obj
from dispatch.paging.failover import (
    PagesOfDispatch,
    RetryPolicy,
    decide_failure,
    due_redials,
    evolve,
    redial,
)
from dispatch.worker.batches import InFlight, run_events
from dispatch.worker.guard import AgentGuard

if TYPE_CHECKING:
    from dispatch.worker.app import EventTopics
    from dispatch.worker.resources import WorkerServices
    from dispatch.worker.timers import Timers

log = structlog.get_logger(__name__)
RELEVANT = frozenset({"PageRequested", "PageFailed", "PageRedialScheduled", "PageRetryScheduled"})


def _load(raw: Any) -> PagesOfDispatch:
    if not raw:
        return PagesOfDispatch()
    return PagesOfDispatch(
        requests={k: decode_obj(v) for k, v in raw["requests"].items()},
        redials={k: decode_obj(v) for k, v in raw["redials"].items()},
        decided={k: datetime.fromisoformat(v) for k, v in raw.get("decided", {}).items()},
        outage_noticed=bool(raw.get("outage_noticed", False)),
        failed={k: datetime.fromisoformat(v) for k, v in raw.get("failed", {}).items()},
    )


def _dump(state: PagesOfDispatch) -> dict[str, Any]:
    return {
        "requests": {k: e.model_dump(mode="json") for k, e in state.requests.items()},
        "redials": {k: e.model_dump(mode="json") for k, e in state.redials.items()},
        "decided": {k: at.isoformat() for k, at in state.decided.items()},
        "outage_noticed": state.outage_noticed,
        "failed": {k: at.isoformat() for k, at in state.failed.items()},
    }


def register_failover(
    app: faust.App,
    topics: EventTopics,
    res: WorkerServices,
    timers: Timers,
    guard_for: Callable[[str], AgentGuard],
    in_flight: InFlight,
    *,
    clock: Clock,
    tick_s: float,
    redial_delay_s: float,
    retry: RetryPolicy,
) -> None:
    table = app.Table("paging-failover", default=None)  # values: JSON of PagesOfDispatch
    delay = timedelta(seconds=redial_delay_s)
    emitted: set[str] = set()
    guard = guard_for("paging-failover")

    async def on_failed(state: PagesOfDispatch, event: Envelope) -> PagesOfDispatch:
        now = clock.now()
        decision = decide_failure(state, event, redial_delay=delay, now=now, retry=retry)
        if decision is None:
            log.warning("page_failed_without_request")
            return state
        events = list(decision.events)
        if decision.tell_manager_of is not None:
            outage = (await res.get()).outage_notices
            events += await outage.notices(decision.tell_manager_of, event, now=now)
            log.warning("page_provider_failing", manager_told=True)
        await topics.append(events)
        if events:
            log.info("page_failover", events=[e.type for e in events])
        return decision.state

    async def handle(event: Envelope) -> None:
        if event.type not in RELEVANT:
            return
        with structlog.contextvars.bound_contextvars(**event.log_context()):
            state = _load(table.get(event.key))
            if event.type == "PageFailed":
                state = await on_failed(state, event)
            else:
                state = evolve(state, event)
            if state.empty:
                table.pop(event.key, None)
            else:
                table[event.key] = _dump(state)

    @app.agent(topics.page_events, name="paging-failover")
    async def failover(stream: faust.StreamT[Envelope]) -> None:
        await run_events(stream, guard, in_flight, handle)

    @timers.every(tick_s, "voice-redials")
    async def redial_timer() -> None:
        now = clock.now()
        for key, raw in list(table.items()):
            if not raw or not raw["redials"]:
                continue  # only pending redials are decoded: most dispatches have none
            for scheduled in due_redials(_load(raw), now):
                marker = str(scheduled.payload.notification_id)  # type: ignore[attr-defined]
                if marker in emitted:
                    continue
                try:
                    await topics.append([redial(scheduled, now=now)])
                except Exception as exc:  # the broker is down: the next tick tries again
                    log.warning("page_redial_not_requested", dispatch_id=key, error=repr(exc))
                    return
                emitted.add(marker)
                log.info("page_redial_due", dispatch_id=key, kind=scheduled.type)
        if len(emitted) > 10_000:
            emitted.clear()  # a lost marker only re-requests a page the ledger knows

    _unused: Any = (failover, redial_timer)
