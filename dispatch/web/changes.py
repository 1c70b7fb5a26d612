"""What the API routes that change a team's facts share: who the change is recorded as,
refusals as the API's error, and events spooled (and, when asked, waited for until the
read models have them, so that a revoked consent or a departure is in force on return)."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TypeVar

import structlog
from aiohttp import web

from dispatch.clients.intake import CarerRefused
from dispatch.events import Envelope
from dispatch.rota.checks import RotaRefused
from dispatch.web.context import ctx
from dispatch.web.http import ApiError
from dispatch.web.security import Caller
from projections.applied import wait_applied

log = structlog.get_logger(__name__)
T = TypeVar("T")


def actor_of(caller: Caller) -> str:
    """Who made a change: the token's role and staff id (or the token's first characters)."""
    return f"api:{caller.role}:{caller.staff_id or caller.token_hint + '...'}"


async def checked(making: Awaitable[T]) -> T:
    """The value `making` builds; a refusal becomes the API's error naming the field."""
    try:
        return await making
    except RotaRefused as refused:
        p = refused.problem
        raise ApiError(p.status, p.message, p.field) from None
    except CarerRefused as refused:
        raise ApiError(refused.status, refused.message, refused.field) from None


async def spool(
    request: web.Request, events: Sequence[Envelope], *, wait: bool = False
) -> tuple[bool, bool | None]:
    """Spool the events; (fresh, applied: None when not waited for)."""
    c = ctx(request)
    fresh = await c.spool.record(list(events))
    for e in events:
        log.info("change_accepted", event_type=e.type, event_id=str(e.event_id), key=e.key,
                 actor=e.actor, duplicate=not fresh)  # fmt: skip
    if not wait:
        return fresh, None
    ids = [e.event_id for e in events]
    return fresh, await wait_applied(c.pool, ids, c.settings.reply_decision_wait_s)
