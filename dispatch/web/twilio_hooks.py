"""Twilio webhooks: a ring becomes TwiML at once; a reply or status becomes an event.

Rule one of the crisis line: the caller hears a human being dialled immediately, from data
already in PostgreSQL. The event is spooled durably and relayed to Kafka afterwards.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from urllib.parse import urlencode
from uuid import UUID

import structlog
from aiohttp import web

from dispatch.crisis.decide import ReplyRefused
from dispatch.crisis.events import CallerMessageRecorded, CrisisCallReceived, CrisisTextReceived
from dispatch.crisis.preferences import NO_PREFERENCE, choose
from dispatch.crisis.replies import ReplyError, parse_reply
from dispatch.events import derived_id, new_event
from dispatch.paging.events import PageDelivered, PageFailed
from dispatch.web.context import WebContext, ctx
from dispatch.web.replies import ReplyVerb, dispatch_view, reply_events
from integrations.twilio import twiml
from projections.models import Dispatch, OnDuty

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()

GREETING = "You have reached the crisis line. Connecting you to the on-call worker now."
NOBODY = (
    "We could not connect you just now. The team has your call and will call you back "
    "within {minutes} minutes. If you are in immediate danger, call 911. "
    "You can leave a message for the team after the tone; press the hash key when done."
)
MESSAGE_THANKS = "Thank you. Your message has reached the team. They will call you back."
DIAL_TIMEOUT_S = 20
CODE_LOOKUP_GRACE_S = 3.0


def _xml(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/xml")


async def _form(request: web.Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.post()).items()}


@routes.post("/twilio/voice")
async def crisis_call(request: web.Request) -> web.Response:
    """An inbound crisis call: connect the caller to the on-duty worker and spool the event."""
    c, form = ctx(request), await _form(request)
    call_sid, caller = form.get("CallSid", ""), form.get("From", "")
    if not call_sid:
        raise web.HTTPBadRequest(reason="missing CallSid")
    now = c.clock.now()
    who = await c.read_models.caller_by_phone(caller)
    team_id = who.team_id or await c.read_models.team_for_line(form.get("To", ""))
    if team_id is None:
        raise web.HTTPNotFound(reason="no team answers this crisis line number")
    home_team = team_id
    team_id, on_duty = await _covering_team(c, team_id, now)
    # A carer's call is routed by the client's preferences; an unknown caller has none.
    prefs = await c.read_models.client_preferences(who.client_id) if who.client_id else None
    choice = choose([on_duty.primary, on_duty.backup], prefs or NO_PREFERENCE)
    first = choice.person
    event = new_event(
        CrisisCallReceived(
            call_sid=call_sid,
            caller_number=caller,
            caller_kind=who.kind,
            client_id=who.client_id,
            team_id=team_id,
            dialled_staff_id=first.staff_id if first else None,
        ),
        key=who.client_id or f"caller:{call_sid}",
        event_id=derived_id("twilio-call", call_sid),
        occurred_at=now,
        recorded_at=now,
        actor="twilio:voice",
    )
    fresh = await c.spool.record([event])
    log.info(
        "crisis_call_received",
        call_sid=call_sid,
        team_id=team_id,
        retry=not fresh,
        caller_kind=who.kind,
        dialled_staff_id=first.staff_id if first else None,
        preference_unmet=choice.unmet,
        routed_from_team_id=home_team if home_team != team_id else None,
        **event.log_context(),
    )
    if first is None:
        return await _next_step(request, team_id, step=2)
    next_url = _next_url(c.public_base_url, team_id, 1, dialled=first.staff_id)
    return _xml(twiml.connect_caller(GREETING, first.phone, DIAL_TIMEOUT_S, next_url))


async def _covering_team(c: WebContext, team_id: str, at: datetime) -> tuple[str, OnDuty]:
    """The team that answers this team's line at `at`, and who is on duty there.

    Outside a team's covered hours (ICM: 12 hours a day) its named fallback team takes the
    call when that team is covered; the hop is one step, so two teams that each name the
    other can never loop. A fallback number (an external crisis line) is dialled by the
    roll-over steps instead."""
    on_duty = await c.read_models.on_duty(team_id, at)
    if not on_duty.covered and on_duty.fallback_team_id:
        fallback = await c.read_models.on_duty(on_duty.fallback_team_id, at)
        if fallback.covered:
            log.info(
                "crisis_line_out_of_hours",
                team_id=team_id,
                fallback_team_id=on_duty.fallback_team_id,
            )
            return on_duty.fallback_team_id, fallback
    return team_id, on_duty


def _next_url(base: str, team_id: str, step: int, *, dialled: str | None = None) -> str:
    query = {"team": team_id, "step": str(step)}
    if dialled:
        query["dialled"] = dialled  # who rang first; the next step dials the other one
    return f"{base}/twilio/voice/next?{urlencode(query)}"


@routes.post("/twilio/voice/next")
async def dial_finished(request: web.Request) -> web.Response:
    """The dialled worker did not answer: roll to the backup, then the team's fallback line."""
    form = await _form(request)
    if form.get("DialCallStatus") == "completed":
        return _xml(twiml.hangup())
    team_id = request.query.get("team", "")
    try:
        step = int(request.query.get("step", "1"))
    except ValueError:
        raise web.HTTPBadRequest(reason="step must be an integer") from None
    return await _next_step(request, team_id, step, dialled=request.query.get("dialled"))


