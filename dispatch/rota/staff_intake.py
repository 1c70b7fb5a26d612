"""Changes to a team's roster and rota as events, after the same checks on every edge.

`dispatch staff join|leave|role`, `dispatch rota override` and the team API all come
through here: bad input raises RotaRefused naming the field (the CLI exits 2 naming the
option, the API answers the problem's status) and nothing is recorded. Who made the change
is the events' actor. A departure also records the coverage gaps it opens in the rota.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from dispatch.events import Envelope, derived_id, new_event
from dispatch.events.envelope import EventPayload
from dispatch.rota.checks import override_problem, refuse
from dispatch.rota.events import (
    Layer,
    OverrideCancelled,
    OverrideScheduled,
    Role,
    StaffJoined,
    StaffLeft,
    StaffRoleChanged,
)
from dispatch.rota.gaps import GAP_HORIZON, coverage_gaps, gap_events
from dispatch.rota.state import Entry, TeamRota, evolve_team
from dispatch.vocabulary import E164_PATTERN, Gender

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"
PAST_LIMIT = timedelta(days=31)  # a join or departure recorded late
FUTURE_LIMIT = timedelta(days=90)  # a join or departure planned ahead


class StaffPerson(Protocol):
    """Someone on a roster, as the read model has them."""

    @property
    def staff_id(self) -> str: ...

    @property
    def team_id(self) -> str: ...

    @property
    def left_at(self) -> datetime | None: ...


class RosterLookup(Protocol):
    async def team_rota(self, team_id: str, start: datetime, end: datetime) -> TeamRota: ...

    async def staff(self, staff_id: str) -> StaffPerson | None: ...

    async def phone_holder(self, phone: str, at: datetime) -> StaffPerson | None: ...

    async def override_entry(
        self, team_id: str, override_id: str
    ) -> Entry[OverrideScheduled] | None: ...


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JoinInput(_Input):
    staff_id: str = Field(pattern=ID_PATTERN)
    display_name: str = Field(min_length=1, max_length=120)
    role: Role
    gender: Gender = "unspecified"
    phone: str = Field(pattern=E164_PATTERN)
    languages: tuple[str, ...] = Field(default=("en",), min_length=1)
    joined_at: AwareDatetime | None = None


class LeaveInput(_Input):
    left_at: AwareDatetime | None = None
    reason: str = Field(default="", max_length=200)


class RoleInput(_Input):
    role: Role


class OverrideInput(_Input):
    layer: Layer
    staff_id: str = Field(min_length=1)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    override_id: str | None = Field(default=None, min_length=1)


def _event(payload: EventPayload, team_id: str, at: datetime, now: datetime, actor: str,
           event_id: uuid.UUID | None = None) -> Envelope:  # fmt: skip
    return new_event(payload, key=team_id, occurred_at=at, recorded_at=now, actor=actor,
                     event_id=event_id)  # fmt: skip


def _when(given: datetime | None, now: datetime, field: str) -> datetime:
    at = given or now
    if at > now + FUTURE_LIMIT or at < now - PAST_LIMIT:
        raise refuse(field, f"must be within {PAST_LIMIT.days} days before and "
                            f"{FUTURE_LIMIT.days} days after now")  # fmt: skip
    return at


async def _team(lookup: RosterLookup, team_id: str, now: datetime) -> TeamRota:
    rota = await lookup.team_rota(team_id, now, now + timedelta(microseconds=1))
    if rota.team is None:
        raise refuse("team_id", f"no team {team_id!r}", 404)
    return rota


def _member(rota: TeamRota, staff_id: str, now: datetime) -> None:
    if rota.member(staff_id) is None:
        raise refuse("staff_id", f"no staff member {staff_id!r} in team {rota.team_id}", 404)
    left = rota.left_at(staff_id)
    if left is not None and left <= now:
        raise refuse("staff_id", f"{staff_id!r} left the team at {left.isoformat()}", 409)


async def join(
    lookup: RosterLookup, team_id: str, req: JoinInput, *, now: datetime, actor: str
) -> list[Envelope]:
    """StaffJoined: someone new (or a leaver coming back) with a phone no colleague has."""
    await _team(lookup, team_id, now)
    at = _when(req.joined_at, now, "joined_at")
    known = await lookup.staff(req.staff_id)
    if known is not None and not (known.left_at is not None and known.left_at <= now):
        where = "on this team" if known.team_id == team_id else f"on team {known.team_id}"
        raise refuse("staff_id", f"{req.staff_id!r} is already {where}", 409)
    holder = await lookup.phone_holder(req.phone, now)
    if holder is not None and holder.staff_id != req.staff_id:
        raise refuse("phone", f"is the phone of {holder.staff_id}", 422)
    fields = req.model_dump(exclude={"joined_at"})
    return [_event(StaffJoined(team_id=team_id, **fields), team_id, at, now, actor)]


async def leave(
    lookup: RosterLookup, team_id: str, staff_id: str, req: LeaveInput, *, now: datetime,
    actor: str,
) -> list[Envelope]:  # fmt: skip
    """StaffLeft, then one CoverageGapDetected for each period of the next GAP_HORIZON
    where the rota still names them."""
    rota = await _team(lookup, team_id, now)
    _member(rota, staff_id, now)
    at = _when(req.left_at, now, "left_at")
    left = _event(StaffLeft(staff_id=staff_id, team_id=team_id, left_at=at, reason=req.reason),
                  team_id, now, now, actor)  # fmt: skip
    window = evolve_team(await lookup.team_rota(team_id, at, at + GAP_HORIZON), left)
    gaps = coverage_gaps(window, at, at + GAP_HORIZON)
    return [left, *gap_events(gaps, now=now, actor=actor, cause=left)]


async def change_role(
    lookup: RosterLookup, team_id: str, staff_id: str, req: RoleInput, *, now: datetime,
    actor: str,
) -> list[Envelope]:  # fmt: skip
    rota = await _team(lookup, team_id, now)
    _member(rota, staff_id, now)
    member = rota.member(staff_id)
    previous = member.role if member else None
    if previous == req.role:
        raise refuse("role", f"{staff_id!r} is already {req.role}")
    changed = StaffRoleChanged(staff_id=staff_id, team_id=team_id, role=req.role,
                               previous_role=previous)  # fmt: skip
    return [_event(changed, team_id, now, now, actor)]


async def override(
    lookup: RosterLookup, team_id: str, req: OverrideInput, *, now: datetime, actor: str
) -> tuple[Envelope, bool]:
    """OverrideScheduled after every rota check; (the event, True when the same override
    was recorded before: a retry, recording nothing new)."""
    if req.ends_at <= req.starts_at:
        raise refuse("ends_at", "must be after starts_at")
    await _team(lookup, team_id, now)
    key = (team_id, req.layer, req.staff_id, req.starts_at, req.ends_at)
    override_id = req.override_id or str(derived_id("override", *key))
    wanted = OverrideScheduled(team_id=team_id, override_id=override_id, layer=req.layer,
                               staff_id=req.staff_id, starts_at=req.starts_at,
                               ends_at=req.ends_at)  # fmt: skip
    existing = await lookup.override_entry(team_id, override_id)
    rota = await lookup.team_rota(team_id, req.starts_at, req.ends_at)
    problem = override_problem(rota, wanted, existing)
    if problem is not None:
        raise refuse(problem.field, problem.message, problem.status)
    event_id = derived_id("override-request", override_id, *key)
    return _event(wanted, team_id, now, now, actor, event_id), existing is not None


async def cancel_override(
    lookup: RosterLookup, team_id: str, override_id: str, *, now: datetime, actor: str
) -> Envelope:
    await _team(lookup, team_id, now)
    if await lookup.override_entry(team_id, override_id) is None:
        raise refuse("override_id", f"no override {override_id!r} in team {team_id}", 404)
    cancelled = OverrideCancelled(team_id=team_id, override_id=override_id)
    return _event(cancelled, team_id, now, now, actor)
