"""The crisis-contact reader: each crisis call or text -> a dispatch, its plan and its pages.

Crisis contacts share act.client-events with every contact, signal and enrolment of every
client. Read through faust's stream, a call waited behind every such event before it (a
call right after 30,000 client events: paged after 10 s, bench_latency --burst). So they
are read by a consumer group of their own, in batches (dispatch/worker/batch_reader.py,
decision 052): other event types are passed over at the bytes' head, undecoded.

A batch's contacts are decided side by side, WORKER_CRISIS_CONTACTS_AT_ONCE at a time (each
waits on about four database reads and the broker's acks of its events: with too few at
once, calls queue in the worker behind those waits; decision 059), each under the agent's
guard (a failure is retried in place; a poison contact alone is dead-lettered), and
one caller's or client's contacts one at a time in the order read (KeyedTurns), so their
dispatches keep that order. The batch's offsets are committed only once every contact in
it is decided and its events acked by the broker: a crash re-reads the batch, and the
dispatch's events, whose ids come from the contact, are deduplicated downstream.

The group is new: a partition it never committed starts where faust's group had committed
it, so neither is an old call decided again nor a call made while no worker ran skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import structlog

from dispatch.events import Envelope
from dispatch.settings import Settings
from dispatch.topics import CLIENT_EVENTS
from dispatch.worker.batch_reader import BatchReader, reader_config, restored
from dispatch.worker.group_start import hand_over
from dispatch.worker.guard import AgentGuard, Delivery, Handler
from dispatch.worker.keyed_turns import KeyedTurns
from dispatch.worker.pages_at_once import PagesAtOnce

if TYPE_CHECKING:
    from dispatch.worker.app import EventTopics
    from dispatch.worker.resources import WorkerServices

log = structlog.get_logger(__name__)
AGENT = "dispatch-crisis-contacts"  # its guard's name, in dead letters and retry warnings
GROUP = "crisis-contacts"  # the reader's group: <app id>-crisis-contacts
CRISIS_CONTACTS = frozenset({"CrisisCallReceived", "CrisisTextReceived"})
BATCH_MAX = 500  # records per fetch: the next batch waits for this one's calls
# Offsets committed at most this often (and whenever a poll finds nothing new): a crash
# re-decides at most this much, which the dispatches' ids make harmless.
COMMIT_EVERY_S = 1.0


def register_crisis_reader(
    topics: EventTopics,
    res: WorkerServices,
    guard: AgentGuard,
    pages: PagesAtOnce,
    *,
    settings: Settings,
) -> BatchReader:
    turns = KeyedTurns()

    def open_dispatch(delivery: Delivery) -> Handler:
        async def decide(contact: Envelope) -> None:
            with structlog.contextvars.bound_contextvars(**contact.log_context()):
                services = await res.get()
                decided = await services.crisis_line.handle_contact(contact)
                if restored(delivery):  # appended before the broker was lost: not again
                    decided = await topics.not_archived(decided)
                pages.after_append(await topics.append(decided))  # its page goes out now
                log.info("dispatch_decided", events=[e.type for e in decided])

        return decide

    async def decide_one(delivery: Delivery, slots: asyncio.Semaphore) -> None:
        try:
            key = delivery.key.decode("utf-8", "replace") if delivery.key else ""
            async with turns.turn(key):
                await guard.handle(delivery, open_dispatch(delivery))
        finally:
            slots.release()

    async def decide_batch(batch: Sequence[Delivery]) -> None:
        """Every contact of the batch decided (or dead-lettered); they start in the order
        read, so each key's turns are asked in that order."""
        slots = asyncio.Semaphore(settings.worker_crisis_contacts_at_once)
        async with asyncio.TaskGroup() as group:
            for delivery in batch:
                await slots.acquire()
                group.create_task(decide_one(delivery, slots))

    config = reader_config(settings, group=GROUP, pages_wait=True)
    return BatchReader(
        CLIENT_EVENTS,
        replace(config, batch_max=BATCH_MAX, commit_every_s=COMMIT_EVERY_S),
        wanted=CRISIS_CONTACTS,
        handle=decide_batch,
        prepare=hand_over(
            settings.kafka_bootstrap_servers,
            CLIENT_EVENTS,
            group=config.group_id,
            earlier=settings.faust_app_id,  # faust's group, which read them before
        ),
    )
