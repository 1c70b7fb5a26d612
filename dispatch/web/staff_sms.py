"""Staff replies by SMS to a paging number: `ACK`, `ESC`, `DONE` with a dispatch's code.

Moved here unchanged from the old Twilio webhook module; the inbound SMS router
(dispatch/web/texts.py) calls `staff_text` with the parsed form's values.
"""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web

from dispatch.crisis.decide import ReplyRefused
from dispatch.crisis.replies import ReplyError, parse_reply
from dispatch.web.context import WebContext, ctx
from dispatch.web.replies import ReplyVerb, dispatch_view, reply_events
from dispatch.web.webhook import twiml_response as _xml
from integrations.twilio import twiml
from projections.models import Dispatch

log = structlog.get_logger(__name__)

CODE_LOOKUP_GRACE_S = 3.0


async def staff_text(
    request: web.Request, *, sender: str, to: str, body: str, message_sid: str
) -> web.Response:
    """A text to the paging number: a reply from someone on the rota, else refused."""
    c = ctx(request)
    staff = await c.read_models.staff_by_phone(sender)
    if staff is None:
        log.warning("reply_from_unknown_number_refused", to=to)
        return _xml(twiml.sms_reply("This number is not on the rota; nothing was changed."))
    return await _staff_reply(request, body, message_sid, staff.staff_id)


async def _staff_reply(
    request: web.Request, body: str, message_sid: str, staff_id: str
) -> web.Response:
    c = ctx(request)
    try:
        reply = parse_reply(body)
    except ReplyError as exc:
        return _xml(twiml.sms_reply(str(exc)))
    row = await _dispatch_by_code(c, reply.code)
    if row is None:
        log.warning("reply_unknown_code", staff_id=staff_id, code=reply.code)
        return _xml(twiml.sms_reply(f"No open dispatch has code {reply.code}."))
    now, sid = c.clock.now(), message_sid
    verb: ReplyVerb = "ack" if reply.verb == "ACK" else "resolve" if reply.verb == "DONE" else "esc"
    try:
        events = reply_events(
            dispatch_view(row),
            verb,
            via="sms",
            staff_id=staff_id,
            reply_id=sid,
            now=now,
            correlation_id=row.correlation_id,
            outcome=reply.outcome,
        )
    except ReplyRefused as exc:
        return _xml(twiml.sms_reply(str(exc)))
    if verb == "ack":
        text = f"{row.short_code} is yours. Caller details are in the dispatch API."
    elif verb == "resolve":
        text = f"{row.short_code} closed: {reply.outcome}"
    else:
        text = f"{row.short_code} passed on: the next person on the rota is being paged."
    await c.spool.record(events)
    log.info(
        "staff_reply_recorded",
        staff_id=staff_id,
        verb=reply.verb,
        dispatch_id=str(row.dispatch_id),
        correlation_id=str(row.correlation_id),
    )
    return _xml(twiml.sms_reply(text))


async def _dispatch_by_code(c: WebContext, code: str) -> Dispatch | None:
    """The dispatch a code names. A page can reach a phone a few milliseconds before the
    projector has written its DispatchOpened row, so an unknown code is looked up again
    for a short, bounded while before the worker is told it is unknown."""
    deadline = asyncio.get_running_loop().time() + CODE_LOOKUP_GRACE_S
    while True:
        row = await c.read_models.dispatch_by_code(code)
        if row is not None or asyncio.get_running_loop().time() >= deadline:
            return row
        await asyncio.sleep(0.05)
