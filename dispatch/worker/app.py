"""The faust App factory: nothing is created at import time."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import faust
import structlog

from dispatch.clock import Clock, SystemClock
from dispatch.events import Envelope
from dispatch.paging.telephony import Telephony
from dispatch.settings import Settings
from dispatch.stack.faust_settings import faust_app_kwargs
from dispatch.stack.restore_needs import carries_restored
from dispatch.topics import CLIENT_EVENTS, DISPATCH_EVENTS, PAGE_EVENTS, topic_for_event
from dispatch.worker.auditor import register_escalation_auditor
from dispatch.worker.batch_reader import BatchReader, supervised
from dispatch.worker.batches import DRAIN_S, InFlight, drain_time
from dispatch.worker.codec import CODEC_NAME, register_codec
from dispatch.worker.crisis_reader import AGENT as CRISIS_AGENT
from dispatch.worker.crisis_reader import register_crisis_reader
from dispatch.worker.dispatch_agents import page_delivery, register_agents
from dispatch.worker.escalation_agent import register_escalation
from dispatch.worker.failover_agent import register_failover
from dispatch.worker.followup_agent import register_follow_ups
from dispatch.worker.guard import guard_policy, guards, page_retry_policy
from dispatch.worker.heartbeat import register_worker_heartbeat, sum_known
from dispatch.worker.resources import WorkerServices
from dispatch.worker.risk_agent import register_risk_agent
from dispatch.worker.timers import Timers

log = structlog.get_logger(__name__)


class DispatchApp(faust.App):
    """faust.App whose stop (and partition revocation) waits for the events in hand.

    faust's own wait (`stream_wait_empty`) waits until every message any stream has started
    is acked by every stream reading its topic; the messages it drops from the agents'
    queues when it stops the flow never are, so under a backlog a SIGTERM waited until the
    supervisor's SIGKILL. Instead this waits, for DRAIN_S at most, until no agent is
    handling a batch or an event (each acks what it handled before it reports idle), then
    commits the offsets of everything acked (decision 022)."""

    in_flight: InFlight
    drain_s: float = DRAIN_S
    readers: dict[str, BatchReader]  # by agent name

    async def on_start(self) -> None:
        """The readers outside faust's streams start with the app (their group joins run
        beside faust's); a reader that fails crashes the worker (supervised)."""
        await super().on_start()
        for name, reader in self.readers.items():
            self.add_future(supervised(self, name, reader.run))

    async def _consumer_wait_empty(self, consumer: Any, logger: Any) -> None:
        drained = await self.in_flight.idle(self.drain_s)
        if not drained:
            log.warning("worker_stop_left_batches", in_flight=self.in_flight.count)
        await consumer.commit()


HeldIds = Callable[[list[uuid.UUID]], Awaitable[set[uuid.UUID]]]


class EventTopics:
    """The faust topics the agents read and write, all carrying envelopes.

    held: which of some event ids the archive holds already; asked only while an agent
    handles a restored record (header RESTORED): its decisions were appended before the
    broker was lost, are archived, and the lean restore republished what the workers need
    of them, so appending them again would only send a second wave through every agent.
    """

    def __init__(self, app: faust.App, *, held: HeldIds | None = None) -> None:
        self._held = held

        def topic(name: str) -> Any:
            return app.topic(name, key_type=bytes, value_serializer=CODEC_NAME)

        self.client_events = topic(CLIENT_EVENTS)
        self.dispatch_events = topic(DISPATCH_EVENTS)
        self.page_events = topic(PAGE_EVENTS)
        self._by_name = {
            CLIENT_EVENTS: self.client_events,
            DISPATCH_EVENTS: self.dispatch_events,
            PAGE_EVENTS: self.page_events,
        }

    async def append(self, events: list[Envelope]) -> list[tuple[Envelope, int]]:
        """Publish in order and wait for the broker's acks (all sent first, then every ack
        awaited) before the input is committed. The producer keeps one request in flight
        per partition, so each key's events stay in order. While an agent handles a record
        a broker restore published, decisions the archive already holds are not sent again.
        Returns each event sent with the partition that has it."""
        if _handling_restored():
            events = await self.not_archived(events)
        sent = []
        for event in events:
            topic = self._by_name[topic_for_event(event.type)]
            sent.append(await topic.send(key=event.key.encode(), value=event))
        return [(event, (await fut).partition) for event, fut in zip(events, sent, strict=True)]

    async def not_archived(self, events: list[Envelope]) -> list[Envelope]:
        """The events the archive does not hold yet (asked of a restored record's outputs)."""
        if not events or self._held is None:
            return events
        archived = await self._held([event.event_id for event in events])
        return [event for event in events if event.event_id not in archived]


def _handling_restored() -> bool:
    """Is the agent of this task handling a record a broker restore published?"""
    return carries_restored(getattr(faust.current_event(), "headers", None))


