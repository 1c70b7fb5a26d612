"""The team-scoped HTTP API (JSON). Every caller sees only their own team's dispatches."""

from __future__ import annotations

from typing import Literal

from aiohttp import web

from dispatch.risk.intake import records_viewed
from dispatch.web.context import ctx
from dispatch.web.http import ApiError
from dispatch.web.schema import ApiModel, ApiRoutes, NoInput
from dispatch.web.security import api_caller
from projections.models import ArchivedEvent, Dispatch, Page

routes = ApiRoutes("dispatches")
health_routes = ApiRoutes("service")


class Health(ApiModel):
    """The web edge is up; how many accepted events still wait to be relayed to the broker."""

    status: Literal["ok"]
    spool_pending: int


class DispatchList(ApiModel):
    """The open and acknowledged dispatches of the caller's team."""

    team_id: str
    dispatches: list[Dispatch]


class DispatchDetail(ApiModel):
    """One dispatch with the pages sent for it and its events, oldest first."""

    dispatch: Dispatch
    pages: list[Page]
    timeline: list[ArchivedEvent]


@health_routes.get("/health", query=NoInput, response=Health, auth=False)
async def health(request: web.Request, _: NoInput) -> Health:
    """Liveness plus how many ingress events still wait for the broker."""
    return Health(status="ok", spool_pending=await ctx(request).spool.pending())


@routes.get("/api/dispatches", query=NoInput, response=DispatchList)
async def list_dispatches(request: web.Request, _: NoInput) -> DispatchList:
    """Open and acknowledged dispatches of the caller's team."""
    caller = api_caller(request)
    rows = await ctx(request).read_models.open_dispatches(caller.team_id)
    return DispatchList(team_id=caller.team_id, dispatches=rows)


@routes.get("/api/dispatches/{code}", query=NoInput, response=DispatchDetail, errors=[404])
async def show_dispatch(request: web.Request, _: NoInput) -> DispatchDetail:
    """One dispatch of the caller's team, with its pages and its event timeline.

    The read is itself recorded (`ClientRecordsViewed`) before the dispatch is returned.
    """
    caller = api_caller(request)
    rm = ctx(request).read_models
    row = await rm.dispatch_by_code(request.match_info["code"].upper())
    if row is None or row.team_id != caller.team_id:
        raise ApiError(404, "no dispatch with that code in your team", "code")
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
    pages = await rm.pages(row.dispatch_id)
    return DispatchDetail(dispatch=row, pages=pages, timeline=timeline)
