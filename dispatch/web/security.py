"""Who may call what: Twilio signatures on webhooks, bearer tokens scoped to a team on the API."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog
from aiohttp import web

from dispatch.settings import ApiToken, token_digest
from dispatch.web.context import ctx
from dispatch.web.http import ApiError
from dispatch.web.webhook import read_twilio_form
from integrations.twilio.signatures import validate_twilio_request

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def twilio_signature_required(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every /twilio/ webhook must carry a valid X-Twilio-Signature, or nothing happens (403)."""
    if not request.path.startswith("/twilio/") or request.match_info.http_exception:
        return await handler(request)  # not a webhook, or no such route/method: 404 or 405
    c = ctx(request)
    url = f"{c.public_base_url}{request.path_qs}"
    params = await read_twilio_form(request)
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
    entry = matching_token(ctx(request).settings.api_token_table(), token.strip())
    if entry is None:
        raise ApiError(401, "unknown API token", "Authorization")
    return Caller(
        token_hint=token[:4], team_id=entry.team_id, role=entry.role, staff_id=entry.staff_id
    )


def matching_token(table: Sequence[ApiToken], presented: str) -> ApiToken | None:
    """The entry whose digest is the presented token's, compared in constant time against
    every entry (no early exit: the time taken says nothing about which one matched)."""
    digest = token_digest(presented)
    found = None
    for entry in table:
        if hmac.compare_digest(entry.digest, digest) and found is None:
            found = entry
    return found
