"""What every Twilio webhook handler shares: its form parsed (or 400), TwiML as the response."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar
from uuid import UUID

import structlog
from aiohttp import web

from dispatch.web.http import error_response
from integrations.twilio.forms import FormError

log = structlog.get_logger(__name__)
T = TypeVar("T")


async def parsed_form(request: web.Request, parse: Callable[[Mapping[str, str]], T]) -> T:
    """The request's form read by `parse`; a missing or malformed field is a 400 naming it."""
    form = {k: str(v) for k, v in (await request.post()).items()}
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


def bad_request(error: str, field: str) -> web.HTTPBadRequest:
    """A 400 to raise, with the API's JSON error body naming what was wrong and where."""
    response = error_response(400, error, field)
    return web.HTTPBadRequest(text=response.text, content_type="application/json")


def twiml_response(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/xml")
