"""Risk endpoints of the team-scoped API: report a relapse signal, record a plan or a
hospital admission/discharge, read the huddle board (the read is itself recorded)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Literal
from uuid import UUID

import structlog
from aiohttp import web
from pydantic import ConfigDict, Field

from dispatch.clients.notices import BoardNotice
from dispatch.events import Envelope
from dispatch.risk.intake import (
    HospitalInput,
    PlanInput,
    SignalInput,
    SignalRefused,
    hospital_event,
    plan_event,
    records_viewed,
    signal_event,
)
from dispatch.risk.ports import HuddleRow
from dispatch.web.context import ctx
from dispatch.web.http import ApiError
from dispatch.web.schema import ApiModel, ApiRoutes, NoInput
from dispatch.web.security import api_caller
from projections.risk_queries import RiskQueries
from projections.team_notices import team_notices

log = structlog.get_logger(__name__)
routes = ApiRoutes("risk")
STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)
# A client of another team (or none) is 404; a carer without consent on file 403.
RECORD_ERRORS = (404,)


class SignalBody(SignalInput):
    """A relapse sign observed in a client: who saw it, how severe (1-5), when."""

    model_config = STRICT


class PlanBody(PlanInput):
    """A relapse-prevention plan: warning signs and their weights, triggers, actions."""

    model_config = STRICT


class HospitalBody(HospitalInput):
    """A hospital admission or discharge: when (default now) and where, both optional."""

    model_config = STRICT


class Recorded(ApiModel):
    """The event was spooled for the broker (`duplicate`: it had been already)."""

    event_id: UUID
    type: str
    duplicate: bool


class SignalRecorded(ApiModel):
    """The signal was spooled for the broker (`duplicate`: it had been already)."""

    event_id: UUID
    duplicate: bool


class HuddleBoard(ApiModel):
    """The team's clients by risk, with reasons, last contacts and the last 24 h."""

    team_id: str
    as_of: datetime
    clients: list[HuddleRow]
    notices: list[BoardNotice] = Field(
        default_factory=list, description="the team's rota gaps, consents and carers due"
    )


async def _spooled(
    request: web.Request, what: str, client_id: str, making: Awaitable[Envelope]
) -> Recorded:
    """The event `making` builds, spooled; a refusal is the API's error naming the field."""
    try:
        event = await making
    except SignalRefused as refused:
        log.info("risk_record_refused", record=what, client_id=client_id,
                 field=refused.field, status=refused.status)  # fmt: skip
        raise ApiError(refused.status, refused.message, refused.field) from None
    fresh = await ctx(request).spool.record([event])
    log.info("risk_record_accepted", record=what, client_id=client_id, type=event.type,
             duplicate=not fresh)  # fmt: skip
    return Recorded(event_id=event.event_id, type=event.type, duplicate=not fresh)


def _queries(request: web.Request) -> RiskQueries:
    return ctx(request).risk_queries


@routes.post("/api/clients/{client_id}/signals", body=SignalBody, response=SignalRecorded,
             errors=(403, *RECORD_ERRORS))  # fmt: skip
async def report_signal(request: web.Request, signal: SignalBody) -> SignalRecorded:
    """A relapse signal about a client of the caller's team: spooled, then relayed to Kafka.

    A carer's signal needs `carer_id` and the client's consent to share with them (403).
    """
    caller = api_caller(request)
    client_id = request.match_info["client_id"]
    making = signal_event(
        _queries(request),
        client_id=client_id,
        signal=signal,
        team_id=caller.team_id,
        reported_by=f"api:{caller.role}",
        now=ctx(request).clock.now(),
    )
    recorded = await _spooled(request, "signal", client_id, making)
    return SignalRecorded(event_id=recorded.event_id, duplicate=recorded.duplicate)


@routes.post("/api/clients/{client_id}/plan", body=PlanBody, response=Recorded,
             errors=RECORD_ERRORS)  # fmt: skip
async def record_plan(request: web.Request, plan: PlanBody) -> Recorded:
    """A client's relapse-prevention plan (first, or a review): spooled like a signal."""
    caller = api_caller(request)
    client_id = request.match_info["client_id"]
    making = plan_event(
        _queries(request),
        client_id=client_id,
        plan=plan,
        team_id=caller.team_id,
        agreed_by=f"api:{caller.role}",
        now=ctx(request).clock.now(),
    )
    return await _spooled(request, "plan", client_id, making)


async def _hospital(
    request: web.Request, kind: Literal["admission", "discharge"], stay: HospitalBody
) -> Recorded:
    caller = api_caller(request)
    client_id = request.match_info["client_id"]
    making = hospital_event(
        _queries(request),
        client_id=client_id,
        kind=kind,
        stay=stay,
        team_id=caller.team_id,
        recorded_by=f"api:{caller.role}",
        now=ctx(request).clock.now(),
    )
    return await _spooled(request, "hospital", client_id, making)


@routes.post("/api/clients/{client_id}/admission", body=HospitalBody, response=Recorded,
             errors=RECORD_ERRORS)  # fmt: skip
async def record_admission(request: web.Request, stay: HospitalBody) -> Recorded:
    """A hospital admission (`occurred_at`, `facility`, both optional): spooled."""
    return await _hospital(request, "admission", stay)


@routes.post("/api/clients/{client_id}/discharge", body=HospitalBody, response=Recorded,
             errors=RECORD_ERRORS)  # fmt: skip
async def record_discharge(request: web.Request, stay: HospitalBody) -> Recorded:
    """A hospital discharge (`occurred_at`, `facility`, both optional): spooled."""
    return await _hospital(request, "discharge", stay)


@routes.get("/api/huddle", query=NoInput, response=HuddleBoard)
async def huddle(request: web.Request, _: NoInput) -> HuddleBoard:
    """The caller's team's huddle board: clients by risk, with reasons and the last 24 h.

    The read is recorded (`ClientRecordsViewed`, spooled) before the board is returned.
    """
    caller = api_caller(request)
    c = ctx(request)
    now = c.clock.now()
    board = await _queries(request).huddle(caller.team_id, now)
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
    notices = await team_notices(c.staff_roster, c.carers, caller.team_id, now)
    return HuddleBoard(team_id=caller.team_id, as_of=now, clients=board, notices=notices)
