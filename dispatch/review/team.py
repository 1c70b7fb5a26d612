"""A team's response figures over a window: how fast it answered, how often it escalated,
who carried the pages (nights and weekends too), where the rota had holes, the caseload.

Night is 22:00-07:00 and the weekend Saturday and Sunday, in the team's own time zone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

from dispatch.review.facts import Archived, ReviewModel
from dispatch.review.incident import Incident
from dispatch.review.roster import members_at
from dispatch.review.stats import Spread, share_within, spread
from dispatch.rota.oncall import LAYERS
from dispatch.rota.state import TeamRota
from dispatch.rota.timeline import segments

NIGHT_STARTS, NIGHT_ENDS = time(22, 0), time(7, 0)


class PagingLoad(ReviewModel):
    """Pages to one person (each attempt on each channel is one interruption)."""

    staff_id: str
    pages: int
    night_pages: int
    weekend_pages: int


class RotaCover(ReviewModel):
    """Minutes of the window a layer had nobody inside covered hours, or was out of hours
    (calls went to the team's fallback)."""

    layer: str
    uncovered_minutes: float
    out_of_hours_minutes: float


class TeamFigures(ReviewModel):
    team_id: str
    start: datetime
    end: datetime
    time_zone: str
    incidents: int
    acknowledged: int
    time_to_engage: Spread
    mtta: Spread
    acknowledged_within_5_min: float | None
    acknowledged_within_15_min: float | None
    escalations_per_incident: float | None
    pages_per_person: tuple[PagingLoad, ...]
    rota: tuple[RotaCover, ...]
    clients: int
    staff: int
    clients_per_staff: float | None


def is_night(at: datetime, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone).time()
    return local >= NIGHT_STARTS or local < NIGHT_ENDS


def is_weekend(at: datetime, zone: ZoneInfo) -> bool:
    return at.astimezone(zone).weekday() >= 5


def paging_load(incidents: Sequence[Incident], zone: ZoneInfo) -> list[PagingLoad]:
    """Pages per person, busiest first; a page's time is when it was asked for."""
    pages = [p for i in incidents for p in i.pages]
    count = Counter(p.staff_id for p in pages)
    night = Counter(p.staff_id for p in pages if is_night(p.requested_at, zone))
    weekend = Counter(p.staff_id for p in pages if is_weekend(p.requested_at, zone))
    return [
        PagingLoad(staff_id=s, pages=n, night_pages=night[s], weekend_pages=weekend[s])
        for s, n in sorted(count.items(), key=lambda item: (-item[1], item[0]))
    ]


def rota_cover(rota: TeamRota, start: datetime, end: datetime) -> list[RotaCover]:
    """Each layer's holes and out-of-hours minutes over [start, end) (the on-call fold)."""
    out = []
    for layer in LAYERS:
        minutes: dict[str, float] = {}
        for seg in segments(rota, layer, start, end):
            length = (seg.ends_at - seg.starts_at).total_seconds() / 60
            minutes[seg.source] = minutes.get(seg.source, 0.0) + length
        out.append(
            RotaCover(
                layer=layer,
                uncovered_minutes=round(minutes.get("nobody", 0.0), 2),
                out_of_hours_minutes=round(minutes.get("fallback", 0.0), 2),
            )
        )
    return out


def team_figures(
    team_id: str,
    start: datetime,
    end: datetime,
    *,
    incidents: Sequence[Incident],
    rota: TeamRota,
    membership: Sequence[Archived],
) -> TeamFigures:
    """The figures of the incidents that started in [start, end); the caseload at `end`."""
    zone = ZoneInfo(rota.time_zone)
    engage = [i.figure("to_acknowledgement").seconds for i in incidents]
    mtta = [s for i in incidents if (s := i.figure("mtta").seconds) is not None]
    answered = [s for s in engage if s is not None]
    members = members_at(membership, team_id, end)
    per_staff = members.clients_per_staff
    return TeamFigures(
        team_id=team_id,
        start=start,
        end=end,
        time_zone=rota.time_zone,
        incidents=len(incidents),
        acknowledged=len(answered),
        time_to_engage=spread(answered),
        mtta=spread(mtta),
        acknowledged_within_5_min=share_within(engage, 5 * 60),
        acknowledged_within_15_min=share_within(engage, 15 * 60),
        escalations_per_incident=(
            sum(len(i.escalations) for i in incidents) / len(incidents) if incidents else None
        ),
        pages_per_person=tuple(paging_load(incidents, zone)),
        rota=tuple(rota_cover(rota, start, end)),
        clients=len(members.clients),
        staff=len(members.staff),
        clients_per_staff=round(per_staff, 2) if per_staff is not None else None,
    )
