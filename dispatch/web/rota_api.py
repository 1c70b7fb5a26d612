"""Rota endpoints of the team-scoped API (JSON): the rota and who is on call for the
caller's team at any instant, and overrides (spooled, then relayed to Kafka)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import structlog
from aiohttp import web
from pydantic import AwareDatetime, Field

from dispatch.events import new_event
from dispatch.events.envelope import derived_id
from dispatch.rota.events import Layer, OverrideScheduled
from dispatch.rota.oncall import LAYERS, coverage
from dispatch.rota.timeline import Segment, segments
from dispatch.web.context import ctx
from dispatch.web.http import ApiError
from dispatch.web.schema import ApiModel, ApiRoutes
from dispatch.web.security import api_caller
from projections.models import OnDuty, StaffMember

log = structlog.get_logger(__name__)
routes = ApiRoutes("rota")
# Roles that may change the rota; every role of the team may read it.
ROTA_EDITORS = frozenset({"team_lead", "manager"})
AT = "the instant to ask about, ISO 8601 with a UTC offset (default: now)"


class OnCallQuery(ApiModel):
    at: AwareDatetime | None = Field(default=None, description=AT)


class RotaQuery(ApiModel):
    at: AwareDatetime | None = Field(default=None, description=AT)
    hours: int = Field(default=48, ge=1, le=24 * 62, description="how far the timeline runs")


class Fallback(ApiModel):
    """Where calls go when nobody of the team covers: another team, or a number."""

    team_id: str | None
    number: str | None


class OnCall(ApiModel):
    """Who covers each layer of the team's rota at `at` (null: nobody)."""

    team_id: str
    at: datetime
    covered: bool = Field(description="false: outside covered hours, calls go to the fallback")
    primary: StaffMember | None
    backup: StaffMember | None
    fallback: Fallback


class CoveredHours(ApiModel):
    """The team's covered hours in its time zone (opens/closes null when covered all day)."""

    all_day: bool
    opens: str | None = Field(description="HH:MM")
    closes: str | None = Field(description="HH:MM")


class Rota(OnCall):
    """On call at `at`, the covered hours, and each layer's timeline from `at`."""

    time_zone: str
    coverage: CoveredHours
    timeline: dict[Layer, list[Segment]]


class OverrideAccepted(ApiModel):
    """The override was spooled (a retry gives the same ids and records nothing new)."""

    override_id: str
    event_id: UUID


def _on_call(team_id: str, at: datetime, duty: OnDuty) -> OnCall:
    return OnCall(
        team_id=team_id,
        at=at,
        covered=duty.covered,
        primary=duty.primary,
        backup=duty.backup,
        fallback=Fallback(team_id=duty.fallback_team_id, number=duty.fallback_number),
    )


@routes.get("/api/oncall", query=OnCallQuery, response=OnCall)
async def get_oncall(request: web.Request, query: OnCallQuery) -> OnCall:
    """Who is on call for the caller's team at ?at= (default now)."""
    caller = api_caller(request)
    at = query.at or ctx(request).clock.now()
    duty = await ctx(request).read_models.on_duty(caller.team_id, at)
    return _on_call(caller.team_id, at, duty)


@routes.get("/api/rota", query=RotaQuery, response=Rota)
async def get_rota(request: web.Request, query: RotaQuery) -> Rota:
    """The caller's team's rota: on call at ?at= and each layer's timeline for ?hours=."""
    caller = api_caller(request)
    at = query.at or ctx(request).clock.now()
    rm = ctx(request).read_models
    end = at + timedelta(hours=query.hours)
    rota = await rm.team_rota(caller.team_id, at, end)
    c = coverage(rota)
    on_call = _on_call(caller.team_id, at, await rm.on_duty(caller.team_id, at))
    return Rota(
        **dict(on_call),
        time_zone=rota.time_zone,
        coverage=CoveredHours(
            all_day=c.all_day,
            opens=None if c.all_day else f"{c.opens:%H:%M}",
            closes=None if c.all_day else f"{c.closes:%H:%M}",
        ),
        timeline={layer: segments(rota, layer, at, end) for layer in LAYERS},
    )


class OverrideRequest(ApiModel):
    """Someone of the team covers a layer from `starts_at` to `ends_at`."""

    layer: Layer
    staff_id: str = Field(min_length=1)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    override_id: str | None = Field(default=None, min_length=1)


@routes.post("/api/rota/overrides", body=OverrideRequest, response=OverrideAccepted,
             errors=[422], roles=ROTA_EDITORS)  # fmt: skip
async def post_override(request: web.Request, req: OverrideRequest) -> OverrideAccepted:
    """Someone of the caller's team covers a layer for a period (team leads, managers).

    422 when `staff_id` is not a member of the caller's team.
    """
    caller = api_caller(request)
    c = ctx(request)
    if req.ends_at <= req.starts_at:
        raise ApiError(400, "must be after starts_at", "ends_at")
    person = await c.read_models.staff(req.staff_id)
    if person is None or person.team_id != caller.team_id:
        raise ApiError(422, "is not a member of your team", "staff_id")
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
    return OverrideAccepted(override_id=override_id, event_id=event.event_id)
