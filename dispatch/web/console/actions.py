"""Take, pass on and close a dispatch from a console button: exactly what `ACK`, `ESC` and
`DONE` by SMS do. The button becomes one StaffReplyReceived (channel "api"; its reply id
starts with "console:") spooled for the dispatch's agent, which decides it like any other
reply; the answer waits REPLY_DECISION_WAIT_S for the decision.

With JavaScript the board posts the form in the background and shows the answer (JSON);
without, the answer is left for the next page and the browser is sent back (303).
"""

from __future__ import annotations

import hashlib
import re

import structlog
from aiohttp import web

from dispatch.crisis.codes import CODE_LENGTH, normalise_code
from dispatch.replies.desk import Decision, KnownDispatch, Replier, ReplierHasLeft
from dispatch.replies.events import ReplyVerb
from dispatch.web.console.access import Viewer
from dispatch.web.console.render import render, viewer
from dispatch.web.console.sessions import new_token
from dispatch.web.context import ctx
from dispatch.web.dispatch_api import OUTCOME_MAX
from dispatch.web.paged_dispatch import paged_dispatch

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()
VERBS: dict[str, ReplyVerb] = {"take": "ack", "pass": "esc", "close": "resolve"}
CODE = re.compile(rf"^[0-9A-Z]{{{CODE_LENGTH}}}$")
ACCEPTED = {
    "ack": "{code} is yours.",
    "esc": "{code} passed on: the next step is being paged.",
    "resolve": "{code} is closed.",
}
PENDING = "{code}: sent. The decision has not come back yet; the board will show it."


def reply_id(who: Viewer, code: str, verb: ReplyVerb, nonce: str) -> str:
    """The same form sent twice (a double click, a retry) is received once."""
    basis = "\x1f".join(["console", who.account_id, code, verb, nonce])
    return f"console:{hashlib.sha256(basis.encode()).hexdigest()[:32]}"


def said(code: str, verb: ReplyVerb, decision: Decision | None, holder: str | None = None) -> str:
    """What the person is told, as the SMS confirmation would tell them (`holder`: the
    name of the colleague who has the dispatch, when it is not them)."""
    if decision is None:
        return PENDING.format(code=code)
    if decision.accepted:
        return ACCEPTED[verb].format(code=code)
    if decision.dispatch_status == "acknowledged" and holder:
        return f"{code} is already taken by {holder}; nothing changed."
    return decision.reason


async def _answer(request: web.Request, who: Viewer, text: str, status: int) -> web.Response:
    if "application/json" in request.headers.get("Accept", ""):
        return web.json_response({"said": text}, status=status)
    await ctx(request).accounts.leave_notice(who.session_digest, text)
    code = normalise_code(request.match_info["code"])
    back = f"/d/{code}" if request.query.get("from") == "d" and CODE.match(code) else "/console/"
    return web.Response(status=303, headers={"Location": back, "Cache-Control": "no-store"})


async def _act(request: web.Request, verb: ReplyVerb, outcome: str) -> tuple[str, int]:
    who, c = viewer(request), ctx(request)
    code = normalise_code(request.match_info["code"])
    if not who.may_act or who.staff_id is None:
        return "Only a staff member of the team can act on a dispatch.", 403
    if not CODE.match(code):
        return f"That is not a {CODE_LENGTH}-character dispatch code.", 404
    if verb == "resolve" and not outcome:
        return f"Say how {code} ended to close it.", 400
    person = await c.read_models.staff(who.staff_id)
    row = await paged_dispatch(c, code, team_id=who.team_id)
    if person is None or row is None:
        return f"No dispatch {code} in your team.", 404
    form = await request.post()
    nonce = str(form.get("request") or new_token())
    try:
        event, fresh = await c.replies.submit(
            KnownDispatch(row.dispatch_id, row.short_code, row.correlation_id),
            replier=Replier(person.staff_id, person.team_id, left_at=person.left_at),
            channel="api",
            verb=verb,
            reply_id=reply_id(who, code, verb, nonce),
            outcome=outcome,
        )
    except ReplierHasLeft:
        return "You are no longer on the team; nothing was changed.", 403
    decision = await c.replies.wait(event, c.settings.reply_decision_wait_s)
    log.info("console_dispatch_action", verb=verb, code=code, account_id=who.account_id,
             duplicate=not fresh, decided=decision is not None,
             accepted=decision.accepted if decision else None)  # fmt: skip
    status = 202 if decision is None else (200 if decision.accepted else 409)
    holder = None
    if decision is not None and decision.holder and decision.holder != person.staff_id:
        colleague = await c.read_models.staff(decision.holder)
        holder = colleague.display_name if colleague else decision.holder
    return said(code, verb, decision, holder), status


@routes.post("/console/dispatches/{code}/{action}")
async def act(request: web.Request) -> web.StreamResponse:
    """A board or dispatch page button: take, pass (on) or close (with `outcome`)."""
    verb = VERBS.get(request.match_info["action"])
    if verb is None:
        return render(request, "not_found.html", status=404)
    form = await request.post()
    outcome = " ".join(str(form.get("outcome", "")).split())[:OUTCOME_MAX]
    text, status = await _act(request, verb, outcome)
    return await _answer(request, viewer(request), text, status)