def archived_ids(res: WorkerServices) -> HeldIds:
    async def held(ids: list[uuid.UUID]) -> set[uuid.UUID]:
        pool = (await res.get()).pool
        rows = await pool.fetch(
            "SELECT event_id FROM event_archive WHERE event_id = ANY($1::uuid[])", ids
        )
        return {row["event_id"] for row in rows}

    return held


def ready_file(state_dir: Path, pid: int) -> Path:
    return state_dir / f"worker-{pid}.ready"


@dataclass(frozen=True)
class WorkerApp:
    """The faust app, and its timers by name (a test can run one tick)."""

    app: faust.App
    timers: Timers


def faust_worker(app: faust.App, *, loglevel: str = "WARNING") -> Any:
    """The faust Worker that runs `app` (`dispatch worker`), without its terminal spinner,
    logging through the root handlers in place when it is made (dispatch/logs.py's).

    faust's Worker always makes a spinner, and when it has one it sets the root logger to
    DEBUG so that every record turns it: every debug call of aiokafka, faust and mode then
    built a LogRecord only for the handler to drop it (5% of a busy worker's samples).
    Without the spinner the root logger keeps `loglevel`. mode's logging set-up also
    replaces the root handlers with a coloured text one of its own: the libraries' warnings
    then left the worker as plain text, not JSON, and unthrottled."""
    from faust.worker import Worker

    handlers = logging.getLogger().handlers[:]

    class DispatchWorker(Worker):
        def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
            super().on_setup_root_logger(logger, level)
            if handlers:
                logger.handlers[:] = handlers

    worker = DispatchWorker(app, loglevel=loglevel, redirect_stdouts=False)
    worker.spinner = None
    return worker


def create_app(
    settings: Settings, *, clock: Clock | None = None, telephony: Telephony | None = None
) -> WorkerApp:
    """The worker's faust app. One clock reaches every agent and timer; the services are
    built by the composition root on first use, inside faust's loop."""
    if settings.embedded_broker:
        from dispatch.stack.kafka_compat import apply_embedded_broker_compat

        apply_embedded_broker_compat(
            fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
            agents_fetch_max_wait_ms=settings.agents_fetch_max_wait_ms,
        )
    register_codec()
    app = DispatchApp(
        settings.faust_app_id,
        **faust_app_kwargs(settings),
        broker_commit_interval=settings.broker_commit_interval_s,
        stream_wait_empty=False,  # DispatchApp waits for the agents' batches instead
    )
    in_flight = app.in_flight = InFlight()
    app.drain_s = drain_time(settings)
    res = WorkerServices(settings, clock=clock or SystemClock(), telephony=telephony)
    topics = EventTopics(app, held=archived_ids(res))
    timers = Timers(app)
    guard_for = guards(app, guard_policy(settings))
    pages = page_delivery(app, topics, res, in_flight, limit=settings.worker_pages_at_once)
    register_agents(app, topics, res, guard_for, in_flight, pages)
    register_escalation(
        app, topics, res, timers, guard_for, in_flight, pages, tick_s=settings.escalation_tick_s
    )
    risk = register_risk_agent(topics, res, timers, guard_for, settings=settings)
    crisis = register_crisis_reader(topics, res, guard_for(CRISIS_AGENT), pages, settings=settings)
    app.readers = {"risk": risk, "crisis-contacts": crisis}
    register_follow_ups(
        app,
        topics,
        res,
        guard_for,
        in_flight,
        within=timedelta(hours=settings.follow_up_within_h),
    )
    register_failover(
        app,
        topics,
        res,
        timers,
        guard_for,
        in_flight,
        clock=res.clock,
        tick_s=settings.escalation_tick_s,
        redial_delay_s=settings.voice_redial_delay_s,
        retry=page_retry_policy(settings),
    )
    register_escalation_auditor(
        topics,
        res,
        timers,
        tick_s=settings.escalation_audit_tick_s,
        grace_s=settings.escalation_audit_grace_s,
    )
    register_worker_heartbeat(
        app,
        res,
        timers,
        interval_s=settings.worker_heartbeat_s,
        topics=[DISPATCH_EVENTS, PAGE_EVENTS],
        readers_owned=crisis.owned,  # the crisis contacts' partitions of act.client-events
        readers_lag=lambda: sum_known(risk.lag(), crisis.lag()),
    )

    @app.on_rebalance_complete.connect
    async def _ready(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await res.warm()  # ready means able to page: services built, nothing left to import
        if not await crisis.assigned_within(settings.broker_rebalance_timeout_s):
            log.warning("worker_ready_without_crisis_reader")  # its partitions went elsewhere
        path = ready_file(settings.state_dir, os.getpid())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("ready\n")
        log.info("worker_ready", pid=os.getpid())

    @app.on_before_shutdown.connect
    async def _close(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        ready_file(settings.state_dir, os.getpid()).unlink(missing_ok=True)
        # each finishes its batch in hand, commits it and leaves its group
        await asyncio.gather(*(reader.stop() for reader in app.readers.values()))
        await res.close()

    return WorkerApp(app, timers)
