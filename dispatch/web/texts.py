"""Inbound texts: one to a crisis line opens a dispatch; one to a paging number is a staff reply."""

from __future__ import annotations

import structlog
from aiohttp import web

from dispatch.crisis.calltree import answering
from dispatch.crisis.events import CrisisTextReceived
from dispatch.events import derived_id, new_event
from dispatch.web import staff_sms
from dispatch.web.context import ctx
from dispatch.web.coverage import lines, note_routing
from dispatch.web.webhook import parsed_form, twiml_response
from integrations.twilio import twiml
from integrations.twilio.forms import InboundSms

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()

TEXT_THANKS = (
    "Thank you. Your message has reached the crisis team and someone will contact you "
    "shortly. If you are in immediate danger, call 911."
)
MAX_BODY = 1600  # Twilio's own limit on one message


@routes.post("/twilio/sms")
async def inbound_sms(request: web.Request) -> web.Response:
    """A text to the crisis line opens a dispatch; a text to the paging number is a staff reply."""
    c, sms = ctx(request), await parsed_form(request, InboundSms.parse)
    line_team = await c.rota_cache.team_for_line(sms.to_number)
    if line_team is None:
        return await staff_sms.staff_text(
            request,
            sender=sms.sender_number,
            to=sms.to_number,
            body=sms.body,
            message_sid=sms.message_sid,
        )
    now = c.clock.now()
    who = await c.rota_cache.caller_by_phone(sms.sender_number)
    home, fallback_team = await lines(c, who.team_id or line_team, now)
    team_id = answering(home, fallback_team).team_id
    note_routing(home, team_id)
    event = new_event(
        CrisisTextReceived(
            message_sid=sms.message_sid,
            sender_number=sms.sender_number,
            caller_kind=who.kind,
            client_id=who.client_id,
            team_id=team_id,
            body=sms.body[:MAX_BODY],
        ),
        key=who.client_id or f"caller:{sms.message_sid}",
        event_id=derived_id("twilio-sms", sms.message_sid),
        occurred_at=now,
        recorded_at=now,
        actor="twilio:sms",
    )
    await c.spool.record([event])
    log.info(
        "crisis_text_received",
        message_sid=sms.message_sid,
        team_id=team_id,
        caller_kind=who.kind,
        **event.log_context(),
    )
    return twiml_response(twiml.sms_reply(TEXT_THANKS))
