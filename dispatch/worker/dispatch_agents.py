"""Faust agents: each adapts a topic to a service and appends what the service decided."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import faust
import structlog

from dispatch.events import Envelope

if TYPE_CHECKING:
    from dispatch.worker.app import EventTopics
    from dispatch.worker.resources import WorkerServices

log = structlog.get_logger(__name__)
CRISIS_CONTACTS = frozenset({"CrisisCallReceived", "CrisisTextReceived"})


def register_agents(app: faust.App, topics: EventTopics, res: WorkerServices) -> None:
    @app.agent(topics.client_events, name="dispatch-crisis-contacts")
    async def dispatch_crisis_contacts(stream: faust.StreamT[Envelope]) -> None:
        async for event in stream:
            if event.type not in CRISIS_CONTACTS:
                continue
            with structlog.contextvars.bound_contextvars(**event.log_context()):
                services = await res.get()
                decided = await services.crisis_line.handle_contact(event)
                await topics.append(decided)
                log.info("dispatch_decided", events=[e.type for e in decided])

    @app.agent(topics.page_events, name="notifier")
    async def notify(stream: faust.StreamT[Envelope]) -> None:
        async for event in stream:
            if event.type != "PageRequested":
                continue
            with structlog.contextvars.bound_contextvars(**event.log_context()):
                services = await res.get()
                await topics.append(await services.notifier.deliver(event))

    @app.agent(topics.dispatch_events, name="reply-confirmations")
    async def confirm_replies(stream: faust.StreamT[Envelope]) -> None:
        async for event in stream:
            if event.type != "StaffReplyDecided":
                continue
            with structlog.contextvars.bound_contextvars(**event.log_context()):
                services = await res.get()
                await services.confirmations.confirm(event)

    _unused: Any = (dispatch_crisis_contacts, notify, confirm_replies)
