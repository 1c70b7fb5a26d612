"""Acting on dispatches through the team-scoped API: acknowledge, pass on, resolve.

An action becomes one StaffReplyReceived, decided like an SMS reply by the agent that keeps
the dispatch's state (same rules, same refusals); the acting staff member is the one the
bearer token names (API_TOKENS token:team:role:staff_id). The reply is spooled with an id
derived from the request (its Idempotency-Key, else the token, code, verb and body), so a
retried request is received once; the answer waits a bounded time for the decision.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Annotated, Literal
from uuid import UUID

import structlog
from aiohttp import web
from pydantic import AfterValidator, Field

from dispatch.crisis.codes import CODE_LENGTH, normalise_code
from dispatch.replies.desk import KnownDispatch, Replier, ReplierHasLeft
from dispatch.replies.events import ReplyVerb
from dispatch.web.context import ctx
from dispatch.web.http import ApiError
from dispatch.web.paged_dispatch import paged_dispatch
from dispatch.web.schema import ApiModel, ApiRoutes, NoInput
from dispatch.web.security import api_caller

log = structlog.get_logger(__name__)
routes = ApiRoutes("dispatches")

Verb = ReplyVerb
OUTCOME_MAX = 200
IDEMPOTENCY_KEY_MAX = 200
_CODE = re.compile(rf"^[0-9A-Z]{{{CODE_LENGTH}}}$")
# Another team's code is 404; a token naming no staff member (or a leaver) 403; taken or
# closed 409.
ACT_ERRORS = (403, 404, 409)


def _one_line(text: str) -> str:
    outcome = " ".join(text.split())
    if not outcome:
        raise ValueError("must not be empty")
    return outcome


class ResolveBody(ApiModel):
    """How a dispatch ended; whitespace is collapsed to single spaces."""

    outcome: Annotated[
        str,
        Field(min_length=1, max_length=OUTCOME_MAX, description="what happened, as text"),
        AfterValidator(_one_line),
    ]


class ActionAccepted(ApiModel):
    """The action was received (or had been: `duplicate`) and, unless still `pending`,
    accepted by the agent that keeps the dispatch's state; a refusal is 409 with the reason."""

    dispatch_id: UUID
    code: str
    action: Verb
    event_ids: list[UUID] = Field(description="the StaffReplyReceived the request became")
    duplicate: bool = Field(description="the same request was received before")
    decision: Literal["accepted", "pending"] = Field(
        description="accepted by the dispatch's agent, or not decided within the wait (202)"
    )


@dataclass(frozen=True)
class Action:
    """One validated request: what to do to which dispatch."""

    verb: Verb
    code: str
    outcome: str = ""


def parse_action(verb: Verb, code: str, outcome: str = "") -> Action:
    """The action on the dispatch the path's code names (read as typed on a phone), or 400."""
    normal = normalise_code(code)
    if not _CODE.match(normal):
        raise ApiError(400, f"is not a {CODE_LENGTH}-character dispatch code", "code")
    return Action(verb=verb, code=normal, outcome=outcome)


def request_id(*, token: str, action: Action, body: bytes, idempotency_key: str | None) -> str:
    """The id a request's events derive from: the same request (or key) gives the same id."""
    if idempotency_key is not None:
        if not idempotency_key.strip() or len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
            raise ApiError(400, f"must be 1-{IDEMPOTENCY_KEY_MAX} characters", "Idempotency-Key")
        basis = ["key", token, action.code, action.verb, idempotency_key]
    else:
        basis = ["body", token, action.code, action.verb, body.decode("utf-8", "replace")]
    digest = hashlib.sha256("\x1f".join(basis).encode()).hexdigest()
    return f"api:{digest[:32]}"


async def _act(request: web.Request, verb: Verb, outcome: str = "") -> ActionAccepted:
    caller = api_caller(request)
    if caller.staff_id is None:
        raise ApiError(
            403,
            "this API token names no staff member (token:team:role:staff_id); "
            "it may read dispatches but not act on them",
        )
    c = ctx(request)
    body = await request.read()
    token = request.headers.get("Authorization", "").partition(" ")[2].strip()
    action = parse_action(verb, request.match_info["code"], outcome)
    reply_id = request_id(
        token=token,
        action=action,
        body=body,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    person = await c.read_models.staff(caller.staff_id)
    if person is None or person.team_id != caller.team_id:
        raise ApiError(403, "the token's staff member is not in the token's team")
    row = await paged_dispatch(c, action.code, team_id=caller.team_id)
    if row is None:
        raise ApiError(404, "no dispatch with that code in your team", "code")
    try:
        event, fresh = await c.replies.submit(
            KnownDispatch(row.dispatch_id, row.short_code, row.correlation_id),
            replier=Replier(person.staff_id, person.team_id, left_at=person.left_at),
            channel="api",
            verb=action.verb,
            reply_id=reply_id,
            outcome=action.outcome,
        )
    except ReplierHasLeft:
        log.warning("reply_from_leaver_refused", staff_id=person.staff_id, channel="api")
        raise ApiError(403, "the token's staff member has left the team") from None
    decision = await c.replies.wait(event, c.settings.reply_decision_wait_s)
    log.info("dispatch_action_received", verb=verb, dispatch_id=str(row.dispatch_id),
             staff_id=caller.staff_id, duplicate=not fresh,
             decided=decision is not None, **event.log_context())  # fmt: skip
    if decision is not None and not decision.accepted:
        raise ApiError(409, decision.reason)
    return ActionAccepted(
        dispatch_id=row.dispatch_id,
        code=row.short_code,
        action=action.verb,
        event_ids=[event.event_id],
        duplicate=not fresh,
        decision="accepted" if decision is not None else "pending",
    )


@routes.post("/api/dispatches/{code}/ack", body=NoInput, response=ActionAccepted,
             errors=ACT_ERRORS)  # fmt: skip
async def ack_dispatch(request: web.Request, _: NoInput) -> ActionAccepted:
    """The token's staff member takes a dispatch of their team (409 if a colleague has it)."""
    return await _act(request, "ack")


@routes.post("/api/dispatches/{code}/esc", body=NoInput, response=ActionAccepted,
             errors=ACT_ERRORS)  # fmt: skip
async def escalate_dispatch(request: web.Request, _: NoInput) -> ActionAccepted:
    """The token's staff member passes an open dispatch on: the next step is paged at once."""
    return await _act(request, "esc")


@routes.post("/api/dispatches/{code}/resolve", body=ResolveBody, response=ActionAccepted,
             errors=ACT_ERRORS)  # fmt: skip
async def resolve_dispatch(request: web.Request, body: ResolveBody) -> ActionAccepted:
    """The token's staff member closes a dispatch with an outcome ({"outcome": "..."})."""
    return await _act(request, "resolve", body.outcome)
