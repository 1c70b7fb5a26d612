"""The escalation agent (a faust table of per-dispatch state) and its deadline timer.

The table is keyed by dispatch id and co-partitioned with act.dispatch-events, so the
agent sees a dispatch's opening, acknowledgement and deadlines in the order they happened.
The timer reads the wall clock (an edge) and emits EscalationDeadlineReached events; it
never changes state itself. Values are compact bytes; a resolved dispatch is kept as a
tombstone (`retire`), never with its full state (decision 030).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import faust
import structlog

from dispatch.escalation.decide import deadline_reached
from dispatch.escalation.state import EscalationState, is_due, retire
from dispatch.events import Envelope
from dispatch.worker.batches import InFlight, run_events
from dispatch.worker.due_index import DueIndex
from dispatch.worker.escalation_table import deadline_of, dump, load, waiting_states
from dispatch.worker.guard import AgentGuard
from dispatch.worker.pages_at_once import PagesAtOnce

if TYPE_CHECKING:
    from dispatch.worker.app import EventTopics
    from dispatch.worker.resources import WorkerServices
    from dispatch.worker.timers import Timers

log = structlog.get_logger(__name__)
RELEVANT = frozenset(
    {
        "DispatchOpened",
        "EscalationPlanFrozen",
        "DispatchAcknowledged",
        "DispatchResolved",
        "EscalationDeadlineReached",
        "EscalationRequested",
        "DispatchEscalated",
        "StaffReplyReceived",
    }
)


def register_escalation(
    app: faust.App,
    topics: EventTopics,
    res: WorkerServices,
    timers: Timers,
    guard_for: Callable[[str], AgentGuard],
    in_flight: InFlight,
    pages: PagesAtOnce,
    *,
    tick_s: float,
) -> None:
    table = app.Table(
        "escalation-state",
        default=None,
        value_type=bytes,  # raw bytes: compact JSON (dispatch/worker/escalation_table.py)
    )
    emitted: set[tuple[str, int]] = set()
    deadlines: DueIndex[EscalationState] = DueIndex(deadline_of)

    guard = guard_for("escalation")

    async def handle(event: Envelope) -> None:
        if event.type not in RELEVANT:
            return
        with structlog.contextvars.bound_contextvars(**event.log_context()):
            state = load(table.get(event.key))
            services = await res.get()
            new_state, decided = await services.escalation.handle(state, event)
            pages.after_append(await topics.append(decided))  # the next person paged now
            if new_state is not None:
                # A resolved dispatch stays as a tombstone, so a late reply is told it is
                # closed and a redelivered one gets its first answer (decision 030).
                new_state = retire(new_state)
            if new_state is not None and new_state != state:
                table[event.key] = dump(new_state)
                deadlines.note(event.key, new_state)
            if decided:
                log.info("dispatch_escalated", events=[e.type for e in decided])

    @app.agent(topics.dispatch_events, name="escalation")
    async def escalation(stream: faust.StreamT[Envelope]) -> None:
        await run_events(stream, guard, in_flight, handle)

    @table.on_recover
    async def restored() -> None:  # after every rebalance: the table holds other values
        deadlines.replace(waiting_states(list(table.items())))

    @timers.every(tick_s, "escalation-deadlines")
    async def escalation_deadlines() -> None:
        now = res.clock.now()
        if deadlines.stale:  # no rebalance has completed yet
            deadlines.replace(waiting_states(list(table.items())))
        for key in deadlines.due(now):
            state = load(table.get(key))
            deadlines.note(key, state)
            if state is None or not is_due(state, now):
                continue
            marker = (key, state.sequence)
            if marker in emitted:
                continue
            try:
                await topics.append([deadline_reached(state, now=now)])
            except Exception as exc:  # the broker is away: the next tick tries again
                log.warning("escalation_deadline_not_emitted", dispatch_id=key, error=repr(exc))
                return
            emitted.add(marker)
        if len(emitted) > 10_000:
            emitted.clear()  # a lost marker only re-emits a deadline, which is a no-op

    _unused: Any = (escalation, escalation_deadlines, restored)
