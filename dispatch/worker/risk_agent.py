"""The faust risk agent: client events -> the client-risk table -> risk decisions.

The table is keyed by client id and co-partitioned with act.client-events, so each
worker holds the risk of exactly the clients whose events it reads; a state is held as the
compact JSON bytes of RiskState (defaults and repeated fields left out). Events are taken in
batches (dispatch/worker/batches.py): a batch is folded in memory, its decided events are appended
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
import orjson
import structlog

from dispatch.events import Envelope
from dispatch.risk.decide import needs_contact_target, timer_events
from dispatch.risk.fold import FOLDED, RiskState, initial
from dispatch.risk.levels import DEFAULT_POLICY, RiskPolicy
from dispatch.vocabulary import ServiceModel
from dispatch.worker.batches import InFlight, handling, run_batches
from dispatch.worker.compact import drop_repeats, restore_repeats, to_bytes
from dispatch.worker.guard import AgentGuard, Delivery

if TYPE_CHECKING:
    from dispatch.worker.app import EventTopics
    from dispatch.worker.resources import WorkerServices
    from dispatch.worker.timers import Timers

log = structlog.get_logger(__name__)
TABLE_NAME = "client-risk"
MISSED_CONTACT_TICK_S = 5.0  # how often the table is scanned for targets, gaps and reviews


# A field -> the field it usually repeats: left out when the same (decision 030).
REPEATS = {
    "effective": "score",  # no contact overdue
    "level": "score_level",  # no crisis floor
    "team_since": "enrolled_at",
    "last_face_to_face": "last_contact_at",
    "last_face_to_face_event": "last_contact_event",
}
_DEFAULTS = {of: RiskState.model_fields[of].default for of in REPEATS.values()}


def load_state(raw: Any, client_id: str) -> RiskState:
    """A table value: compact JSON bytes (a dict from a changelog written before decision
    022, or JSON bytes of one)."""
    if raw is None:
        return initial(client_id)
    value: dict[str, Any] = orjson.loads(raw) if isinstance(raw, bytes | str) else dict(raw)
    restore_repeats(value, REPEATS, _DEFAULTS)
    return RiskState.model_validate(value)


def dump_state(state: RiskState) -> bytes:
    """Compact: fields at their defaults are left out (they come back as defaults), and so
    are fields that repeat another (they come back as it); the round trip is exact."""
    value = state.model_dump(mode="json", exclude_defaults=True)
    full = state.model_dump(mode="json", include={*REPEATS, *REPEATS.values()})
    drop_repeats(value, full, REPEATS)
    return to_bytes(value)


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
            # One state decoded at a time (a worker holds 100,000 clients: a list of them all
            # decoded would be a few hundred MB at its peak). Only the few clients waiting
            # for a contact target are kept until their teams' service models are read.
            decided: list[Envelope] = []
            waiting = []
            for key, raw in list(table.items()):
                state = load_state(raw, key)
                if state.team_id and needs_contact_target(state):
                    waiting.append(state)
                else:
                    decided += timer_events((state,), {}, now=now, policy=policy)
            models: dict[str, ServiceModel] = {}
            if waiting:
                teams = {s.team_id for s in waiting if s.team_id}
                models = await (await res.get()).risk_queries.service_models(teams)
            decided += timer_events(waiting, models, now=now, policy=policy)
            if decided:
                await topics.append(decided)
                log.info("risk_timer_decided", events=[(e.type, e.key) for e in decided])
        except Exception:  # a failed tick is retried by the next one; the worker stays up
            log.exception("risk_timer_tick_failed")

    timers.every(MISSED_CONTACT_TICK_S, "risk-targets-gaps-reviews")(risk_timer)
    return risk
