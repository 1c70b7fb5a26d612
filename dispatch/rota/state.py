"""The rota state of every team: a pure, order-tolerant fold of roster and rota events.

evolve(state, event) never looks at a clock. Each entry remembers the (occurred_at,
event_id) of its last writer; an older event never overwrites a newer one, so replaying
the log, or the same events in another order, or twice, gives the same state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from dispatch.events import Envelope
from dispatch.rota.events import (
    CoverageSet,
    OverrideCancelled,
    OverrideScheduled,
    RotationDefined,
    RotationRetired,
    ShiftAssigned,
    ShiftsSwapped,
    StaffJoined,
    StaffLeft,
    StaffRegistered,
    StaffRoleChanged,
    TeamFormed,
)

V = TypeVar("V")
Stamp = tuple[datetime, str]


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Entry(Generic[V]):
    """A value and the stamp of the event that wrote it; value None: retired or cancelled."""

    stamp: Stamp
    value: V | None


def stamp_of(event: Envelope) -> Stamp:
    return (event.occurred_at, str(event.event_id))


def _put(table: Mapping[str, Entry[V]], key: str, entry: Entry[V]) -> Mapping[str, Entry[V]]:
    current = table.get(key)
    if current is not None and current.stamp >= entry.stamp:
        return table
    return MappingProxyType({**table, key: entry})


@dataclass(frozen=True)
class TeamRota:
    """One team's rota. Tables map an id to its newest entry. `leavers` maps a staff id to
    their StaffLeft (None once a later StaffJoined brought them back)."""

    team_id: str
    team: Entry[TeamFormed] | None = None
    coverage: Entry[CoverageSet] | None = None
    staff: Mapping[str, Entry[StaffRegistered]] = field(default_factory=_empty)
    rotations: Mapping[str, Entry[RotationDefined]] = field(default_factory=_empty)
    overrides: Mapping[str, Entry[OverrideScheduled]] = field(default_factory=_empty)
    swaps: Mapping[str, Entry[ShiftsSwapped]] = field(default_factory=_empty)
    shifts: Mapping[str, Entry[ShiftAssigned]] = field(default_factory=_empty)
    leavers: Mapping[str, Entry[StaffLeft]] = field(default_factory=_empty)
    roles: Mapping[str, Entry[StaffRoleChanged]] = field(default_factory=_empty)

    @property
    def time_zone(self) -> str:
        value = self.team.value if self.team else None
        return value.time_zone if value else "UTC"

    @property
    def service_model(self) -> str:
        value = self.team.value if self.team else None
        return value.service_model if value else "ACT"

    def left_at(self, staff_id: str) -> datetime | None:
        """When the staff member leaves (or left) the team; None: they have not."""
        entry = self.leavers.get(staff_id)
        return entry.value.left_at if entry is not None and entry.value is not None else None

    def has_left(self, staff_id: str, at: datetime) -> bool:
        left = self.left_at(staff_id)
        return left is not None and left <= at

    def member(self, staff_id: str) -> StaffRegistered | None:
        """The staff member as registered, with a newer role change applied."""
        entry = self.staff.get(staff_id)
        if entry is None or entry.value is None:
            return None
        role = self.roles.get(staff_id)
        if role is not None and role.value is not None and role.stamp > entry.stamp:
            return entry.value.model_copy(update={"role": role.value.role})
        return entry.value

    def members(self) -> list[StaffRegistered]:
        """Everyone on the roster (leavers included), oldest registration first."""
        return [m for _, s in self.live(self.staff) if (m := self.member(s.staff_id))]

    def live(self, table: Mapping[str, Entry[V]]) -> list[tuple[Stamp, V]]:
        """The table's current values (retired/cancelled dropped), oldest writer first."""
        return sorted(
            ((e.stamp, e.value) for e in table.values() if e.value is not None),
            key=lambda pair: pair[0],
        )


