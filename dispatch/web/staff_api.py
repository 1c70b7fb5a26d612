"""Staff endpoints of the team-scoped API: the team's staff, and who joins, leaves or
changes role (team leads and managers only), checked like `dispatch staff ...`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from dispatch.events import Envelope
from dispatch.rota.events import CoverageGapDetected
from dispatch.rota.gaps import CoverageGap
from dispatch.rota.staff_intake import JoinInput, LeaveInput, RoleInput, change_role, join, leave
from dispatch.web.changes import actor_of, checked, spool
from dispatch.web.context import ctx
from dispatch.web.schema import ApiModel, ApiRoutes, NoInput
from dispatch.web.security import api_caller
from projections.models import StaffMember

routes = ApiRoutes("staff")
STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)
STAFF_EDITORS = frozenset({"team_lead", "manager"})
# Another team's staff (or none) 404; already done 409; a phone a colleague has 422.
CHANGE_ERRORS = (404, 409, 422)


class JoinBody(JoinInput):
    """Someone joins the caller's team (or a leaver comes back); `joined_at` default now."""

    model_config = STRICT


class LeaveBody(LeaveInput):
    """Someone leaves: `left_at` (default now, up to 90 days ahead) and why."""

    model_config = STRICT


class RoleBody(RoleInput):
    """The staff member's new role."""

    model_config = STRICT


class StaffList(ApiModel):
    """The team's staff, leavers included (`left_at` says when they leave or left)."""

    team_id: str
    as_of: datetime
    staff: list[StaffMember]


class StaffChanged(ApiModel):
    """The change was spooled (`duplicate`: it had been already); `in_force`: the read
    models have it (null: not waited for)."""

    event_ids: list[UUID]
    duplicate: bool
    in_force: bool | None = None


class StaffLeftAccepted(StaffChanged):
    """The departure, and each period of the next four weeks where the rota still names
    them: a coverage gap to fill with an override."""

    gaps: list[CoverageGap] = Field(default_factory=list)


@routes.get("/api/staff", query=NoInput, response=StaffList)
async def list_staff(request: web.Request, _: NoInput) -> StaffList:
    """The caller's team's staff, with when leavers left."""
    caller = api_caller(request)
    c = ctx(request)
    roster = await c.staff_roster.roster(caller.team_id)
    return StaffList(team_id=caller.team_id, as_of=c.clock.now(), staff=roster)


@routes.post("/api/staff", body=JoinBody, response=StaffChanged, errors=CHANGE_ERRORS,
             roles=STAFF_EDITORS)  # fmt: skip
async def join_staff(request: web.Request, body: JoinBody) -> StaffChanged:
    """Someone joins the caller's team (StaffJoined); 409 when the id is someone still on a
    team, 422 when a colleague has the phone."""
    caller = api_caller(request)
    c = ctx(request)
    events = await checked(
        join(c.staff_roster, caller.team_id, body, now=c.clock.now(), actor=actor_of(caller))
    )
    fresh, _ = await spool(request, events)
    return StaffChanged(event_ids=[e.event_id for e in events], duplicate=not fresh)


async def _staff_change(
    request: web.Request, change: Callable[..., Awaitable[list[Envelope]]], body: BaseModel,
    *, wait: bool = False,
) -> tuple[list[Envelope], bool, bool | None]:  # fmt: skip
    """One change about the staff member the path names: (events, fresh, in force)."""
    caller = api_caller(request)
    c = ctx(request)
    staff_id = request.match_info["staff_id"]
    events: list[Envelope] = await checked(
        change(
            c.staff_roster,
            caller.team_id,
            staff_id,
            body,
            now=c.clock.now(),
            actor=actor_of(caller),
        )
    )
    fresh, applied = await spool(request, events, wait=wait)
    return events, fresh, applied


@routes.post("/api/staff/{staff_id}/leave", body=LeaveBody, response=StaffLeftAccepted,
             errors=CHANGE_ERRORS, roles=STAFF_EDITORS)  # fmt: skip
async def staff_leaves(request: web.Request, body: LeaveBody) -> StaffLeftAccepted:
    """Someone of the caller's team leaves (StaffLeft): from `left_at` their replies are
    refused and they are never paged; each period the rota still gives them is recorded as
    a CoverageGapDetected and returned. Waits (bounded) until the departure is in force."""
    events, fresh, applied = await _staff_change(request, leave, body, wait=True)
    gaps = [
        CoverageGap(p.team_id, p.layer, p.starts_at, p.ends_at, p.staff_id, p.source)
        for e in events
        if isinstance(p := e.payload, CoverageGapDetected)
    ]
    return StaffLeftAccepted(event_ids=[e.event_id for e in events], duplicate=not fresh,
                             in_force=applied, gaps=gaps)  # fmt: skip


@routes.post("/api/staff/{staff_id}/role", body=RoleBody, response=StaffChanged,
             errors=CHANGE_ERRORS, roles=STAFF_EDITORS)  # fmt: skip
async def staff_role(request: web.Request, body: RoleBody) -> StaffChanged:
    """A staff member of the caller's team changes role (StaffRoleChanged)."""
    events, fresh, _ = await _staff_change(request, change_role, body)
    return StaffChanged(event_ids=[e.event_id for e in events], duplicate=not fresh)
