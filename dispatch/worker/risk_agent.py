"""The faust risk agent: client events -> the client-risk table -> risk decisions.

The table is keyed by client id and co-partitioned with act.client-events, so each
worker holds the risk of exactly the clients whose events it reads; a state is held as the
compact JSON bytes of RiskState (defaults left out). Events are taken in batches
(dispatch/worker/batches.py): a batch is folded in memory, its decided events are appended
and acked by the broker together, then the table is updated, then the batch's events are
acked so that their offsets can be committed. A crash in between re-decides the same events
with the same ids (deduplicated downstream) instead of losing them (decision 022).

A timer scans the table every few seconds and emits what time alone decides: a client's
contact target when they join a team (from the team's service model on the roster), a
missed-contact alert per gap, an overdue plan review per plan version.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import faust
import structlog

from dispatch.events import Envelope
from dispatch.risk.decide import needs_contact_target, timer_events
from dispatch.risk.fold import FOLDED, RiskState, initial
from dispatch.risk.levels import DEFAULT_POLICY, RiskPolicy
from dispatch.vocabulary import ServiceModel
from dispatch.worker.batches import InFlight, handling, run_batches
from dispatch.worker.guard import AgentGuard, Delivery

if TYPE_CHECKING:
    from dispatch.worker.app import EventTopics
    from dispatch.worker.resources import WorkerServices
    from dispatch.worker.timers import Timers

log = structlog.get_logger(__name__)
TABLE_NAME = "client-risk"
MISSED_CONTACT_TICK_S = 5.0  # how often the table is scanned for targets, gaps and reviews


def load_state(raw: Any, client_id: str) -> RiskState:
    """A table value: JSON bytes (a dict from a changelog written before decision 022)."""
    if raw is None:
        return initial(client_id)
    if isinstance(raw, bytes | str):
        return RiskState.model_validate_json(raw)
    return RiskState.model_validate(raw)


def dump_state(state: RiskState) -> bytes:
    """Compact: fields at their defaults are left out (they come back as defaults)."""
    return state.model_dump_json(exclude_defaults=True).encode()


def register_risk_agent(
    app: faust.App,
    topics: EventTopics,
    res: WorkerServices,
    timers: Timers,
    guard_for: Callable[[str], AgentGuard],
    *,
    partitions: int,
    in_flight: InFlight,
    policy: RiskPolicy = DEFAULT_POLICY,
) -> Any:
    table = app.Table(
        TABLE_NAME,
        default=None,
        partitions=partitions,
        value_type=bytes,  # raw bytes: compact JSON
    )

    guard = guard_for("risk")

    async def handle(event: Envelope, *, offset: int) -> None:
        if not isinstance(event.payload, FOLDED):
            return
        with structlog.contextvars.bound_contextvars(**event.log_context()):
            before = load_state(table.get(event.key), event.key)
            engine = (await res.get()).risk_engine
            after, decided = await engine.handle(before, event, offset=offset)
            await topics.append(decided)
            if after is not before:
                table[event.key] = dump_state(after)
            if decided:
                log.info("risk_decided", level=after.level, events=[e.type for e in decided])

    async def handle_batch(deliveries: Sequence[Delivery]) -> None:
        items = [
            (d.value, d.offset)
            for d in deliveries
            if isinstance(d.value, Envelope) and isinstance(d.value.payload, FOLDED)
        ]
        if not items:
            return
        engine = (await res.get()).risk_engine
        states, decided = await engine.handle_many(
            items, lambda key: load_state(table.get(key), key)
        )
        sent = time.perf_counter()
        await topics.append(decided)  # every ack awaited, together
        append_ms = round((time.perf_counter() - sent) * 1000, 1)
        last = {d.value.key: d.event for d in deliveries if isinstance(d.value, Envelope)}
        for key, state in states.items():
            # faust writes a key to the changelog partition of the event being handled
            with handling(last[key]):
                table[key] = dump_state(state)
        if decided:
            log.info("risk_decided", events=len(decided), inputs=len(items), append_ms=append_ms)

    def handle_one(delivery: Delivery) -> Callable[[Envelope], Awaitable[None]]:
        return partial(handle, offset=delivery.offset)  # the guard's per-event path

    @app.agent(topics.client_events, name="risk")
    async def risk(stream: faust.StreamT[Envelope]) -> None:
        await run_batches(stream, guard, in_flight, handle_batch, handle_one)

    async def risk_timer() -> None:
        """Timers emit events: contact targets from the team's service model (looked up in
        the roster read model), one MissedContactAlerted per gap, one PlanReviewOverdue per
        plan version."""
        now = res.clock.now()
        try:
            states = [load_state(raw, key) for key, raw in list(table.items())]
            teams = {s.team_id for s in states if s.team_id and needs_contact_target(s)}
            models: dict[str, ServiceModel] = {}
            if teams:
                models = await (await res.get()).risk_queries.service_models(teams)
            decided = timer_events(states, models, now=now, policy=policy)
            if decided:
                await topics.append(decided)
                log.info("risk_timer_decided", events=[(e.type, e.key) for e in decided])
        except Exception:  # a failed tick is retried by the next one; the worker stays up
            log.exception("risk_timer_tick_failed")

    timers.every(MISSED_CONTACT_TICK_S, "risk-targets-gaps-reviews")(risk_timer)
    return risk