@dataclass(frozen=True)
class RotaState:
    teams: Mapping[str, TeamRota] = field(default_factory=lambda: MappingProxyType({}))

    def team(self, team_id: str) -> TeamRota:
        return self.teams.get(team_id) or TeamRota(team_id=team_id)


def evolve_team(rota: TeamRota, event: Envelope) -> TeamRota:
    """The team's rota after one event (events of other kinds leave it unchanged)."""
    p = event.payload
    s = stamp_of(event)
    if isinstance(p, TeamFormed):
        if rota.team is None or rota.team.stamp < s:
            return replace(rota, team=Entry(s, p))
    elif isinstance(p, CoverageSet):
        if rota.coverage is None or rota.coverage.stamp < s:
            return replace(rota, coverage=Entry(s, p))
    elif isinstance(p, StaffRegistered):
        return replace(rota, staff=_put(rota.staff, p.staff_id, Entry(s, p)))
    elif isinstance(p, StaffJoined | StaffLeft | StaffRoleChanged):
        return _staff_change(rota, p, s)
    elif isinstance(p, RotationDefined):
        return replace(rota, rotations=_put(rota.rotations, p.rotation_id, Entry(s, p)))
    elif isinstance(p, RotationRetired):
        retired: Entry[RotationDefined] = Entry(s, None)
        return replace(rota, rotations=_put(rota.rotations, p.rotation_id, retired))
    elif isinstance(p, OverrideScheduled):
        return replace(rota, overrides=_put(rota.overrides, p.override_id, Entry(s, p)))
    elif isinstance(p, OverrideCancelled):
        cancelled: Entry[OverrideScheduled] = Entry(s, None)
        return replace(rota, overrides=_put(rota.overrides, p.override_id, cancelled))
    elif isinstance(p, ShiftsSwapped):
        return replace(rota, swaps=_put(rota.swaps, p.swap_id, Entry(s, p)))
    elif isinstance(p, ShiftAssigned):
        return replace(rota, shifts=_put(rota.shifts, str(event.event_id), Entry(s, p)))
    return rota


def _staff_change(
    rota: TeamRota, p: StaffJoined | StaffLeft | StaffRoleChanged, s: Stamp
) -> TeamRota:
    """A join (a new member, or a leaver back), a departure, or a new role (kept apart from
    the registration, so the newer of the two wins in any order of arrival)."""
    if isinstance(p, StaffLeft):
        return replace(rota, leavers=_put(rota.leavers, p.staff_id, Entry(s, p)))
    if isinstance(p, StaffRoleChanged):
        return replace(rota, roles=_put(rota.roles, p.staff_id, Entry(s, p)))
    as_registered = StaffRegistered(**p.model_dump())
    back: Entry[StaffLeft] = Entry(s, None)
    return replace(
        rota,
        staff=_put(rota.staff, p.staff_id, Entry(s, as_registered)),
        leavers=_put(rota.leavers, p.staff_id, back),
    )


def team_of(event: Envelope) -> str | None:
    """The team a roster or rota event is about (None: not a rota event)."""
    p = event.payload
    if isinstance(
        p,
        TeamFormed
        | CoverageSet
        | StaffRegistered
        | RotationDefined
        | RotationRetired
        | OverrideScheduled
        | OverrideCancelled
        | ShiftsSwapped
        | ShiftAssigned
        | StaffJoined
        | StaffLeft
        | StaffRoleChanged,
    ):
        return p.team_id
    return None


def evolve(state: RotaState, event: Envelope) -> RotaState:
    team_id = team_of(event)
    if team_id is None:
        return state
    before = state.team(team_id)
    after = evolve_team(before, event)
    if after is before:
        return state
    return RotaState(teams=MappingProxyType({**state.teams, team_id: after}))


def fold(events: Iterable[Envelope], state: RotaState | None = None) -> RotaState:
    out = state or RotaState()
    for event in events:
        out = evolve(out, event)
    return out
