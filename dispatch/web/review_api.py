"""The manager's review through the team API (GET /api/review/...): managers and team leads
of the caller's team only. Every read of client data is recorded before the answer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import structlog
from aiohttp import web
from pydantic import AwareDatetime, Field

from dispatch.review.asof import AsOf
from dispatch.review.client import ClientHistory
from dispatch.review.fidelity import Fidelity
from dispatch.review.incident import Incident, IncidentSummary
from dispatch.review.team import TeamFigures
from dispatch.web.context import ctx
from dispatch.web.http import ApiError
from dispatch.web.schema import ApiModel, ApiRoutes, NoInput
from dispatch.web.security import Caller, api_caller

log = structlog.get_logger(__name__)
routes = ApiRoutes("review")
REVIEWERS = frozenset({"manager", "team_lead"})
FROM = "window start, ISO 8601 with a UTC offset (default: `to` less the default span)"
TO = "window end, ISO 8601 with a UTC offset (default: now)"


class Window(ApiModel):
    start: AwareDatetime | None = Field(default=None, alias="from", description=FROM)
    end: AwareDatetime | None = Field(default=None, alias="to", description=TO)


class IncidentsQuery(Window):
    reason: Literal["crisis_call", "crisis_text", "risk_high"] | None = None
    outcome: str | None = Field(default=None, max_length=200, description="outcome contains")
    escalated: bool | None = Field(default=None, description="only (not) escalated incidents")


class AsOfQuery(ApiModel):
    at: AwareDatetime = Field(description="the instant, ISO 8601 with a UTC offset")


class IncidentList(ApiModel):
    """The team's incidents that started in [start, end)."""

    team_id: str
    start: datetime
    end: datetime
    incidents: list[IncidentSummary]


def _window(c: Window, now: datetime, span: timedelta) -> tuple[datetime, datetime]:
    end = c.end or now
    start = c.start or end - span
    if start >= end:
        raise ApiError(400, "must be before to", "from")
    return start, end


def _viewer(caller: Caller) -> str:
    return f"api:{caller.role}:{caller.staff_id or caller.token_hint + '...'}"


@routes.get("/api/review/incidents/{code}", query=NoInput, response=Incident, errors=[404],
            roles=REVIEWERS)  # fmt: skip
async def review_incident(request: web.Request, _: NoInput) -> Incident:
    """One incident of the caller's team: its timeline, pages, figures (the read is recorded)."""
    caller = api_caller(request)
    code = request.match_info["code"]
    found = await ctx(request).review.incident(code, team_id=caller.team_id,
                                               viewer=_viewer(caller))  # fmt: skip
    if found is None:
        raise ApiError(404, "no dispatch with that code in your team", "code")
    log.info("incident_reviewed", team_id=caller.team_id, code=found.short_code)
    return found


@routes.get("/api/review/incidents", query=IncidentsQuery, response=IncidentList,
            roles=REVIEWERS)  # fmt: skip
async def review_incidents(request: web.Request, q: IncidentsQuery) -> IncidentList:
    """The caller's team's incidents in a window (default: 7 days), filtered."""
    caller = api_caller(request)
    c = ctx(request)
    start, end = _window(q, c.clock.now(), timedelta(days=7))
    found = await c.review.incidents(
        caller.team_id, start, end, viewer=_viewer(caller), reason=q.reason,
        outcome=q.outcome, escalated=q.escalated,
    )  # fmt: skip
    return IncidentList(team_id=caller.team_id, start=start, end=end, incidents=found)


@routes.get("/api/review/clients/{client_id}", query=Window, response=ClientHistory,
            errors=[404], roles=REVIEWERS)  # fmt: skip
async def review_client(request: web.Request, q: Window) -> ClientHistory:
    """A client of the caller's team: everything about them (the read is recorded)."""
    caller = api_caller(request)
    found = await ctx(request).review.client(request.match_info["client_id"],
                                             team_id=caller.team_id, viewer=_viewer(caller),
                                             start=q.start, end=q.end)  # fmt: skip
    if found is None:
        raise ApiError(404, "no client of that id in your team", "client_id")
    return found


@routes.get("/api/review/as-of", query=AsOfQuery, response=AsOf, roles=REVIEWERS)
async def review_as_of(request: web.Request, q: AsOfQuery) -> AsOf:
    """What the system believed at ?at= about the caller's team (events recorded by then)."""
    caller = api_caller(request)
    return await ctx(request).review.as_of(q.at, team_id=caller.team_id, viewer=_viewer(caller))


@routes.get("/api/review/team", query=Window, response=TeamFigures, roles=REVIEWERS)
async def review_team(request: web.Request, q: Window) -> TeamFigures:
    """The team's response figures over a window (default: 7 days)."""
    caller = api_caller(request)
    c = ctx(request)
    start, end = _window(q, c.clock.now(), timedelta(days=7))
    return await c.review.team(caller.team_id, start, end)


@routes.get("/api/review/fidelity", query=Window, response=Fidelity, roles=REVIEWERS)
async def review_fidelity(request: web.Request, q: Window) -> Fidelity:
    """DACTS fidelity items with ratings and anchors over a window (default: 4 weeks)."""
    caller = api_caller(request)
    c = ctx(request)
    start, end = _window(q, c.clock.now(), timedelta(days=28))
    return await c.review.fidelity(caller.team_id, start, end)
