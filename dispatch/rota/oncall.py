"""Who is on call for team T, layer L, at instant X: a pure function of the rota state.

Order of precedence inside covered hours: the newest explicit assignment covering X (an
override or a ShiftAssigned), else the newest rotation covering X with the swaps covering
X applied. Outside covered hours the answer is the team's named fallback, never nobody.
Hand-offs happen at local wall-clock times in the team's IANA zone: a hand-off time that
does not exist (spring forward) is moved on by the gap (02:30 -> 03:30, as zoneinfo does),
one that occurs twice (fall back) happens at its first occurrence, and a 23- or 25-hour
day is one period.

Someone who has left the team (StaffLeft at or before X) is never the answer: a layer the
rota gives to a leaver has nobody, with source "leaver" and the leaver named in
`unavailable`, so the gap is reported instead of silently skipped (dispatch/rota/gaps.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from dispatch.rota.events import CoverageSet, Layer, RotationDefined
from dispatch.rota.state import TeamRota

Source = Literal["override", "shift", "rotation", "nobody", "fallback", "leaver"]
LAYERS: tuple[Layer, ...] = ("primary", "backup")


@dataclass(frozen=True)
class Coverage:
    all_day: bool
    opens: time
    closes: time
    fallback_team_id: str | None
    fallback_number: str | None


@dataclass(frozen=True)
class OnCall:
    """The answer for one layer at one instant. staff_id None inside covered hours: a hole
    in the rota (callers still reach the fallback); outside them: source == "fallback".
    source == "leaver": the rota names `unavailable`, who has left the team (a gap)."""

    team_id: str
    layer: Layer
    at: datetime
    staff_id: str | None
    source: Source
    covered: bool
    fallback_team_id: str | None
    fallback_number: str | None
    unavailable: str | None = None


def coverage(rota: TeamRota) -> Coverage:
    """The team's covered hours and fallback (its newest CoverageSet).

    A team with no CoverageSet is covered at all hours with its TeamFormed fallback number
    behind any hole: the pre-rota behaviour, so nothing changes for a team until its hours
    are declared. (`dispatch rota load` declares them: ACT 24/7, ICM 08:00-20:00 unless
    the file says otherwise.)
    """
    c: CoverageSet | None = rota.coverage.value if rota.coverage else None
    if c is not None:
        return Coverage(c.all_day, c.opens, c.closes, c.fallback_team_id, c.fallback_number)
    team = rota.team.value if rota.team else None
    return Coverage(True, time(0), time(0), None, team.fallback_number if team else None)


def is_covered(rota: TeamRota, at: datetime) -> bool:
    """Whether the team's own staff answer at `at` (local wall-clock opening hours)."""
    c = coverage(rota)
    if c.all_day:
        return True
    local = at.astimezone(ZoneInfo(rota.time_zone)).time().replace(fold=0)
    if c.opens < c.closes:
        return c.opens <= local < c.closes
    return local >= c.opens or local < c.closes


def handoff_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on local `day` (first occurrence; a skipped time
    is moved on by the gap)."""
    return datetime.combine(day, at.replace(fold=0), tzinfo=zone).astimezone(UTC)


def period_start(rotation: RotationDefined, zone: ZoneInfo, at: datetime) -> date:
    """The local date whose hand-off began the period containing `at`."""
    day = at.astimezone(zone).date()
    step = 1
    if rotation.period == "weekly":
        step = 7
        day -= timedelta(days=(day.weekday() - rotation.handoff_weekday) % 7)
    if at < handoff_instant(day, rotation.handoff_time, zone):
        day -= timedelta(days=step)
    return day


def rotation_index(rotation: RotationDefined, zone: ZoneInfo, at: datetime) -> int:
    """Which period of the rotation `at` falls in (0: the one containing starts_at)."""
    step = 7 if rotation.period == "weekly" else 1
    first = period_start(rotation, zone, rotation.starts_at)
    return (period_start(rotation, zone, at) - first).days // step


def _inside(start: datetime, end: datetime | None, at: datetime) -> bool:
    return start <= at and (end is None or at < end)


def rotation_pick(rota: TeamRota, layer: Layer, at: datetime) -> str | None:
    """The rotation's participant for `at`, after the swaps covering `at`."""
    zone = ZoneInfo(rota.time_zone)
    chosen: RotationDefined | None = None
    for _, r in rota.live(rota.rotations):
        if r.layer == layer and _inside(r.starts_at, r.ends_at, at):
            chosen = r  # newest definition wins
    if chosen is None:
        return None
    staff = chosen.participants[rotation_index(chosen, zone, at) % len(chosen.participants)]
    for _, swap in rota.live(rota.swaps):
        if swap.layer == layer and _inside(swap.starts_at, swap.ends_at, at):
            if staff == swap.staff_a:
                staff = swap.staff_b
            elif staff == swap.staff_b:
                staff = swap.staff_a
    return staff


def explicit_pick(rota: TeamRota, layer: Layer, at: datetime) -> tuple[str, Source] | None:
    """The newest override or ShiftAssigned of this layer covering `at`."""
    found: list[tuple[tuple[datetime, str], str, Source]] = [
        *(
            (stamp, o.staff_id, "override")
            for stamp, o in rota.live(rota.overrides)
            if o.layer == layer and _inside(o.starts_at, o.ends_at, at)
        ),
        *(
            (stamp, sh.staff_id, "shift")
            for stamp, sh in rota.live(rota.shifts)
            if sh.layer == layer and _inside(sh.starts_at, sh.ends_at, at)
        ),
    ]
    if not found:
        return None
    _, staff_id, source = max(found, key=lambda f: f[0])
    return staff_id, source


def on_call(rota: TeamRota, layer: Layer, at: datetime) -> OnCall:
    """Who covers `layer` of the team at `at`; outside covered hours, the fallback."""
    c = coverage(rota)
    covered = is_covered(rota, at)
    staff_id: str | None = None
    source: Source = "fallback"
    unavailable: str | None = None
    if covered:
        explicit = explicit_pick(rota, layer, at)
        if explicit is not None:
            staff_id, source = explicit
        else:
            staff_id = rotation_pick(rota, layer, at)
            source = "rotation" if staff_id else "nobody"
        if staff_id is not None and rota.has_left(staff_id, at):
            staff_id, source, unavailable = None, "leaver", staff_id
    return OnCall(
        team_id=rota.team_id,
        layer=layer,
        at=at,
        staff_id=staff_id,
        source=source,
        covered=covered,
        fallback_team_id=c.fallback_team_id,
        fallback_number=c.fallback_number,
        unavailable=unavailable,
    )
