"""The risk agent: client events -> each client's risk state -> risk decisions.

It reads act.client-events with a consumer group of its own, outside faust's streams
(dispatch/worker/batch_reader.py, decision 032): a batch is folded in memory and its decided
events are appended and acked by the broker together. The changed states are kept decoded
until the reader settles, at most every `risk_reader_commit_interval_s` and whenever it
finds nothing new (decision 051): then they are written to the state's changelog and acked
(dispatch/worker/keyed_state.py), each client once however many batches changed it, and
only then are the batches' offsets committed. A crash in between re-decides the same events
with the same ids (deduplicated downstream), and a state already written skips the events
it folded (its last offset), so nothing is lost and nothing decided twice. A state is held
as the compact JSON bytes of RiskState (defaults and repeated fields left out); the clients
of the latest batches are also held decoded (StateCache).

A timer emits, every few seconds, what time alone decides: a client's contact target when
they join a team (from the team's service model on the roster), a missed-contact alert per
gap, an overdue plan review per plan version. It decodes only the states due by its tick
(decision 055): each written state's next due time is kept (`DueIndex`), and every state is
read again only after an assignment restored them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import orjson
import structlog

from dispatch.events import Envelope
from dispatch.risk.decide import needs_contact_target, timer_due_at, timer_events
from dispatch.risk.fold import FOLDED, RiskState, initial
from dispatch.risk.levels import DEFAULT_POLICY, RiskPolicy
from dispatch.settings import Settings
from dispatch.stack.broker import create_topics
from dispatch.stack.faust_settings import internal_replication
from dispatch.topics import CLIENT_EVENTS, TopicSpec
from dispatch.vocabulary import ServiceModel
from dispatch.worker.batch_reader import BatchReader, reader_config, restored
from dispatch.worker.batches import handle_batch, retried
from dispatch.worker.compact import drop_repeats, restore_repeats, to_bytes
from dispatch.worker.due_index import DueIndex
from dispatch.worker.guard import AgentGuard, Delivery
from dispatch.worker.keyed_state import KeyedStateLog
from dispatch.worker.state_cache import CACHE_MAX, StateCache, newest_states_in_slices

if TYPE_CHECKING:
    from dispatch.worker.app import EventTopics
    from dispatch.worker.resources import WorkerServices
    from dispatch.worker.timers import Timers

log = structlog.get_logger(__name__)
STATE_NAME = "risk-state"  # the reader's group and its changelog: <app id>-risk-state
MISSED_CONTACT_TICK_S = 5.0  # how often the states are scanned for targets, gaps and reviews
UNSAVED_MAX = CACHE_MAX  # changed states held decoded, unwritten, at most (as many as cached)
RISK_INPUTS = frozenset(payload.event_type for payload in FOLDED)


# A field -> the field it usually repeats: left out when the same (decision 030).
REPEATS = {
    "effective": "score",  # no contact overdue
    "level": "score_level",  # no crisis floor
    "team_since": "enrolled_at",
    "last_face_to_face": "last_contact_at",
    "last_face_to_face_event": "last_contact_event",
}
_DEFAULTS = {of: RiskState.model_fields[of].default for of in REPEATS.values()}
# The fields of REPEATS. Each one's default is its own JSON (0.0, "stable", None), so one
# that `exclude_defaults` left out is read from the state as it is (-0.0 stays -0.0).
_PAIRED = (*REPEATS, *REPEATS.values())
assert all(
    RiskState.model_fields[f].default is None
    or type(RiskState.model_fields[f].default) in (float, str)
    for f in _PAIRED
)


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
    full = {f: value[f] if f in value else getattr(state, f) for f in _PAIRED}  # one dump
    drop_repeats(value, full, REPEATS)
    return to_bytes(value)


def register_risk_agent(
    topics: EventTopics,
    res: WorkerServices,
    timers: Timers,
    guard_for: Callable[[str], AgentGuard],
    *,
    settings: Settings,
    policy: RiskPolicy = DEFAULT_POLICY,
) -> BatchReader:
    changelog = TopicSpec(
        f"{settings.faust_app_id}-{STATE_NAME}",
        "client id",
        (),
        settings.topic_partitions,
        internal_replication(settings),
        {"cleanup.policy": "compact"},  # only each client's newest state is needed
    )

    async def declare() -> None:
        await create_topics(
            settings.kafka_bootstrap_servers,
            [changelog],
            replication_factor=changelog.replication_factor,
            with_config=not settings.embedded_broker,
        )

    async def write(topic: str, records: Sequence[tuple[bytes, bytes, int]]) -> list[int]:
        return await (await res.get()).publisher.write(topic, records)

    store = KeyedStateLog(
        changelog.name,
        bootstrap=settings.kafka_bootstrap_servers,
        write=write,
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
    )
    cache = StateCache(load_state)
    unsaved: dict[str, tuple[int, RiskState]] = {}  # folded, not yet in the changelog
    due: DueIndex[RiskState] = DueIndex(lambda state: timer_due_at(state, policy))

    async def fold_batch(deliveries: Sequence[Delivery]) -> None:
        items = [
            (d.value, d.offset)
            for d in deliveries
            if isinstance(d.value, Envelope) and isinstance(d.value.payload, FOLDED)
        ]
        if not items:
            return
        partition_of = {
            d.value.key: d.partition for d in deliveries if isinstance(d.value, Envelope)
        }
        services = await res.get()
        engine = services.risk_engine

        def load(key: str) -> RiskState:
            held = unsaved.get(key)
            if held is not None:
                return held[1]
            return cache.get(key, lambda: store.get(partition_of[key], key))

        # The cycle collector is paused by the reader over the whole batch (decision 041).
        states, decided = await engine.handle_many(items, load)
        sent = time.perf_counter()
        if decided and any(restored(d) for d in deliveries):
            decided = await topics.not_archived(decided)  # appended before the broker was lost
        await services.publisher.publish(decided)  # every ack awaited, together
        unsaved.update((k, (partition_of[k], s)) for k, s in states.items())
        cache.put_many(states)
        for key, state in states.items():
            due.note(key, state)
        if decided:
            append_ms = round((time.perf_counter() - sent) * 1000, 1)
            log.info("risk_decided", events=len(decided), inputs=len(items), append_ms=append_ms)

    async def save_states() -> None:
        """The states changed since the last save, each written once and acked."""
        if unsaved:
            await store.save([(p, key, dump_state(state)) for key, (p, state) in unsaved.items()])
            unsaved.clear()

    async def flush() -> None:  # before the reader commits (it holds its lock: no batch runs)
        await retried(guard, save_states, what="state_write", events=len(unsaved))

    def handle_one(delivery: Delivery) -> Callable[[Envelope], Awaitable[None]]:
        async def one(_: Envelope) -> None:  # the guard's per-event path: a batch of one
            await fold_batch([delivery])

        return one

    async def assigned(partitions: Sequence[int]) -> None:
        cache.clear()
        unsaved.clear()  # not committed either: read again from the last commit
        await store.assigned(partitions)
        due.invalidate()

    guard = guard_for("risk")
    reader = BatchReader(
        CLIENT_EVENTS,
        replace(
            reader_config(settings, group=STATE_NAME),
            commit_every_s=settings.risk_reader_commit_interval_s,
        ),
        wanted=RISK_INPUTS,
        handle=lambda batch: handle_batch(guard, batch, fold_batch, handle_one),
        assigned=assigned,
        prepare=declare,
        flush=flush,
        flush_now=lambda: len(unsaved) >= UNSAVED_MAX,
    )

    def newest(key: str) -> RiskState | None:
        held = unsaved.get(key)
        if held is not None:
            return held[1]
        raw = store.find(key)
        return None if raw is None else cache.get(key, lambda: raw)

    async def risk_timer() -> None:
        """Timers emit events: contact targets from the team's service model (looked up in
        the roster read model), one MissedContactAlerted per gap, one PlanReviewOverdue per
        plan version. Only the states due by now are decoded and decided (decision 055);
        after a restore every state is read once, a slice at a time, to index them again."""
        now = res.clock.now()
        try:
            if due.stale:
                every = newest_states_in_slices(store.items(), unsaved, load_state)
                await due.rebuild((state.client_id, state) async for state in every)
            states = []
            for key in due.due(now):
                state = newest(key)
                if state is None:
                    due.note(key, None)  # no longer held here
                else:
                    states.append(state)
            waiting = [s for s in states if s.team_id and needs_contact_target(s)]
            models: dict[str, ServiceModel] = {}
            if waiting:
                teams = {s.team_id for s in waiting if s.team_id}
                models = await (await res.get()).risk_queries.service_models(teams)
            decided = timer_events(states, models, now=now, policy=policy)
            if decided:
                await topics.append(decided)
                log.info("risk_timer_decided", events=[(e.type, e.key) for e in decided])
        except Exception:  # a failed tick is retried by the next one; the worker stays up
            log.exception("risk_timer_tick_failed")

    timers.every(MISSED_CONTACT_TICK_S, "risk-targets-gaps-reviews")(risk_timer)
    return reader
