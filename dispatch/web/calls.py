"""Crisis calls: a ring becomes TwiML at once; then the roll-over steps.

Rule one of the crisis line: the caller hears a human being dialled immediately, from data
already in PostgreSQL (or, when PostgreSQL is down, in the edge's memory: rota_cache.py).
The event is spooled durably and relayed to Kafka afterwards. Who is dialled is the call
tree's answer (dispatch/crisis/calltree.py); this module loads its facts. A call to a line
no team owns is put through to DEFAULT_CRISIS_NUMBER, never refused.
"""

from __future__ import annotations

from urllib.parse import urlencode

import structlog
from aiohttp import web

from dispatch.crisis import calltree
from dispatch.crisis.events import CrisisCallReceived
from dispatch.crisis.preferences import NO_PREFERENCE
from dispatch.events import derived_id, new_event
from dispatch.web.carer_line import carer_seen
from dispatch.web.context import WebContext, ctx
from dispatch.web.coverage import lines, note_routing, team_line
from dispatch.web.voicemail import MESSAGE_PATH
from dispatch.web.webhook import bad_request, parsed_form, twiml_response
from integrations.twilio import twiml
from integrations.twilio.forms import DialResult, InboundCall

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()

DIAL_TIMEOUT_S = 20


@routes.post("/twilio/voice")
async def crisis_call(request: web.Request) -> web.Response:
    """An inbound crisis call: connect the caller to the on-duty worker and spool the event."""
    c, call = ctx(request), await parsed_form(request, InboundCall.parse)
    now, facts = c.clock.now(), c.rota_cache
    who = await facts.caller_by_phone(call.caller_number)
    team_id = who.team_id or await facts.team_for_line(call.line_number)
    if team_id is None:
        return _unknown_line(c, call)
    home, fallback_team = await lines(c, team_id, now)
    # A carer's call is routed by the client's preferences; an unknown caller has none.
    prefs = await facts.client_preferences(who.client_id) if who.client_id else None
    step = calltree.ring(home, fallback_team, prefs or NO_PREFERENCE, callback_minutes=_promise(c))
    seen = await carer_seen(c, who)  # a carer: routed the same, told what consent allows
    if seen is not None:
        step = calltree.tell_carer(step, seen)
    note_routing(home, step.team_id)
    dialled = step.staff_id if isinstance(step, calltree.Dial) else None
    event = new_event(
        CrisisCallReceived(
            call_sid=call.call_sid,
            caller_number=call.caller_number,
            caller_kind=who.kind,
            client_id=who.client_id,
            team_id=step.team_id,
            dialled_staff_id=dialled,
            carer_id=who.carer_id if seen else None,
            carer_consent=seen.shares if seen else None,
        ),
        key=who.client_id or f"caller:{call.call_sid}",
        event_id=derived_id("twilio-call", call.call_sid),
        occurred_at=now,
        recorded_at=now,
        actor="twilio:voice",
    )
    fresh = await c.spool.record([event])
    log.info(
        "crisis_call_received",
        call_sid=call.call_sid,
        team_id=step.team_id,
        retry=not fresh,
        caller_kind=who.kind,
        dialled_staff_id=dialled,
        preference_unmet=step.unmet if isinstance(step, calltree.Dial) else (),
        routed_from_team_id=team_id if team_id != step.team_id else None,
        **event.log_context(),
    )
    return _render(c, step, calltree.FALLBACK_STEP)


@routes.post("/twilio/voice/next")
async def dial_finished(request: web.Request) -> web.Response:
    """The dialled worker did not answer: roll to the backup, then the team's fallback line."""
    c, dial = ctx(request), await parsed_form(request, DialResult.parse)
    if dial.connected:
        return twiml_response(twiml.hangup())
    team_id = request.query.get("team", "")
    try:
        step = int(request.query.get("step", "1"))
    except ValueError:
        raise bad_request("step must be an integer", "step") from None
    line = await team_line(c, team_id, c.clock.now())
    dialled = request.query.get("dialled")
    return _render(
        c,
        calltree.after_no_answer(line, step, dialled=dialled, callback_minutes=_promise(c)),
        step,
    )


def _unknown_line(c: WebContext, call: InboundCall) -> web.Response:
    """No team owns the dialled line: put the caller through to the default crisis number."""
    log.error("crisis_call_to_unknown_line", call_sid=call.call_sid, line=call.line_number,
              put_through_to=c.settings.default_crisis_number)  # fmt: skip
    return twiml_response(
        twiml.fallback_message(calltree.OUT_OF_HOURS, c.settings.default_crisis_number)
    )


def _promise(c: WebContext) -> int:
    return c.settings.callback_promise_minutes


def _render(c: WebContext, step: calltree.CallStep, at_step: int) -> web.Response:
    """The call tree's answer as TwiML, with the callback URL of what comes next."""
    if isinstance(step, calltree.LeaveMessage):
        log.error("crisis_call_unanswered", team_id=step.team_id, step=at_step)
        action = f"{c.public_base_url}{MESSAGE_PATH}?{urlencode({'team': step.team_id})}"
        return twiml_response(twiml.leave_message(step.say, action))
    query = {"team": step.team_id, "step": str(step.next_step)}
    if step.first_dialled:
        query["dialled"] = step.first_dialled  # who rang first; the next step dials the other
    next_url = f"{c.public_base_url}/twilio/voice/next?{urlencode(query)}"
    return twiml_response(twiml.connect_caller(step.say, step.number, DIAL_TIMEOUT_S, next_url))
