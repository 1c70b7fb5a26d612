"""The team-scoped HTTP API (JSON). Every caller sees only their own team's dispatches."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from aiohttp import web

from dispatch.risk.intake import records_viewed
from dispatch.web.context import ctx
from dispatch.web.security import api_caller

routes = web.RouteTableDef()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot encode {type(value)!r}")


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, default=_default))


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    """Liveness plus how many ingress events still wait for the broker."""
    return _json({"status": "ok", "spool_pending": await ctx(request).spool.pending()})


@routes.get("/api/dispatches")
async def list_dispatches(request: web.Request) -> web.Response:
    """Open and acknowledged dispatches of the caller's team."""
    caller = api_caller(request)
    rows = await ctx(request).read_models.open_dispatches(caller.team_id)
    return _json({"team_id": caller.team_id, "dispatches": rows})


@routes.get("/api/dispatches/{code}")
async def show_dispatch(request: web.Request) -> web.Response:
    """One dispatch of the caller's team, with its pages and its event timeline."""
    caller = api_caller(request)
    rm = ctx(request).read_models
    row = await rm.dispatch_by_code(request.match_info["code"].upper())
    if row is None or row.team_id != caller.team_id:
        raise web.HTTPNotFound(reason="no dispatch with that code in your team")
    timeline = await rm.archive(correlation_id=row.correlation_id)
    # Every read of a client's record is itself an event (safety rule 6), before the answer.
    c = ctx(request)
    await c.spool.record(
        [
            records_viewed(
                team_id=caller.team_id,
                viewer=f"api:{caller.role}:{caller.staff_id or caller.token_hint + '...'}",
                view=f"dispatch:{row.short_code}",
                client_ids=[row.client_id] if row.client_id else [],
                now=c.clock.now(),
            )
        ]
    )
    return _json({"dispatch": row, "pages": await rm.pages(row.dispatch_id), "timeline": timeline})
