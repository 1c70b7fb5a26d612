"""Risk endpoints of the team-scoped API: report a relapse signal, record a plan or a
hospital admission/discharge, read the huddle board (the read is itself recorded)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

import structlog
from aiohttp import web

from dispatch.risk.intake import (
    SignalRefused,
    hospital_event,
    parse_hospital,
    parse_plan,
    parse_signal,
    plan_event,
    records_viewed,
    signal_event,
)
from dispatch.web.context import ctx
from dispatch.web.http import json_error, json_response
from dispatch.web.security import api_caller
from projections.pool import connect
from projections.risk_queries import RiskQueries

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()
RISK_QUERIES: web.AppKey[RiskQueries] = web.AppKey("risk_queries", RiskQueries)


async def _json_body(request: web.Request, *, optional: bool = False) -> Any:
    """The request's JSON body (`optional`: {} when it has none); 400 naming "body" if not JSON."""
    try:
        return await request.json() if not optional or request.can_read_body else {}
    except ValueError:
        raise SignalRefused(400, "body", "is not JSON") from None


@routes.post("/api/clients/{client_id}/signals")
async def report_signal(request: web.Request) -> web.Response:
    """A relapse signal about a client of the caller's team: spooled, then relayed to Kafka."""
    caller = api_caller(request)
    c = ctx(request)
    client_id = request.match_info["client_id"]
    try:
        body = await _json_body(request)
        signal = parse_signal(body)
        event = await signal_event(
            request.app[RISK_QUERIES],
            client_id=client_id,
            signal=signal,
            team_id=caller.team_id,
            reported_by=f"api:{caller.role}",
            now=c.clock.now(),
        )
    except SignalRefused as refused:
        log.info("signal_refused", client_id=client_id, field=refused.field, status=refused.status)
        return json_error(refused.status, refused.message, refused.field)
    fresh = await c.spool.record([event])
    log.info("signal_accepted", client_id=client_id, sign=signal.sign, duplicate=not fresh)
    return json_response({"event_id": str(event.event_id), "duplicate": not fresh}, status=202)


@routes.post("/api/clients/{client_id}/plan")
async def record_plan(request: web.Request) -> web.Response:
    """A client's relapse-prevention plan (first, or a review): spooled like a signal."""
    caller = api_caller(request)
    c = ctx(request)
    client_id = request.match_info["client_id"]
    try:
        body = await _json_body(request)
        event = await plan_event(
            request.app[RISK_QUERIES],
            client_id=client_id,
            plan=parse_plan(body),
            team_id=caller.team_id,
            agreed_by=f"api:{caller.role}",
            now=c.clock.now(),
        )
    except SignalRefused as refused:
        log.info("plan_refused", client_id=client_id, field=refused.field, status=refused.status)
        return json_error(refused.status, refused.message, refused.field)
    fresh = await c.spool.record([event])
    log.info("plan_accepted", client_id=client_id, type=event.type, duplicate=not fresh)
    return json_response(
        {"event_id": str(event.event_id), "type": event.type, "duplicate": not fresh}, status=202
    )


async def _hospital(request: web.Request, kind: Literal["admission", "discharge"]) -> web.Response:
    caller = api_caller(request)
    c = ctx(request)
    client_id = request.match_info["client_id"]
    try:
        body = await _json_body(request, optional=True)
        event = await hospital_event(
            request.app[RISK_QUERIES],
            client_id=client_id,
            kind=kind,
            stay=parse_hospital(body),
            team_id=caller.team_id,
            recorded_by=f"api:{caller.role}",
            now=c.clock.now(),
        )
    except SignalRefused as refused:
        log.info("hospital_refused", client_id=client_id, kind=kind, field=refused.field)
        return json_error(refused.status, refused.message, refused.field)
    fresh = await c.spool.record([event])
    log.info("hospital_accepted", client_id=client_id, type=event.type, duplicate=not fresh)
    return json_response(
        {"event_id": str(event.event_id), "type": event.type, "duplicate": not fresh}, status=202
    )


@routes.post("/api/clients/{client_id}/admission")
async def record_admission(request: web.Request) -> web.Response:
    """A hospital admission (`occurred_at`, `facility`, both optional): spooled."""
    return await _hospital(request, "admission")


@routes.post("/api/clients/{client_id}/discharge")
async def record_discharge(request: web.Request) -> web.Response:
    """A hospital discharge (`occurred_at`, `facility`, both optional): spooled."""
    return await _hospital(request, "discharge")


@routes.get("/api/huddle")
async def huddle(request: web.Request) -> web.Response:
    """The caller's team's huddle board: clients by risk, with reasons and the last 24 h.
    The read is recorded (ClientRecordsViewed, spooled) before the board is returned."""
    caller = api_caller(request)
    c = ctx(request)
    now = c.clock.now()
    board = await request.app[RISK_QUERIES].huddle(caller.team_id, now)
    viewer = f"api:{caller.role}:{caller.staff_id or caller.token_hint + '...'}"
    await c.spool.record(
        [
            records_viewed(
                team_id=caller.team_id,
                viewer=viewer,
                view="huddle_board",
                client_ids=[r.client_id for r in board],
                now=now,
            )
        ]
    )
    log.info("huddle_viewed", team_id=caller.team_id, viewer=viewer, clients=len(board))
    return json_response({"team_id": caller.team_id, "as_of": now, "clients": board})


def add_risk_routes(app: web.Application, database_url: str) -> None:
    """The risk routes and their read-model pool (opened with the app, closed with it)."""

    async def pool_ctx(app: web.Application) -> AsyncIterator[None]:
        pool = await connect(database_url, max_size=4)
        app[RISK_QUERIES] = RiskQueries(pool)
        yield
        await pool.close()

    app.cleanup_ctx.append(pool_ctx)
    app.add_routes(routes)
