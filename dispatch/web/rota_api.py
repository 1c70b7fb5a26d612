"""Rota endpoints of the team-scoped API (JSON): the rota and who is on call for the
caller's team at any instant, and overrides (spooled, then relayed to Kafka)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import structlog
from aiohttp import web
from pydantic import AwareDatetime, ConfigDict, Field

from dispatch.rota.events import Layer, OverrideScheduled
from dispatch.rota.oncall import LAYERS, coverage
from dispatch.rota.staff_intake import OverrideInput, override
from dispatch.rota.timeline import Segment, segments
from dispatch.web.changes import actor_of, checked, spool
from dispatch.web.context import ctx
from dispatch.web.schema import ApiModel, ApiRoutes
from dispatch.web.security import api_caller
from projections.models import OnDuty, StaffMember

log = structlog.get_logger(__name__)
routes = ApiRoutes("rota")
# Roles that may change the rota; every role of the team may read it.
ROTA_EDITORS = frozenset({"team_lead", "manager"})
STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)
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


class OverrideRequest(OverrideInput):
    """Someone of the team covers a layer from `starts_at` to `ends_at` (at most 31 days;
    an `override_id` names one override for good)."""

    model_config = STRICT


@routes.post("/api/rota/overrides", body=OverrideRequest, response=OverrideAccepted,
             errors=[404, 409, 422], roles=ROTA_EDITORS)  # fmt: skip
async def post_override(request: web.Request, req: OverrideRequest) -> OverrideAccepted:
    """Someone of the caller's team covers a layer for a period (team leads, managers).

    Checked like `dispatch rota override`: 422 when `staff_id` is not a member of the
    caller's team, leaves it before `ends_at`, or would be primary and backup at once; 400
    for a period over 31 days; 409 when `override_id` already names another override.
    """
    caller = api_caller(request)
    c = ctx(request)
    event, _ = await checked(
        override(c.staff_roster, caller.team_id, req, now=c.clock.now(), actor=actor_of(caller))
    )
    fresh, _ = await spool(request, [event])
    payload = event.payload
    assert isinstance(payload, OverrideScheduled)
    log.info("override_accepted", team_id=caller.team_id, override_id=payload.override_id,
             layer=req.layer, duplicate=not fresh)  # fmt: skip
    return OverrideAccepted(override_id=payload.override_id, event_id=event.event_id)
