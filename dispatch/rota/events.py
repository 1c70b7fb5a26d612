"""Roster and rota events (key: team id, topic act.roster-events): teams, staff and who
covers which layer when. The current rota is a fold of them.

Every time of day is a wall-clock time in the team's own IANA zone (TeamFormed.time_zone);
every instant is timezone-aware. A later event with the same id (rotation_id, override_id)
replaces the earlier one; the newest (occurred_at, event_id) wins on replay in any order.
"""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import AwareDatetime, Field, model_validator

from dispatch.events.envelope import EventPayload
from dispatch.vocabulary import E164, E164_PATTERN, Gender, ServiceModel

Role = Literal[
    "psychiatrist",
    "nurse",
    "social_worker",
    "substance_use_specialist",
    "peer_support_worker",
    "occupational_therapist",
    "team_lead",
    "manager",
]
Layer = Literal["primary", "backup"]
Period = Literal["daily", "weekly"]


class TeamFormed(EventPayload):
    event_type = "TeamFormed"
    team_id: str
    name: str
    service_model: ServiceModel
    time_zone: str
    fallback_number: str = E164
    crisis_line_number: str | None = E164


class _StaffFacts(EventPayload):
    staff_id: str
    team_id: str
    display_name: str
    role: Role
    gender: Gender
    phone: str = E164
    languages: tuple[str, ...] = ("en",)


class StaffRegistered(_StaffFacts):
    """A staff member on the team's roster (the rota file's and the seed's form). It never
    undoes a StaffLeft: only StaffJoined brings a leaver back."""

    event_type = "StaffRegistered"


class StaffJoined(_StaffFacts):
    """Someone joins the team (or comes back after leaving) from occurred_at on."""

    event_type = "StaffJoined"


class StaffLeft(EventPayload):
    """Someone leaves the team at `left_at` (now, or a date ahead): from then on their phone's
    replies are refused, they are never paged, and a rota that still names them has a gap."""

    event_type = "StaffLeft"
    staff_id: str
    team_id: str
    left_at: AwareDatetime
    reason: str = Field(default="", max_length=200)


class StaffRoleChanged(EventPayload):
    """A staff member's role changes (who is team lead or manager decides who is paged)."""

    event_type = "StaffRoleChanged"
    staff_id: str
    team_id: str
    role: Role
    previous_role: Role | None = None


class CoverageGapDetected(EventPayload):
    """The rota names someone who has left for a period: nobody of the layer answers then
    (callers roll to the other layer and the fallback; escalation reports the target
    unreachable). Reported when found, never skipped silently; fixed by an override."""

    event_type = "CoverageGapDetected"
    team_id: str
    layer: Layer
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    staff_id: str
    source: Literal["override", "shift", "rotation"]


class ShiftAssigned(EventPayload):
    """An explicit shift: the staff member covers the layer for the period."""

    event_type = "ShiftAssigned"
    team_id: str
    staff_id: str
    layer: Layer
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class _Span(EventPayload):
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> _Span:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class CoverageSet(EventPayload):
    """The hours a team answers its own line, and who answers outside them (never nobody).

    all_day: ACT's 24/7. Otherwise every day from `opens` to `closes` local wall-clock time
    (closes before opens spans midnight). Exactly one fallback: another team or a number.
    """

    event_type = "CoverageSet"
    team_id: str
    all_day: bool
    opens: time = time(8, 0)
    closes: time = time(20, 0)
    fallback_team_id: str | None = None
    fallback_number: str | None = Field(default=None, pattern=E164_PATTERN)

    @model_validator(mode="after")
    def _one_fallback(self) -> CoverageSet:
        if (self.fallback_team_id is None) == (self.fallback_number is None):
            raise ValueError("set exactly one of fallback_team_id or fallback_number")
        if self.fallback_team_id == self.team_id:
            raise ValueError("fallback_team_id must name another team")
        if not self.all_day and self.opens == self.closes:
            raise ValueError("opens and closes must differ (use all_day for 24 h)")
        return self


class RotationDefined(EventPayload):
    """A layer's rotation: participants take turns, handing off at a local wall-clock time.

    Period n (n = 0 is the one containing starts_at) is covered by participants[n % len].
    Weekly hand-offs happen on `handoff_weekday` (0 = Monday). A 23- or 25-hour DST day is
    still one day. Redefining a rotation_id replaces it.
    """

    event_type = "RotationDefined"
    team_id: str
    rotation_id: str = Field(min_length=1)
    layer: Layer
    period: Period
    handoff_time: time
    handoff_weekday: int = Field(default=0, ge=0, le=6)
    participants: tuple[str, ...] = Field(min_length=1)
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> RotationDefined:
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class RotationRetired(EventPayload):
    event_type = "RotationRetired"
    team_id: str
    rotation_id: str


class OverrideScheduled(_Span):
    """Someone covers a layer for a period, whatever the rotation says."""

    event_type = "OverrideScheduled"
    team_id: str
    override_id: str = Field(min_length=1)
    layer: Layer
    staff_id: str


class OverrideCancelled(EventPayload):
    event_type = "OverrideCancelled"
    team_id: str
    override_id: str


class ShiftsSwapped(_Span):
    """Within the period, wherever the rotation puts one of the two staff it puts the other."""

    event_type = "ShiftsSwapped"
    team_id: str
    swap_id: str = Field(min_length=1)
    layer: Layer
    staff_a: str
    staff_b: str

    @model_validator(mode="after")
    def _two_people(self) -> ShiftsSwapped:
        if self.staff_a == self.staff_b:
            raise ValueError("a swap needs two different staff")
        return self


ROTA_PAYLOADS: tuple[type[EventPayload], ...] = (
    TeamFormed,
    StaffRegistered,
    ShiftAssigned,
    CoverageSet,
    RotationDefined,
    RotationRetired,
    OverrideScheduled,
    OverrideCancelled,
    ShiftsSwapped,
    StaffJoined,
    StaffLeft,
    StaffRoleChanged,
    CoverageGapDetected,
)
