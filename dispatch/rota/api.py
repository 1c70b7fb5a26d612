"""Rota endpoints of the team-scoped API (JSON): the rota and who is on call for the
caller's team at any instant, and overrides (spooled, then relayed to Kafka)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from dispatch.events import new_event
from dispatch.events.envelope import derived_id
from dispatch.rota.events import Layer, OverrideScheduled
from dispatch.rota.oncall import LAYERS, coverage
from dispatch.rota.openapi import OPENAPI
from dispatch.rota.timeline import segments
from dispatch.web.context import ctx
from dispatch.web.http import json_error, json_response
from dispatch.web.security import api_caller
from projections.models import OnDuty

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()
# Roles that may change the rota; every role of the team may read it.
ROTA_EDITORS = frozenset({"team_lead", "manager"})


def _at(request: web.Request) -> datetime | web.Response:
    raw = request.query.get("at")
    if raw is None:
        return ctx(request).clock.now()
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return json_error(400, "is not an ISO 8601 time", "at")
    if at.tzinfo is None:
        return json_error(400, "needs a UTC offset (Z or e.g. -05:00)", "at")
    return at


def _duty(team_id: str, at: datetime, duty: OnDuty) -> dict[str, Any]:
    return {
        "team_id": team_id,
        "at": at,
        "covered": duty.covered,
        "primary": duty.primary,
        "backup": duty.backup,
        "fallback": {"team_id": duty.fallback_team_id, "number": duty.fallback_number},
    }


@routes.get("/api/oncall")
async def get_oncall(request: web.Request) -> web.Response:
    """Who is on call for the caller's team at ?at= (default now)."""
    caller = api_caller(request)
    at = _at(request)
    if isinstance(at, web.Response):
        return at
    duty = await ctx(request).read_models.on_duty(caller.team_id, at)
    return json_response(_duty(caller.team_id, at, duty))


@routes.get("/api/rota")
async def get_rota(request: web.Request) -> web.Response:
    """The caller's team's rota: on call at ?at= and each layer's timeline for ?hours=."""
    caller = api_caller(request)
    at = _at(request)
    if isinstance(at, web.Response):
        return at
    try:
        hours = int(request.query.get("hours", "48"))
    except ValueError:
        hours = 0
    if not 1 <= hours <= 24 * 62:
        return json_error(400, "must be a whole number from 1 to 1488", "hours")
    rm = ctx(request).read_models
    end = at + timedelta(hours=hours)
    rota = await rm.team_rota(caller.team_id, at, end)
    c = coverage(rota)
    body = _duty(caller.team_id, at, await rm.on_duty(caller.team_id, at))
    body["time_zone"] = rota.time_zone
    body["coverage"] = {
        "all_day": c.all_day,
        "opens": None if c.all_day else f"{c.opens:%H:%M}",
        "closes": None if c.all_day else f"{c.closes:%H:%M}",
    }
    body["timeline"] = {layer: segments(rota, layer, at, end) for layer in LAYERS}
    return json_response(body)


class OverrideRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    layer: Layer
    staff_id: str = Field(min_length=1)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    override_id: str | None = Field(default=None, min_length=1)


@routes.post("/api/rota/overrides")
async def post_override(request: web.Request) -> web.Response:
    """Someone of the caller's team covers a layer for a period (team leads, managers)."""
    caller = api_caller(request)
    if caller.role not in ROTA_EDITORS:
        raise web.HTTPForbidden(reason="only a team lead or manager may change the rota")
    c = ctx(request)
    try:
        req = OverrideRequest.model_validate(await request.json())
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            err = exc.errors()[0]
            return json_error(400, str(err["msg"]), ".".join(map(str, err["loc"])) or "body")
        return json_error(400, "is not JSON", "body")
    if req.ends_at <= req.starts_at:
        return json_error(400, "must be after starts_at", "ends_at")
    person = await c.read_models.staff(req.staff_id)
    if person is None or person.team_id != caller.team_id:
        return json_error(422, "is not a member of your team", "staff_id")
    key = (caller.team_id, req.layer, req.staff_id, req.starts_at, req.ends_at)
    override_id = req.override_id or str(derived_id("override", *key))
    payload = OverrideScheduled(
        team_id=caller.team_id,
        override_id=override_id,
        layer=req.layer,
        staff_id=req.staff_id,
        starts_at=req.starts_at,
        ends_at=req.ends_at,
    )
    now = c.clock.now()
    event = new_event(
        payload,
        key=caller.team_id,
        occurred_at=now,
        recorded_at=now,
        actor=f"api:{caller.role}",
        event_id=derived_id("override-request", override_id, *key),
    )
    fresh = await c.spool.record([event])
    log.info("override_accepted", team_id=caller.team_id, override_id=override_id,
             layer=req.layer, duplicate=not fresh)  # fmt: skip
    return json_response({"override_id": override_id, "event_id": str(event.event_id)}, status=202)


@routes.get("/api/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 description of the team-scoped API."""
    return json_response(OPENAPI)
