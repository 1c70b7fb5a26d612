"""Acting on dispatches through the team-scoped API: acknowledge, pass on, resolve.

The same pure decisions as the staff's SMS replies (acknowledge, request_escalation,
resolve) with the same refusals; the acting staff member is the one the bearer token names
(API_TOKENS token:team:role:staff_id). Events go through the ingress spool with ids derived
from the request (its Idempotency-Key, else the token, code, verb and body), so a retried
request is not recorded twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from aiohttp import web

from dispatch.crisis.codes import CODE_LENGTH, normalise_code
from dispatch.crisis.decide import DispatchView, ReplyRefused
from dispatch.events import Envelope
from dispatch.web.context import ctx
from dispatch.web.http import json_error
from dispatch.web.replies import ReplyVerb, dispatch_view, reply_events
from dispatch.web.security import api_caller
from projections.models import Dispatch

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()

Verb = ReplyVerb
OUTCOME_MAX = 200
IDEMPOTENCY_KEY_MAX = 200
_CODE = re.compile(rf"^[0-9A-Z]{{{CODE_LENGTH}}}$")
_BODY_FIELDS: dict[Verb, frozenset[str]] = {
    "ack": frozenset(),
    "esc": frozenset(),
    "resolve": frozenset({"outcome"}),
}


class BadInput(ValueError):
    """A request this API cannot act on; `field` names what is wrong (400)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Action:
    """One validated request: what to do to which dispatch."""

    verb: Verb
    code: str
    outcome: str = ""


def parse_action(verb: Verb, code: str, body: bytes) -> Action:
    """Validate the path code and the JSON body (resolve needs a non-empty `outcome`)."""
    normal = normalise_code(code)
    if not _CODE.match(normal):
        raise BadInput("code", f"is not a {CODE_LENGTH}-character dispatch code")
    data: Any = {}
    if body.strip():
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise BadInput("body", "is not JSON") from None
    if not isinstance(data, dict):
        raise BadInput("body", "must be a JSON object")
    for name in data:
        if name not in _BODY_FIELDS[verb]:
            raise BadInput(str(name), f"is not a field of {verb}")
    if verb != "resolve":
        return Action(verb=verb, code=normal)
    raw = data.get("outcome")
    if not isinstance(raw, str):
        raise BadInput("outcome", "is required: what happened, as text")
    outcome = " ".join(raw.split())
    if not outcome:
        raise BadInput("outcome", "must not be empty")
    if len(outcome) > OUTCOME_MAX:
        raise BadInput("outcome", f"must be at most {OUTCOME_MAX} characters")
    return Action(verb=verb, code=normal, outcome=outcome)


def request_id(*, token: str, action: Action, body: bytes, idempotency_key: str | None) -> str:
    """The id a request's events derive from: the same request (or key) gives the same id."""
    if idempotency_key is not None:
        if not idempotency_key.strip() or len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
            raise BadInput("Idempotency-Key", f"must be 1-{IDEMPOTENCY_KEY_MAX} characters")
        basis = ["key", token, action.code, action.verb, idempotency_key]
    else:
        basis = ["body", token, action.code, action.verb, body.decode("utf-8", "replace")]
    digest = hashlib.sha256("\x1f".join(basis).encode()).hexdigest()
    return f"api:{digest[:32]}"


def decide(
    view: DispatchView,
    action: Action,
    *,
    staff_id: str,
    reply_id: str,
    now: datetime,
    correlation_id: UUID,
) -> list[Envelope]:
    """The events an API action yields; ReplyRefused when it changes nothing (409)."""
    return reply_events(
        view,
        action.verb,
        via="api",
        staff_id=staff_id,
        reply_id=reply_id,
        now=now,
        correlation_id=correlation_id,
        outcome=action.outcome,
    )


def _already_done(row: Dispatch, action: Action, staff_id: str) -> bool:
    """A retried resolve whose dispatch this staff member already closed the same way."""
    return (
        action.verb == "resolve"
        and row.status == "resolved"
        and row.resolved_by == staff_id
        and row.outcome == action.outcome
    )


async def _act(request: web.Request, verb: Verb) -> web.Response:
    caller = api_caller(request)
    if caller.staff_id is None:
        raise web.HTTPForbidden(
            reason="this API token names no staff member (token:team:role:staff_id); "
            "it may read dispatches but not act on them"
        )
    c = ctx(request)
    body = await request.read()
    token = request.headers.get("Authorization", "").partition(" ")[2].strip()
    try:
        action = parse_action(verb, request.match_info["code"], body)
        reply_id = request_id(
            token=token,
            action=action,
            body=body,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
    except BadInput as exc:
        return json_error(400, exc.message, exc.field)
    person = await c.read_models.staff(caller.staff_id)
    if person is None or person.team_id != caller.team_id:
        raise web.HTTPForbidden(reason="the token's staff member is not in the token's team")
    row = await c.read_models.dispatch_by_code(action.code, team_id=caller.team_id)
    if row is None:
        raise web.HTTPNotFound(reason="no dispatch with that code in your team")
    if _already_done(row, action, caller.staff_id):
        return _accepted(row, action, event_ids=[], duplicate=True)
    now = c.clock.now()
    try:
        events = decide(
            dispatch_view(row),
            action,
            staff_id=caller.staff_id,
            reply_id=reply_id,
            now=now,
            correlation_id=row.correlation_id,
        )
    except ReplyRefused as exc:
        log.info("dispatch_action_refused", verb=verb, dispatch_id=str(row.dispatch_id),
                 staff_id=caller.staff_id, reason=str(exc))  # fmt: skip
        return json_error(409, str(exc))
    fresh = await c.spool.record(events)
    log.info("dispatch_action_recorded", verb=verb, dispatch_id=str(row.dispatch_id),
             staff_id=caller.staff_id, duplicate=not fresh,
             correlation_id=str(row.correlation_id))  # fmt: skip
    return _accepted(row, action, event_ids=[str(e.event_id) for e in events], duplicate=not fresh)


def _accepted(
    row: Dispatch, action: Action, *, event_ids: list[str], duplicate: bool
) -> web.Response:
    return web.json_response(
        {
            "dispatch_id": str(row.dispatch_id),
            "code": row.short_code,
            "action": action.verb,
            "event_ids": event_ids,
            "duplicate": duplicate,
        },
        status=202,
    )


@routes.post("/api/dispatches/{code}/ack")
async def ack_dispatch(request: web.Request) -> web.Response:
    """The token's staff member takes a dispatch of their team (409 if a colleague has it)."""
    return await _act(request, "ack")


@routes.post("/api/dispatches/{code}/esc")
async def escalate_dispatch(request: web.Request) -> web.Response:
    """The token's staff member passes an open dispatch on: the next step is paged at once."""
    return await _act(request, "esc")


@routes.post("/api/dispatches/{code}/resolve")
async def resolve_dispatch(request: web.Request) -> web.Response:
    """The token's staff member closes a dispatch with an outcome ({"outcome": "..."})."""
    return await _act(request, "resolve")
