"""The follow-up agent: a resolved crisis dispatch about a client opens a post-crisis
follow-up on the client's stream (FollowUpOpened), due within FOLLOW_UP_WITHIN_H.

Its table (keyed by dispatch id, co-partitioned with act.dispatch-events) remembers each
crisis dispatch's client from its DispatchOpened until the dispatch is resolved. The event
is appended before the entry is dropped: a crash in between decides the same event again
(the id derives from the dispatch), never loses it. The risk agent closes the follow-up
when a contact is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import faust
import structlog

from dispatch.events import Envelope
from dispatch.risk.followups import CrisisDispatch, crisis_dispatch, open_follow_up
from dispatch.worker.batches import InFlight, run_events
from dispatch.worker.guard import AgentGuard

if TYPE_CHECKING:
    from dispatch.worker.app import EventTopics
    from dispatch.worker.resources import WorkerServices

log = structlog.get_logger(__name__)
TABLE_NAME = "crisis-follow-ups"
INPUTS = frozenset({"DispatchOpened", "DispatchResolved"})


def register_follow_ups(
    app: faust.App,
    topics: EventTopics,
    res: WorkerServices,
    guard_for: Callable[[str], AgentGuard],
    in_flight: InFlight,
    *,
    within: timedelta,
) -> Any:
    table = app.Table(TABLE_NAME, default=None)  # values: JSON of CrisisDispatch
    guard = guard_for("follow-ups")

    async def handle(event: Envelope) -> None:
        if event.type not in INPUTS:
            return
        with structlog.contextvars.bound_contextvars(**event.log_context()):
            remembered = crisis_dispatch(event)
            if remembered is not None:
                table[event.key] = remembered.model_dump(mode="json")
                return
            raw = table.get(event.key)
            if event.type != "DispatchResolved" or raw is None:
                return
            opened = open_follow_up(
                CrisisDispatch.model_validate(raw), event, within=within, now=res.clock.now()
            )
            await topics.append([opened])
            del table[event.key]
            log.info("follow_up_opened", client_id=opened.key, dispatch_id=event.key)

    @app.agent(topics.dispatch_events, name="follow-ups")
    async def follow_ups(stream: faust.StreamT[Envelope]) -> None:
        await run_events(stream, guard, in_flight, handle)

    return follow_ups
