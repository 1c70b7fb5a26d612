"""The faust risk agent: client events -> the client-risk table -> risk decisions.

The table is keyed by client id and co-partitioned with act.client-events, so each
worker holds the risk of exactly the clients whose events it reads. Decided events are
appended before the table is updated: a crash in between re-decides the same events with
the same ids (deduplicated downstream) instead of losing them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import faust
import structlog

from dispatch.clock import SystemClock
from dispatch.events import Envelope
from dispatch.risk.decide import missed_contact
from dispatch.risk.fold import FOLDED, RiskState, initial
from dispatch.risk.levels import DEFAULT_POLICY, RiskPolicy
from dispatch.risk.service import RiskEngine

if TYPE_CHECKING:
    from dispatch.worker.app import EventTopics
    from dispatch.worker.resources import WorkerResources

log = structlog.get_logger(__name__)
TABLE_NAME = "client-risk"
MISSED_CONTACT_TICK_S = 5.0  # how often the table is scanned for contact gaps


def load_state(raw: Any, client_id: str) -> RiskState:
    return initial(client_id) if raw is None else RiskState.model_validate(raw)


def dump_state(state: RiskState) -> dict[str, Any]:
    return state.model_dump(mode="json")


def register_risk_agent(
    app: faust.App,
    topics: EventTopics,
    res: WorkerResources,
    *,
    partitions: int,
    policy: RiskPolicy = DEFAULT_POLICY,
) -> Any:
    table = app.Table(TABLE_NAME, default=None, partitions=partitions)
    engines: list[RiskEngine] = []

    async def engine() -> RiskEngine:
        if not engines:
            from dispatch.worker.resources import ReadModelRota
            from projections.queries import ReadModels

            pool = (await res.get()).pool
            engines.append(RiskEngine(ReadModelRota(ReadModels(pool)), SystemClock(), policy))
        return engines[0]

    @app.agent(topics.client_events, name="risk")
    async def risk(stream: faust.StreamT[Envelope]) -> None:
        async for message in stream.events():
            event: Envelope = message.value
            if not isinstance(event.payload, FOLDED):
                continue
            with structlog.contextvars.bound_contextvars(**event.log_context()):
                before = load_state(table.get(event.key), event.key)
                offset = message.message.offset
                after, decided = await (await engine()).handle(before, event, offset=offset)
                await topics.append(decided)
                if after is not before:
                    table[event.key] = dump_state(after)
                if decided:
                    log.info("risk_decided", level=after.level, events=[e.type for e in decided])

    async def missed_contacts() -> None:
        """Timers emit events: one MissedContactAlerted per client gap past the target."""
        now = SystemClock().now()
        try:
            alerts = [
                alert
                for key, raw in list(table.items())
                if (alert := missed_contact(load_state(raw, key), now=now, policy=policy))
            ]
            if alerts:
                await topics.append(alerts)
                log.info("missed_contacts_alerted", clients=[a.key for a in alerts])
        except Exception:  # a failed tick is retried by the next one; the worker stays up
            log.exception("missed_contacts_tick_failed")

    app.timer(interval=MISSED_CONTACT_TICK_S)(missed_contacts)
    return risk
