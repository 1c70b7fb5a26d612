"""The team-scoped HTTP API (JSON). Every caller sees only their own team's dispatches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from aiohttp import web

from dispatch.health.report import CheckResult
from dispatch.risk.intake import records_viewed
from dispatch.web.context import CONTEXT, ctx
from dispatch.web.http import ApiError
from dispatch.web.paged_dispatch import paged_dispatch
from dispatch.web.schema import ApiModel, ApiRoutes, NoInput
from dispatch.web.security import api_caller
from projections.models import ArchivedEvent, Dispatch, Page

routes = ApiRoutes("dispatches")
health_routes = ApiRoutes("service")


class Health(ApiModel):
    """Every check is green: a crisis contact taken now goes through to a page."""

    status: Literal["ok"]
    checks: dict[str, CheckResult]


class HealthFailing(ApiModel):
    """At least one check is red; `reasons` says which and why, one line each."""

    status: Literal["failing"]
    reasons: list[str]
    checks: dict[str, CheckResult]


class DispatchList(ApiModel):
    """The open and acknowledged dispatches of the caller's team."""

    team_id: str
    dispatches: list[Dispatch]


class DispatchDetail(ApiModel):
    """One dispatch with the pages sent for it and its events, oldest first."""

    dispatch: Dispatch
    pages: list[Page]
    timeline: list[ArchivedEvent]


@health_routes.get(
    "/health",
    query=NoInput,
    response=Health,
    auth=False,
    alternatives=[(503, HealthFailing, "A check is red (the reasons say which)")],
)
async def health(request: web.Request, _: NoInput) -> Health | HealthFailing:
    """Whether a crisis contact taken now would go through to a page.

    200 when every check is green. 503 with the reasons when one is red: PostgreSQL or the
    broker unreachable (or its event topics missing), no worker consuming, the ingress
    spool not draining, or an accepted crisis contact waiting too long for its first page.
    Answers within about a second whatever the parts do (a probe that hangs is red)."""
    report = await ctx(request).health.monitor.report()
    checks = dict(report.checks)
    if report.ok:
        return Health(status="ok", checks=checks)
    return HealthFailing(status="failing", reasons=report.reasons, checks=checks)


@health_routes.page("/metrics", media_type="text/plain")
async def metrics(request: web.Request) -> str:
    """The health checks, the spool, page latency and escalation lag, for Prometheus."""
    return (await ctx(request).health.metrics.render()).decode()


async def dead_mans_switch(app: web.Application) -> AsyncIterator[None]:
    """While the app serves, beat to HEARTBEAT_URL whenever /health is green."""
    switch = app[CONTEXT].health.heartbeat
    if switch is not None:
        switch.start()
    yield
    if switch is not None:
        await switch.stop()


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
    c = ctx(request)
    rm = c.read_models
    row = await paged_dispatch(c, request.match_info["code"].upper(), team_id=caller.team_id)
    if row is None:
        raise ApiError(404, "no dispatch with that code in your team", "code")
    timeline = await rm.archive(correlation_id=row.correlation_id)
    # Every read of a client's record is itself an event (safety rule 6), before the answer.
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
