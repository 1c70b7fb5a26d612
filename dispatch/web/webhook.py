"""What every Twilio webhook handler shares: its form parsed (or 4xx), TwiML as the response.

Twilio posts `application/x-www-form-urlencoded` in UTF-8; any other body (another content
type or charset, bytes that are not UTF-8, more than the app's size limit) is refused with
a 4xx before its signature is even checked, never a 5xx.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar
from urllib.parse import parse_qsl
from uuid import UUID

import structlog
from aiohttp import web

from dispatch.fallback.document import PUT_THROUGH
from dispatch.web.context import ctx
from dispatch.web.http import error_response
from integrations.twilio import twiml
from integrations.twilio.forms import FormError

log = structlog.get_logger(__name__)
T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FORM = "application/x-www-form-urlencoded"
_FORM_KEY = web.RequestKey("twilio_form", dict[str, str])


async def read_twilio_form(request: web.Request) -> dict[str, str]:
    """The webhook's form (read once per request); 415 or 413 or 400 for a body Twilio
    would never send."""
    cached: dict[str, str] | None = request.get(_FORM_KEY)
    if cached is not None:
        return cached
    charset = (request.charset or "utf-8").lower()
    if request.content_type != FORM or charset not in {"utf-8", "utf8"}:
        raise _refused(415, f"send the body as {FORM} in UTF-8", "Content-Type", request)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _refused(413, "the body is larger than a webhook can be", "body", request) from None
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise _refused(400, "the body is not a UTF-8 form", "body", request) from None
    form = dict(pairs)
    request[_FORM_KEY] = form
    return form


# Paths where a person is on the line waiting to be put through (the rest: a paging call).
CALLER_PATHS = ("/twilio/voice", "/twilio/voice/next", "/twilio/voice/message")
ANSWER_NOT_RECORDED = (
    "Your answer could not be recorded just now. Please reply to the page by text."
)
TEXT_NOT_HANDLED = (
    "Sorry, this text could not be handled just now; please send it again in a few minutes. "
    "If you need help now, call {number}, or 911 in an emergency."
)


@web.middleware
async def twilio_never_fails(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No webhook answers Twilio with a 5xx: a failure nothing else caught puts a caller
    through to DEFAULT_CRISIS_NUMBER, tells a texter or a paged person, and is logged."""
    if not request.path.startswith("/twilio/"):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 500:
            raise
        error: BaseException = exc
    except Exception as exc:
        error = exc
    number = ctx(request).settings.default_crisis_number
    log.error("webhook_failed_answered_safely", path=request.path, error=type(error).__name__,
              detail=str(error)[:200], put_through=request.path in CALLER_PATHS)  # fmt: skip
    if request.path in CALLER_PATHS:
        return twiml_response(twiml.fallback_message(PUT_THROUGH, number))
    if request.path.startswith("/twilio/voice"):
        return twiml_response(twiml.fallback_message(ANSWER_NOT_RECORDED, None))
    if request.path == "/twilio/sms":
        return twiml_response(twiml.sms_reply(TEXT_NOT_HANDLED.format(number=number)))
    return web.Response(status=204)


def _refused(status: int, error: str, field: str, request: web.Request) -> web.HTTPException:
    log.warning("webhook_body_refused", path=request.path, status=status, field=field)
    return refusal(status, error, field)


async def parsed_form(request: web.Request, parse: Callable[[Mapping[str, str]], T]) -> T:
    """The request's form read by `parse`; a missing or malformed field is a 400 naming it."""
    form = await read_twilio_form(request)
    try:
        return parse(form)
    except FormError as exc:
        log.warning("webhook_form_refused", path=request.path, field=exc.field, problem=exc.problem)
        raise bad_request(str(exc), exc.field) from None


def page_ids(request: web.Request) -> tuple[UUID, UUID]:
    """The page (n) and dispatch (d) ids our callback URLs carry; 400 naming a bad one."""
    ids = []
    for name in ("n", "d"):
        try:
            ids.append(UUID(request.query[name]))
        except (KeyError, ValueError):
            raise bad_request(f"{name}: missing or not a UUID", name) from None
    return ids[0], ids[1]


def bad_request(error: str, field: str) -> web.HTTPException:
    """A 400 to raise, with the API's JSON error body naming what was wrong and where."""
    return refusal(400, error, field)


def refusal(status: int, error: str, field: str) -> web.HTTPException:
    """A 4xx to raise, with the API's JSON error body naming what was wrong and where."""
    text = error_response(status, error, field).text
    if status == 413:
        return web.HTTPRequestEntityTooLarge(0, text=text, content_type="application/json")
    kind = web.HTTPUnsupportedMediaType if status == 415 else web.HTTPBadRequest
    return kind(text=text, content_type="application/json")


def twiml_response(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/xml")
