"""What a rota change must satisfy before it is recorded. Pure: given the team's rota (as
far as the change's period matters) and the change, the first problem, or None.

The CLI (`dispatch rota override`, `rota load`) and the API (`POST /api/rota/overrides`)
ask the same questions, so the same input is refused the same way on both: the CLI exits
2 naming the option, the API answers `status` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import product
from types import MappingProxyType

from dispatch.rota.events import OverrideScheduled
from dispatch.rota.state import Entry, TeamRota
from dispatch.rota.timeline import segments

MAX_OVERRIDE = timedelta(days=31)
"""The longest an override (or a swap) may last: longer cover is a rotation."""
_NEWEST = (datetime.max.replace(tzinfo=UTC), "")


@dataclass(frozen=True)
class RotaProblem:
    """Why a change is refused: the field at fault, the reason, and the HTTP status (400 bad
    input, 409 an id already used for something else, 422 not acceptable for this team)."""

    field: str
    message: str
    status: int = 400


class RotaRefused(ValueError):
    """A roster or rota change refused before anything is recorded."""

    def __init__(self, problem: RotaProblem) -> None:
        super().__init__(f"{problem.field}: {problem.message}")
        self.problem = problem


def refuse(field: str, message: str, status: int = 400) -> RotaRefused:
    return RotaRefused(RotaProblem(field, message, status))


@dataclass(frozen=True)
class Clash:
    """Someone would be primary and backup at once from `starts_at` to `ends_at`."""

    staff_id: str
    starts_at: datetime
    ends_at: datetime

    def message(self) -> str:
        return (
            f"{self.staff_id} would be both primary and backup from "
            f"{self.starts_at.isoformat()} to {self.ends_at.isoformat()}"
        )


def span_problem(starts_at: datetime, ends_at: datetime) -> RotaProblem | None:
    """An override's period: ordered, and at most MAX_OVERRIDE long."""
    if ends_at <= starts_at:
        return RotaProblem("ends_at", "must be after starts_at")
    if ends_at - starts_at > MAX_OVERRIDE:
        return RotaProblem("ends_at", f"an override lasts at most {MAX_OVERRIDE.days} days")
    return None


def member_problem(rota: TeamRota, staff_id: str, *, until: datetime) -> RotaProblem | None:
    """The person is on this team's roster and still on the team until `until`."""
    if rota.member(staff_id) is None:
        return RotaProblem("staff_id", f"is not a member of team {rota.team_id}", 422)
    left = rota.left_at(staff_id)
    if left is not None and left < until:
        return RotaProblem("staff_id", f"leaves the team at {left.isoformat()}", 422)
    return None


def reused_id_problem(
    existing: Entry[OverrideScheduled] | None, wanted: OverrideScheduled
) -> RotaProblem | None:
    """An override id names one override for good: the same content again is a retry, other
    content (or an id that was cancelled) is refused."""
    if existing is None or existing.value == wanted:
        return None
    what = "a cancelled override" if existing.value is None else "a different override"
    return RotaProblem("override_id", f"{wanted.override_id!r} is already {what}", 409)


def double_booked(rota: TeamRota, start: datetime, end: datetime) -> Clash | None:
    """The first time in [start, end) the same person covers both layers."""
    primary = segments(rota, "primary", start, end)
    backup = segments(rota, "backup", start, end)
    for p, b in product(primary, backup):
        if p.staff_id is not None and p.staff_id == b.staff_id:
            starts, ends = max(p.starts_at, b.starts_at), min(p.ends_at, b.ends_at)
            if starts < ends:
                return Clash(p.staff_id, starts, ends)
    return None


def with_override(rota: TeamRota, wanted: OverrideScheduled) -> TeamRota:
    """The rota as it would be with `wanted` recorded now (the newest entry)."""
    overrides = MappingProxyType({**rota.overrides, wanted.override_id: Entry(_NEWEST, wanted)})
    return replace(rota, overrides=overrides)


def override_problem(
    rota: TeamRota, wanted: OverrideScheduled, existing: Entry[OverrideScheduled] | None
) -> RotaProblem | None:
    """Everything an override must satisfy, first problem first. `rota` covers the
    override's period; `existing` is the entry its id already names (None: a new id)."""
    return (
        span_problem(wanted.starts_at, wanted.ends_at)
        or member_problem(rota, wanted.staff_id, until=wanted.ends_at)
        or reused_id_problem(existing, wanted)
        or _clash_problem(with_override(rota, wanted), wanted)
    )


def _clash_problem(rota: TeamRota, wanted: OverrideScheduled) -> RotaProblem | None:
    clash = double_booked(rota, wanted.starts_at, wanted.ends_at)
    return RotaProblem("staff_id", clash.message(), 422) if clash else None
