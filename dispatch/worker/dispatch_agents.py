"""Faust agents: each adapts a topic to a service and appends what the service decided.

Every event goes through the agent's guard (dispatch/worker/guard.py): a failure is
retried in place, and only a poison event is set aside, on the dead-letter topic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import faust
import structlog
from faust.types import TP

from dispatch.events import Envelope
from dispatch.topics import PAGE_EVENTS
from dispatch.worker.batches import InFlight, run_events
from dispatch.worker.guard import AgentGuard
from dispatch.worker.keyed_turns import KeyedTurns
from dispatch.worker.pages_at_once import PagesAtOnce
from dispatch.worker.side_by_side import run_side_by_side

if TYPE_CHECKING:
    from dispatch.worker.app import EventTopics
    from dispatch.worker.resources import WorkerServices

log = structlog.get_logger(__name__)
PAGE_REQUESTS = frozenset({"PageRequested"})
REPLY_DECISIONS = frozenset({"StaffReplyDecided"})
# Pages in flight at once per worker. A page the provider keeps failing is retried in place
# for seconds (and an in-doubt one waits for its callback): one at a time, an outage of the
# provider queued every later page behind it. Events are acked strictly in the order read
# (dispatch/worker/side_by_side.py), so an offset is committed only once every earlier page
# is handled, and the pages of one dispatch still go one at a time, in the order they were
# read (KeyedTurns), so a page delivered twice is never sent twice.
NOTIFIER_CONCURRENCY = 4


GuardFor = Callable[[str], AgentGuard]


def page_delivery(
    app: faust.App, topics: EventTopics, res: WorkerServices, in_flight: InFlight, *, limit: int
) -> PagesAtOnce:
    """The notifier's delivery of a page, its outcome appended, by either way: the page
    topic's, or at once by the worker that appended it (dispatch/worker/pages_at_once.py),
    at most `limit` (WORKER_PAGES_AT_ONCE) going out at once."""

    async def deliver(event: Envelope) -> None:
        services = await res.get()
        await topics.append(await services.notifier.deliver(event))

    def owns(partition: int) -> bool:
        return TP(PAGE_EVENTS, partition) in app.consumer.assignment()

    return PagesAtOnce(deliver, owns, KeyedTurns(), in_flight, limit=limit)


def register_agents(
    app: faust.App,
    topics: EventTopics,
    res: WorkerServices,
    guard_for: GuardFor,
    in_flight: InFlight,
    pages: PagesAtOnce,
) -> None:
    async def send_page(event: Envelope) -> None:
        if event.type not in PAGE_REQUESTS:
            return
        with structlog.contextvars.bound_contextvars(**event.log_context()):
            await pages.from_topic(event)  # unless this worker sent it already

    async def confirm_reply(event: Envelope) -> None:
        if event.type not in REPLY_DECISIONS:
            return
        with structlog.contextvars.bound_contextvars(**event.log_context()):
            services = await res.get()
            await services.confirmations.confirm(event)

    notifier_guard = guard_for("notifier")
    confirm_guard = guard_for("reply-confirmations")

    # Not faust's `concurrency=N`: its actors ack out of order and it can commit past an
    # event still in flight (dispatch/worker/side_by_side.py). Crisis contacts are read by a
    # reader of their own (dispatch/worker/crisis_reader.py).
    @app.agent(topics.page_events, name="notifier")
    async def notify(stream: faust.StreamT[Envelope]) -> None:
        await run_side_by_side(
            stream, notifier_guard, in_flight, send_page, limit=NOTIFIER_CONCURRENCY
        )

    @app.agent(topics.dispatch_events, name="reply-confirmations")
    async def confirm_replies(stream: faust.StreamT[Envelope]) -> None:
        await run_events(stream, confirm_guard, in_flight, confirm_reply)

    _unused: Any = (notify, confirm_replies)
