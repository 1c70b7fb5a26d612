"""Carer endpoints of the team-scoped API: a client's carers with the consent in force (the
read is recorded), register a carer, grant or revoke the client's consent to share with
them, record the carer's own assessment. Checked like `dispatch carer ...` and
`dispatch consent ...`; a client of another team is 404."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from dispatch.clients.events import CONSENT_SHARES, ConsentShare
from dispatch.clients.intake import (
    AssessmentInput,
    CarerInput,
    ConsentInput,
    RevokeInput,
    add_carer,
    assess_carer,
    grant_consent,
    revoke_consent,
)
from dispatch.events import Envelope
from dispatch.risk.intake import records_viewed
from dispatch.web.changes import actor_of, checked, spool
from dispatch.web.context import ctx
from dispatch.web.http import ApiError
from dispatch.web.schema import ApiModel, ApiRoutes, NoInput
from dispatch.web.security import api_caller

routes = ApiRoutes("carers")
STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)
ERRORS = (404,)


class CarerBody(CarerInput):
    """A carer of the client: their id, name, phone (E.164) and relationship."""

    model_config = STRICT


class ConsentBody(ConsentInput):
    """What the client agrees the team may tell the carer (`crisis_status`, `care_plan`,
    `appointments`) and when to review it with them (YYYY-MM-DD, within a year)."""

    model_config = STRICT


class RevokeBody(RevokeInput):
    """The client withdraws consent; `reason` optional."""

    model_config = STRICT


class AssessmentBody(AssessmentInput):
    """The carer's needs, the support offered, the next review (default a year on)."""

    model_config = STRICT


class CarerRecorded(ApiModel):
    """The event was spooled (`duplicate`: it had been already). `in_force`: the read models
    have it, so the next call or signal follows it (null: not waited for)."""

    event_id: UUID
    type: str
    duplicate: bool
    in_force: bool | None = None


class ConsentInForce(ApiModel):
    """What the client lets the team tell the carer now, since when, and when to review it
    with the client (`review_overdue`: still in force, past its review date)."""

    shares: list[ConsentShare]
    granted_at: datetime
    review_by: date | None
    review_overdue: bool


class CarerView(ApiModel):
    """A carer of the client; `consent` null: they may be told nothing about the client."""

    carer_id: str
    display_name: str
    phone: str
    relationship: str
    consent: ConsentInForce | None


class ClientCarers(ApiModel):
    client_id: str
    as_of: datetime
    carers: list[CarerView]


def _ids(request: web.Request) -> tuple[str, str]:
    return request.match_info["client_id"], request.match_info.get("carer_id", "")


@routes.get("/api/clients/{client_id}/carers", query=NoInput, response=ClientCarers,
            errors=ERRORS)  # fmt: skip
async def list_carers(request: web.Request, _: NoInput) -> ClientCarers:
    """A client of the caller's team: their carers and the consent in force for each. The
    read is recorded (`ClientRecordsViewed`) before the answer."""
    caller, c = api_caller(request), ctx(request)
    client_id = request.match_info["client_id"]
    if await c.carers.client_team(client_id) != caller.team_id:
        raise ApiError(404, f"no client {client_id!r} in your team", "client_id")
    now = c.clock.now()
    read = records_viewed(team_id=caller.team_id, viewer=actor_of(caller),
                          view=f"carers:{client_id}", client_ids=[client_id], now=now)  # fmt: skip
    await c.spool.record([read])
    carers = []
    for row in await c.carers.carers_of(client_id):
        found = await c.carers.consent(client_id, row.carer_id)
        consent = None if found is None else ConsentInForce(
            shares=sorted(found.shares, key=CONSENT_SHARES.index), granted_at=found.granted_at,
            review_by=found.review_by, review_overdue=found.review_overdue(now.date()))  # fmt: skip
        carers.append(CarerView(carer_id=row.carer_id, display_name=row.display_name,
                                phone=row.phone, relationship=row.relationship,
                                consent=consent))  # fmt: skip
    return ClientCarers(client_id=client_id, as_of=now, carers=carers)


@routes.post("/api/clients/{client_id}/carers", body=CarerBody, response=CarerRecorded,
             errors=ERRORS)  # fmt: skip
async def register_carer(request: web.Request, body: CarerBody) -> CarerRecorded:
    """A carer of a client of the caller's team (CarerRegistered); consent is separate."""
    caller, c = api_caller(request), ctx(request)
    client_id, _ = _ids(request)
    event = await checked(add_carer(c.carers, client_id, body, team_id=caller.team_id,
                                    now=c.clock.now(), actor=actor_of(caller)))  # fmt: skip
    fresh, _ = await spool(request, [event])
    return CarerRecorded(event_id=event.event_id, type=event.type, duplicate=not fresh)


async def _carer_change(
    request: web.Request, change: Callable[..., Awaitable[Envelope]], body: BaseModel,
    *, wait: bool = False,
) -> CarerRecorded:  # fmt: skip
    """One change about the carer the path names, for a client of the caller's team."""
    caller, c = api_caller(request), ctx(request)
    client_id, carer_id = _ids(request)
    event = await checked(change(c.carers, client_id, carer_id, body, team_id=caller.team_id,
                                 now=c.clock.now(), actor=actor_of(caller)))  # fmt: skip
    fresh, applied = await spool(request, [event], wait=wait)
    return CarerRecorded(event_id=event.event_id, type=event.type, duplicate=not fresh,
                         in_force=applied)  # fmt: skip


@routes.post("/api/clients/{client_id}/carers/{carer_id}/consent", body=ConsentBody,
             response=CarerRecorded, errors=ERRORS)  # fmt: skip
async def grant(request: web.Request, body: ConsentBody) -> CarerRecorded:
    """The client's consent to share with the carer (ConsentGranted), replacing any in
    force; waits (bounded) until it is in force."""
    return await _carer_change(request, grant_consent, body, wait=True)


@routes.post("/api/clients/{client_id}/carers/{carer_id}/consent/revoke", body=RevokeBody,
             response=CarerRecorded, errors=ERRORS)  # fmt: skip
async def revoke(request: web.Request, body: RevokeBody) -> CarerRecorded:
    """The client withdraws consent (ConsentRevoked): from then on the carer is told nothing
    about them and their signals are refused; waits (bounded) until it is in force."""
    return await _carer_change(request, revoke_consent, body, wait=True)


@routes.post("/api/clients/{client_id}/carers/{carer_id}/assessment", body=AssessmentBody,
             response=CarerRecorded, errors=ERRORS)  # fmt: skip
async def assess(request: web.Request, body: AssessmentBody) -> CarerRecorded:
    """A carer's own assessment and care plan, or its review (CarerAssessmentRecorded)."""
    return await _carer_change(request, assess_carer, body)
