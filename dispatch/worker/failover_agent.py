"""The failover agent (page events -> voice failover, scheduled redials) and its redial timer.

The table is keyed by dispatch id and co-partitioned with act.page-events, so a page's
PageRequested is always folded before its PageFailed. The timer reads the wall clock (an
edge) and emits the PageRequested of a due redial; the notifier's ledger makes a repeated
emission harmless.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import faust
import structlog

from dispatch.clock import Clock
from dispatch.events import Envelope
from dispatch.events.codec import decode_obj
from dispatch.paging.failover import PagesOfDispatch, due_redials, evolve, on_page_failed, redial

if TYPE_CHECKING:
    from dispatch.worker.app import EventTopics
    from dispatch.worker.timers import Timers

log = structlog.get_logger(__name__)
RELEVANT = frozenset({"PageRequested", "PageFailed", "PageRedialScheduled"})


def _load(raw: Any) -> PagesOfDispatch:
    if not raw:
        return PagesOfDispatch()
    return PagesOfDispatch(
        requests={k: decode_obj(v) for k, v in raw["requests"].items()},
        redials={k: decode_obj(v) for k, v in raw["redials"].items()},
    )


def _dump(state: PagesOfDispatch) -> dict[str, Any]:
    return {
        "requests": {k: e.model_dump(mode="json") for k, e in state.requests.items()},
        "redials": {k: e.model_dump(mode="json") for k, e in state.redials.items()},
    }


def register_failover(
    app: faust.App,
    topics: EventTopics,
    timers: Timers,
    *,
    clock: Clock,
    tick_s: float,
    redial_delay_s: float,
) -> None:
    table = app.Table("paging-failover", default=None)  # values: JSON of PagesOfDispatch
    delay = timedelta(seconds=redial_delay_s)
    emitted: set[str] = set()

    @app.agent(topics.page_events, name="paging-failover")
    async def failover(stream: faust.StreamT[Envelope]) -> None:
        async for event in stream:
            if event.type not in RELEVANT:
                continue
            with structlog.contextvars.bound_contextvars(**event.log_context()):
                state = _load(table.get(event.key))
                if event.type == "PageFailed":
                    request = state.requests.get(str(event.payload.notification_id))  # type: ignore[attr-defined]
                    if request is None:
                        log.warning("page_failed_without_request")
                        continue
                    decided = on_page_failed(request, event, redial_delay=delay, now=clock.now())
                    await topics.append(decided)
                    if decided:
                        log.info("page_failover", events=[e.type for e in decided])
                    continue
                state = evolve(state, event)
                if state.empty:
                    table.pop(event.key, None)
                else:
                    table[event.key] = _dump(state)

    @timers.every(tick_s, "voice-redials")
    async def redial_timer() -> None:
        now = clock.now()
        for key, raw in list(table.items()):
            if not raw or not raw["redials"]:
                continue  # only pending redials are decoded: most dispatches have none
            pending = PagesOfDispatch(redials={k: decode_obj(v) for k, v in raw["redials"].items()})
            for scheduled in due_redials(pending, now):
                marker = str(scheduled.payload.notification_id)  # type: ignore[attr-defined]
                if marker in emitted:
                    continue
                await topics.append([redial(scheduled, now=now)])
                emitted.add(marker)
                log.info("page_redial_due", dispatch_id=key)
        if len(emitted) > 10_000:
            emitted.clear()  # a lost marker only re-requests a page the ledger knows

    _unused: Any = (failover, redial_timer)