async def _next_step(
    request: web.Request, team_id: str, step: int, *, dialled: str | None = None
) -> web.Response:
    c = ctx(request)
    if step == 1:
        on_duty = await c.read_models.on_duty(team_id, c.clock.now())
        if dialled is None:  # a callback URL from before preferences: the primary rang first
            dialled = on_duty.primary.staff_id if on_duty.primary else None
        others = [p for p in (on_duty.primary, on_duty.backup) if p and p.staff_id != dialled]
        if others:
            return _xml(
                twiml.connect_caller(
                    "Still connecting you.",
                    others[0].phone,
                    DIAL_TIMEOUT_S,
                    _next_url(c.public_base_url, team_id, 2),
                )
            )
    if step <= 2:
        team = await c.read_models.team(team_id)
        coverage = await c.read_models.on_duty(team_id, c.clock.now())
        # Outside covered hours the coverage's own fallback number comes first.
        number = coverage.fallback_number or (team.fallback_number if team else None)
        if number:
            return _xml(
                twiml.connect_caller(
                    "Connecting you to the out-of-hours crisis service.",
                    number,
                    DIAL_TIMEOUT_S,
                    _next_url(c.public_base_url, team_id, 3),
                )
            )
    log.error("crisis_call_unanswered", team_id=team_id, step=step)
    # The dispatch stays open and escalating; the caller hears when to expect a call back.
    text = NOBODY.format(minutes=c.settings.callback_promise_minutes)
    action = f"{c.public_base_url}/twilio/voice/message?{urlencode({'team': team_id})}"
    return _xml(twiml.leave_message(text, action))


@routes.post("/twilio/voice/message")
async def caller_message(request: web.Request) -> web.Response:
    """The caller nobody could reach left a message: it becomes an event for the team."""
    c, form = ctx(request), await _form(request)
    call_sid, recording_sid = form.get("CallSid", ""), form.get("RecordingSid", "")
    if not call_sid or not recording_sid:
        raise web.HTTPBadRequest(reason="missing CallSid or RecordingSid")
    try:
        duration = int(form.get("RecordingDuration", "0"))
    except ValueError:
        raise web.HTTPBadRequest(reason="RecordingDuration must be an integer") from None
    now = c.clock.now()
    who = await c.read_models.caller_by_phone(form.get("From", ""))
    team_id = request.query.get("team") or who.team_id or ""
    call_event_id = derived_id("twilio-call", call_sid)
    event = new_event(
        CallerMessageRecorded(
            call_sid=call_sid,
            caller_number=form.get("From", ""),
            client_id=who.client_id,
            team_id=team_id,
            recording_sid=recording_sid,
            recording_url=form.get("RecordingUrl", ""),
            duration_s=max(duration, 0),
        ),
        key=who.client_id or f"caller:{call_sid}",
        event_id=derived_id("twilio-recording", recording_sid),
        occurred_at=now,
        recorded_at=now,
        actor="twilio:voice",
        correlation_id=call_event_id,
    )
    fresh = await c.spool.record([event])
    log.info(
        "caller_message_recorded",
        call_sid=call_sid,
        team_id=team_id,
        retry=not fresh,
        duration_s=duration,
        **event.log_context(),
    )
    return _xml(twiml.fallback_message(MESSAGE_THANKS, None))


@routes.post("/twilio/sms")
async def inbound_sms(request: web.Request) -> web.Response:
    """A text to the crisis line opens a dispatch; a text to the paging number is a staff reply."""
    c, form = ctx(request), await _form(request)
    sender, to = form.get("From", ""), form.get("To", "")
    if await c.read_models.team_for_line(to) is not None:
        return await _crisis_text(request, form)
    staff = await c.read_models.staff_by_phone(sender)
    if staff is None:
        log.warning("reply_from_unknown_number_refused", to=to)
        return _xml(twiml.sms_reply("This number is not on the rota; nothing was changed."))
    return await _staff_reply(request, form, staff.staff_id)


