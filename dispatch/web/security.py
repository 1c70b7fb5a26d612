"""Who may call what: Twilio signatures on webhooks, bearer tokens scoped to a team on the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from aiohttp import web

from dispatch.web.context import ctx
from dispatch.web.http import ApiError
from integrations.twilio.signatures import validate_twilio_request

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def twilio_signature_required(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every /twilio/ webhook must carry a valid X-Twilio-Signature, or nothing happens (403)."""
    if not request.path.startswith("/twilio/"):
        return await handler(request)
    c = ctx(request)
    url = f"{c.public_base_url}{request.path_qs}"
    params = {k: str(v) for k, v in (await request.post()).items()}
    signature = request.headers.get("X-Twilio-Signature", "")
    token = c.settings.twilio_auth_token.get_secret_value()
    if not signature or not validate_twilio_request(url, params, signature, token):
        log.warning("webhook_signature_rejected", path=request.path, has_signature=bool(signature))
        raise web.HTTPForbidden(reason="invalid or missing X-Twilio-Signature")
    return await handler(request)


@dataclass(frozen=True)
class Caller:
    token_hint: str
    team_id: str
    role: str
    staff_id: str | None = None  # who acts; a token without one may read but not act


def api_caller(request: web.Request) -> Caller:
    """The authenticated API caller (Authorization: Bearer <token>), or 401 (JSON)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "send Authorization: Bearer <token>", "Authorization")
    entry = ctx(request).settings.api_token_table().get(token.strip())
    if entry is None:
        raise ApiError(401, "unknown API token", "Authorization")
    team_id, role, staff_id = entry
    return Caller(token_hint=token[:4], team_id=team_id, role=role, staff_id=staff_id)
