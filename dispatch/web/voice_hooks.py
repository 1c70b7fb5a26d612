"""The paging call's Gather action: 1 takes the dispatch, 2 passes it on (Twilio-signed).

The callee is the person the page was for: the notification id in the action URL names the
page, and the page ledger (written before the call was placed) names its staff member. The
key press becomes a StaffReplyReceived that the dispatch's agent decides; the callee hears
the decision, waited for a bounded time.
"""

from __future__ import annotations

from urllib.parse import urlencode

import structlog
from aiohttp import web

from dispatch.crisis.codes import short_code as code_of
from dispatch.crisis.page_text import voice_page_say
from dispatch.paging.notifier import GATHER_PATH
from dispatch.replies.desk import LEFT_THE_TEAM, Decision, KnownDispatch, Replier, ReplierHasLeft
from dispatch.web.context import ctx
from dispatch.web.webhook import page_ids, parsed_form
from integrations.twilio import twiml
from integrations.twilio.forms import GatherResult

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()

NOT_UNDERSTOOD = "Sorry, please press 1 or 2."
NO_CHOICE = "Nothing was chosen, so the page stays open. Goodbye."
UNKNOWN = "This page is no longer known. Goodbye."
PENDING = "Your answer is recorded. The dispatch list shows who has it. Goodbye."


def _say(text: str) -> web.Response:
    return web.Response(text=twiml.fallback_message(text, None), content_type="text/xml")


@routes.post(GATHER_PATH)
async def page_digits(request: web.Request) -> web.Response:
    """Pressing 1 asks to take the dispatch, 2 to pass it on; another key is asked again once."""
    c = ctx(request)
    notification_id, dispatch_id = page_ids(request)
    gathered = await parsed_form(request, GatherResult.parse)
    paged = await c.ledger.paged_person(notification_id)
    person = await c.read_models.staff(paged.staff_id) if paged else None
    if paged is None or person is None:
        log.warning("voice_page_unknown", notification_id=str(notification_id))
        return _say(UNKNOWN)
    code = paged.short_code or code_of(dispatch_id)
    if gathered.digits not in {"1", "2"}:
        if request.query.get("retry"):
            return _say(NO_CHOICE)
        return await _ask_again(request, notification_id=str(notification_id), code=code)
    dispatch = KnownDispatch(dispatch_id, code, paged.correlation_id)
    try:
        event, fresh = await c.replies.submit(
            dispatch,
            replier=Replier(person.staff_id, person.team_id, left_at=person.left_at),
            channel="voice",
            verb="ack" if gathered.digits == "1" else "esc",
            reply_id=gathered.call_sid,
        )
    except ReplierHasLeft:
        log.warning("reply_from_leaver_refused", staff_id=person.staff_id, channel="voice")
        return _say(f"{LEFT_THE_TEAM} Goodbye.")
    log.info("voice_page_answered", staff_id=person.staff_id, digits=gathered.digits,
             dispatch_id=str(dispatch_id), notification_id=str(notification_id),
             retry=not fresh, **event.log_context())  # fmt: skip
    decision = await c.replies.wait(event, c.settings.reply_decision_wait_s)
    if decision is None:
        log.warning("voice_reply_decision_pending", dispatch_id=str(dispatch_id))
        return _say(PENDING)
    return _say(spoken(decision, code, gathered.digits))


def spoken(decision: Decision, code: str, digits: str) -> str:
    """What the callee hears: the decision, with the code spelled out."""
    if not decision.accepted:
        return f"{decision.reason} Goodbye."
    spelled = ", ".join(code)
    if digits == "1":
        return f"Dispatch {spelled} is yours. Details are in the dispatch app. Goodbye."
    return f"Dispatch {spelled} is passed on to the next person. Goodbye."


async def _ask_again(request: web.Request, *, notification_id: str, code: str) -> web.Response:
    c = ctx(request)
    _, dispatch_id = page_ids(request)
    row = await c.read_models.dispatch(dispatch_id)
    query = urlencode({"n": notification_id, "d": str(dispatch_id), "retry": "1"})
    say = (
        voice_page_say(code=code, risk_level=row.risk_level)  # type: ignore[arg-type]
        if row is not None
        else "Press 1 to accept. Press 2 to pass to the next person."
    )
    return web.Response(
        text=twiml.voice_page(
            f"{NOT_UNDERSTOOD} {say}", f"{c.public_base_url}{GATHER_PATH}?{query}"
        ),
        content_type="text/xml",
    )