async def _crisis_text(request: web.Request, form: dict[str, str]) -> web.Response:
    c = ctx(request)
    sid, sender = form.get("MessageSid", ""), form.get("From", "")
    if not sid:
        raise web.HTTPBadRequest(reason="missing MessageSid")
    now = c.clock.now()
    who = await c.read_models.caller_by_phone(sender)
    team_id = who.team_id or await c.read_models.team_for_line(form.get("To", ""))
    assert team_id is not None
    team_id, _ = await _covering_team(c, team_id, now)
    event = new_event(
        CrisisTextReceived(
            message_sid=sid,
            sender_number=sender,
            caller_kind=who.kind,
            client_id=who.client_id,
            team_id=team_id,
            body=form.get("Body", "")[:1600],
        ),
        key=who.client_id or f"caller:{sid}",
        event_id=derived_id("twilio-sms", sid),
        occurred_at=now,
        recorded_at=now,
        actor="twilio:sms",
    )
    await c.spool.record([event])
    log.info(
        "crisis_text_received",
        message_sid=sid,
        team_id=team_id,
        caller_kind=who.kind,
        **event.log_context(),
    )
    return _xml(
        twiml.sms_reply(
            "Thank you. Your message has reached the crisis team and someone will contact you "
            "shortly. If you are in immediate danger, call 911."
        )
    )


async def _staff_reply(request: web.Request, form: dict[str, str], staff_id: str) -> web.Response:
    c = ctx(request)
    try:
        reply = parse_reply(form.get("Body", ""))
    except ReplyError as exc:
        return _xml(twiml.sms_reply(str(exc)))
    row = await _dispatch_by_code(c, reply.code)
    if row is None:
        log.warning("reply_unknown_code", staff_id=staff_id, code=reply.code)
        return _xml(twiml.sms_reply(f"No open dispatch has code {reply.code}."))
    now, sid = c.clock.now(), form.get("MessageSid", "")
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


@routes.post("/twilio/status")
async def message_status(request: web.Request) -> web.Response:
    """Status callbacks of pages.

    SMS: delivered -> PageDelivered; failed/undelivered -> PageFailed.
    Voice: answered by a person -> PageDelivered (not an acknowledgement: only pressing 1 is);
    answered by a machine, no-answer, busy, failed, canceled -> PageFailed with the reason.
    """
    c, form = ctx(request), await _form(request)
    try:
        notification_id, dispatch_id = UUID(request.query["n"]), UUID(request.query["d"])
    except (KeyError, ValueError):
        raise web.HTTPBadRequest(reason="status callback needs n and d query ids") from None
    if form.get("CallStatus"):
        outcome = _call_outcome(form, notification_id, dispatch_id)
    else:
        outcome = _message_outcome(form, notification_id, dispatch_id)
    if outcome is None:
        return web.Response(status=204)
    payload, dedup = outcome
    now = c.clock.now()
    row = await c.read_models.dispatch(dispatch_id)
    event = new_event(
        payload,
        key=str(dispatch_id),
        event_id=derived_id(notification_id, dedup),
        occurred_at=now,
        recorded_at=now,
        actor="twilio:status",
        correlation_id=row.correlation_id if row else None,
    )
    await c.spool.record([event])
    log.info(
        "page_status", notification_id=str(notification_id), status=dedup, **event.log_context()
    )
    return web.Response(status=204)


Outcome = tuple[PageDelivered | PageFailed, str]  # the event and its dedup key
CALL_UNANSWERED = frozenset({"no-answer", "busy", "failed", "canceled"})


def _message_outcome(form: dict[str, str], n: UUID, d: UUID) -> Outcome | None:
    status, sid = form.get("MessageStatus", ""), form.get("MessageSid", "")
    if status == "delivered":
        return PageDelivered(
            notification_id=n, dispatch_id=d, provider_sid=sid, provider_status=status
        ), status
    if status in {"failed", "undelivered"}:
        reason = f"{status} {form.get('ErrorCode', '')}".strip()
        return PageFailed(
            notification_id=n,
            dispatch_id=d,
            channel="sms",
            reason=reason,
            provider_fault=False,
            provider_sid=sid,
        ), status
    return None


def _call_outcome(form: dict[str, str], n: UUID, d: UUID) -> Outcome | None:
    """A voice page's progress. AnsweredBy comes with the answered and completed callbacks;
    both map to one event (same dedup key), so a machine is reported once."""
    status, sid = form.get("CallStatus", ""), form.get("CallSid", "")
    answered_by = form.get("AnsweredBy", "")
    if answered_by.startswith("machine") or answered_by == "fax":
        reason = f"answered-by-machine {answered_by}"
        failed = PageFailed(
            notification_id=n,
            dispatch_id=d,
            channel="voice",
            reason=reason,
            provider_fault=False,
            provider_sid=sid,
        )
        return failed, "answered-by-machine"
    if status in CALL_UNANSWERED:
        failed = PageFailed(
            notification_id=n,
            dispatch_id=d,
            channel="voice",
            reason=f"{status} {form.get('ErrorCode', '')}".strip(),
            provider_fault=False,
            provider_sid=sid,
        )
        return failed, status
    if status == "in-progress":  # a person (or no detection) picked up: delivered, not taken
        delivered = PageDelivered(
            notification_id=n, dispatch_id=d, provider_sid=sid, provider_status="answered"
        )
        return delivered, "answered"
    return None
