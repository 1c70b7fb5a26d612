"""The paging call's Gather action: 1 takes the dispatch, 2 passes it on (Twilio-signed).

The callee is the person the page was for: the notification id in the action URL names the
page, and the page names its staff member. The decision events go through the ingress spool,
like SMS replies, and whatever is refused (already taken, closed) is said to the callee.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode
from uuid import UUID

import structlog
from aiohttp import web

from dispatch.crisis.decide import ReplyRefused
from dispatch.crisis.page_text import voice_page_say
from dispatch.events import Envelope
from dispatch.paging.notifier import GATHER_PATH
from dispatch.web.context import WebContext, ctx
from dispatch.web.replies import dispatch_view, reply_events
from dispatch.web.webhook import page_ids, parsed_form
from integrations.twilio import twiml
from integrations.twilio.forms import GatherResult
from projections.models import Dispatch, Page

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()

PAGE_LOOKUP_GRACE_S = 3.0
NOT_UNDERSTOOD = "Sorry, please press 1 or 2."
NO_CHOICE = "Nothing was chosen, so the page stays open. Goodbye."
UNKNOWN = "This page is no longer known. Goodbye."


def _say(text: str) -> web.Response:
    return web.Response(text=twiml.fallback_message(text, None), content_type="text/xml")


@routes.post(GATHER_PATH)
async def page_digits(request: web.Request) -> web.Response:
    """Pressing 1 -> DispatchAcknowledged; 2 -> EscalationRequested; else re-prompt once."""
    c = ctx(request)
    notification_id, dispatch_id = page_ids(request)
    gathered = await parsed_form(request, GatherResult.parse)
    page = await _page(c, dispatch_id, notification_id)
    row = await c.read_models.dispatch(dispatch_id)
    if page is None or row is None:
        log.warning("voice_page_unknown", notification_id=str(notification_id))
        return _say(UNKNOWN)
    digits, call_sid = gathered.digits, gathered.call_sid
    if digits not in {"1", "2"}:
        if request.query.get("retry"):
            return _say(NO_CHOICE)
        query = urlencode({"n": str(notification_id), "d": str(dispatch_id), "retry": "1"})
        say = voice_page_say(code=row.short_code, risk_level=row.risk_level)  # type: ignore[arg-type]
        return web.Response(
            text=twiml.voice_page(
                f"{NOT_UNDERSTOOD} {say}", f"{c.public_base_url}{GATHER_PATH}?{query}"
            ),
            content_type="text/xml",
        )
    try:
        event, text = _decide(c, row, page.staff_id, digits, call_sid)
    except ReplyRefused as exc:
        return _say(f"{exc} Goodbye.")
    await c.spool.record([event])
    log.info(
        "voice_page_answered",
        staff_id=page.staff_id,
        digits=digits,
        dispatch_id=str(dispatch_id),
        notification_id=str(notification_id),
        correlation_id=str(row.correlation_id),
    )
    return _say(text)


def _decide(
    c: WebContext, row: Dispatch, staff_id: str, digits: str, call_sid: str
) -> tuple[Envelope, str]:
    now = c.clock.now()
    spelled = ", ".join(row.short_code)
    [event] = reply_events(
        dispatch_view(row),
        "ack" if digits == "1" else "esc",
        via="voice",
        staff_id=staff_id,
        reply_id=call_sid,
        now=now,
        correlation_id=row.correlation_id,
    )
    if digits == "1":
        return event, f"Dispatch {spelled} is yours. Details are in the dispatch app. Goodbye."
    return event, f"Dispatch {spelled} is passed on to the next person. Goodbye."


async def _page(c: WebContext, dispatch_id: UUID, notification_id: UUID) -> Page | None:
    """The page the call was for. A call can be answered before the projector has written the
    PageRequested row, so it is looked up again for a short, bounded while."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PAGE_LOOKUP_GRACE_S
    while True:
        pages = await c.read_models.pages(dispatch_id)
        found = next((p for p in pages if p.notification_id == notification_id), None)
        if (found is not None and found.staff_id) or loop.time() >= deadline:
            return found
        await asyncio.sleep(0.05)
