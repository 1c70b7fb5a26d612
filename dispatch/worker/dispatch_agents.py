"""Faust agents: each adapts a topic to a service and appends what the service decided.

Every event goes through the agent's guard (dispatch/worker/guard.py): a failure is
retried in place, and only a poison event is set aside, on the dead-letter topic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import faust
import structlog

from dispatch.events import Envelope
from dispatch.worker.batches import InFlight, run_events
from dispatch.worker.guard import AgentGuard

if TYPE_CHECKING:
    from dispatch.worker.app import EventTopics
    from dispatch.worker.resources import WorkerServices

log = structlog.get_logger(__name__)
CRISIS_CONTACTS = frozenset({"CrisisCallReceived", "CrisisTextReceived"})
GuardFor = Callable[[str], AgentGuard]


def register_agents(
    app: faust.App,
    topics: EventTopics,
    res: WorkerServices,
    guard_for: GuardFor,
    in_flight: InFlight,
) -> None:
    async def open_dispatch(event: Envelope) -> None:
        if event.type not in CRISIS_CONTACTS:
            return
        with structlog.contextvars.bound_contextvars(**event.log_context()):
            services = await res.get()
            decided = await services.crisis_line.handle_contact(event)
            await topics.append(decided)
            log.info("dispatch_decided", events=[e.type for e in decided])

    async def send_page(event: Envelope) -> None:
        if event.type != "PageRequested":
            return
        with structlog.contextvars.bound_contextvars(**event.log_context()):
            services = await res.get()
            await topics.append(await services.notifier.deliver(event))

    async def confirm_reply(event: Envelope) -> None:
        if event.type != "StaffReplyDecided":
            return
        with structlog.contextvars.bound_contextvars(**event.log_context()):
            services = await res.get()
            await services.confirmations.confirm(event)

    crisis_guard = guard_for("dispatch-crisis-contacts")
    notifier_guard = guard_for("notifier")
    confirm_guard = guard_for("reply-confirmations")

    @app.agent(topics.client_events, name="dispatch-crisis-contacts")
    async def dispatch_crisis_contacts(stream: faust.StreamT[Envelope]) -> None:
        await run_events(stream, crisis_guard, in_flight, open_dispatch)

    @app.agent(topics.page_events, name="notifier")
    async def notify(stream: faust.StreamT[Envelope]) -> None:
        await run_events(stream, notifier_guard, in_flight, send_page)

    @app.agent(topics.dispatch_events, name="reply-confirmations")
    async def confirm_replies(stream: faust.StreamT[Envelope]) -> None:
        await run_events(stream, confirm_guard, in_flight, confirm_reply)

    _unused: Any = (dispatch_crisis_contacts, notify, confirm_replies)
