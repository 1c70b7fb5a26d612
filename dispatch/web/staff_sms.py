"""Staff replies by SMS to a paging number: `ACK`, `ESC`, `DONE` with a dispatch's code.

The edge decides nothing: a reply becomes one StaffReplyReceived on its dispatch's stream
and the dispatch's agent decides it; the worker texts the replier the decision. Only what
needs no dispatch state is answered here at once: an unknown number, a text that is not a
reply, a code no page or dispatch carries.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from dispatch.crisis.replies import ReplyError, parse_reply
from dispatch.replies.desk import LEFT_THE_TEAM, Replier
from dispatch.replies.events import ReplyVerb
from dispatch.web.context import ctx
from dispatch.web.webhook import twiml_response as _xml
from integrations.twilio import twiml

log = structlog.get_logger(__name__)
VERBS: dict[str, ReplyVerb] = {"ACK": "ack", "DONE": "resolve", "ESC": "esc"}


async def staff_text(
    request: web.Request, *, sender: str, to: str, body: str, message_sid: str
) -> web.Response:
    """A text to the paging number: a reply from someone on the rota, else refused."""
    c = ctx(request)
    staff = await c.rota_cache.staff_by_phone(sender)
    if staff is None:
        log.warning("reply_from_unknown_number_refused", to=to)
        return _xml(twiml.sms_reply("This number is not on the rota; nothing was changed."))
    # A leaver's phone: refused at once (StaffLeft, from the staff read model).
    if staff.has_left(c.clock.now()):
        log.warning("reply_from_leaver_refused", staff_id=staff.staff_id, to=to)
        return _xml(twiml.sms_reply(LEFT_THE_TEAM))
    try:
        reply = parse_reply(body)
    except ReplyError as exc:
        return _xml(twiml.sms_reply(str(exc)))
    dispatch = await c.replies.find(reply.code)
    if dispatch is None:
        log.warning("reply_unknown_code", staff_id=staff.staff_id, code=reply.code)
        return _xml(twiml.sms_reply(f"No open dispatch has code {reply.code}."))
    event, fresh = await c.replies.submit(
        dispatch,
        replier=Replier(staff.staff_id, staff.team_id, sender, staff.left_at),
        channel="sms",
        verb=VERBS[reply.verb],
        reply_id=message_sid,
        outcome=reply.outcome,
        confirm_by_sms=True,
    )
    log.info(
        "staff_reply_received",
        staff_id=staff.staff_id,
        verb=reply.verb,
        dispatch_id=str(dispatch.dispatch_id),
        retry=not fresh,
        **event.log_context(),
    )
    return _xml(twiml.empty_sms_reply())
