"""The message a caller nobody could reach left: it becomes an event on the open dispatch."""

from __future__ import annotations

import structlog
from aiohttp import web

from dispatch.crisis.events import CallerMessageRecorded
from dispatch.events import derived_id, new_event
from dispatch.web.context import ctx
from dispatch.web.webhook import parsed_form, twiml_response
from integrations.twilio import twiml
from integrations.twilio.forms import RecordingCallback

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()

MESSAGE_PATH = "/twilio/voice/message"
MESSAGE_THANKS = "Thank you. Your message has reached the team. They will call you back."


@routes.post(MESSAGE_PATH)
async def caller_message(request: web.Request) -> web.Response:
    """The caller nobody could reach left a message: it becomes an event for the team."""
    c, rec = ctx(request), await parsed_form(request, RecordingCallback.parse)
    now = c.clock.now()
    who = await c.rota_cache.caller_by_phone(rec.caller_number)
    team_id = request.query.get("team") or who.team_id or ""
    event = new_event(
        CallerMessageRecorded(
            call_sid=rec.call_sid,
            caller_number=rec.caller_number,
            client_id=who.client_id,
            team_id=team_id,
            recording_sid=rec.recording_sid,
            recording_url=rec.recording_url,
            duration_s=max(rec.duration_s, 0),
        ),
        key=who.client_id or f"caller:{rec.call_sid}",
        event_id=derived_id("twilio-recording", rec.recording_sid),
        occurred_at=now,
        recorded_at=now,
        actor="twilio:voice",
        correlation_id=derived_id("twilio-call", rec.call_sid),
    )
    fresh = await c.spool.record([event])
    log.info(
        "caller_message_recorded",
        call_sid=rec.call_sid,
        team_id=team_id,
        retry=not fresh,
        duration_s=rec.duration_s,
        **event.log_context(),
    )
    return twiml_response(twiml.fallback_message(MESSAGE_THANKS, None))
