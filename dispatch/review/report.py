"""The manager's report of a window: the figures behind its charts, as pure functions of the
review's own results (incidents, team figures, fidelity) and of archived risk changes.

Exported as HTML (report_html), JSON (the model's own) and CSV (report_rows): the same
figures in all three.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

from dispatch.review.facts import Archived, ReviewModel, event_time_order, text
from dispatch.review.fidelity import Fidelity
from dispatch.review.incident import Incident
from dispatch.review.roster import JOINS, joined_team, members_at
from dispatch.review.team import NIGHT_ENDS, NIGHT_STARTS, TeamFigures

# Time-to-engage classes, in minutes: (label, upper bound); None: no bound.
ENGAGE_CLASSES: tuple[tuple[str, float | None], ...] = (
    ("< 1 min", 1),
    ("1-2 min", 2),
    ("2-5 min", 5),
    ("5-10 min", 10),
    ("10-15 min", 15),
    ("15-30 min", 30),
    ("30-60 min", 60),
    ("> 60 min", None),
)
NOT_ACKNOWLEDGED = "never"


class EngagePoint(ReviewModel):
    """One incident's time to engage (None: never acknowledged)."""

    short_code: str
    started_at: datetime
    seconds: float | None
    escalated: bool


class EngageClass(ReviewModel):
    label: str
    count: int


class HourPages(ReviewModel):
    """Pages asked for in one hour of the day (team time), and whether it is night."""

    hour: int
    pages: int
    night: bool


class RiskPoint(ReviewModel):
    at: datetime
    level: str
    score: float


class ClientRisk(ReviewModel):
    """A client's risk over the window: the level it started at and each change in it."""

    client_id: str
    level_at_start: str
    score_at_start: float
    changes: tuple[RiskPoint, ...]


class ReviewReport(ReviewModel):
    team_id: str
    start: datetime
    end: datetime
    time_zone: str
    team: TeamFigures
    fidelity: Fidelity
    incidents: tuple[Incident, ...]
    time_to_engage: tuple[EngagePoint, ...]
    engage_distribution: tuple[EngageClass, ...]
    pages_by_hour: tuple[HourPages, ...]
    risk: tuple[ClientRisk, ...]

    @property
    def client_ids(self) -> list[str]:
        """Every client the report shows (its audit names them all)."""
        named = {i.client_id for i in self.incidents if i.client_id}
        return sorted(named | {r.client_id for r in self.risk})


def engage_points(incidents: Iterable[Incident]) -> list[EngagePoint]:
    return sorted(
        (
            EngagePoint(
                short_code=i.short_code,
                started_at=i.started_at,
                seconds=i.figure("to_acknowledgement").seconds,
                escalated=bool(i.escalations),
            )
            for i in incidents
        ),
        key=lambda p: (p.started_at, p.short_code),
    )


def engage_distribution(points: Sequence[EngagePoint]) -> list[EngageClass]:
    """How many incidents fell in each time-to-engage class, and how many were never taken."""
    counts = dict.fromkeys([label for label, _ in ENGAGE_CLASSES] + [NOT_ACKNOWLEDGED], 0)
    for p in points:
        if p.seconds is None:
            counts[NOT_ACKNOWLEDGED] += 1
            continue
        minutes = p.seconds / 60
        label = next(lb for lb, top in ENGAGE_CLASSES if top is None or minutes < top)
        counts[label] += 1
    return [EngageClass(label=label, count=n) for label, n in counts.items()]


def pages_by_hour(incidents: Iterable[Incident], zone: ZoneInfo) -> list[HourPages]:
    """Pages per hour of the day they were asked for, in the team's time zone."""
    counts = [0] * 24
    for page in (p for i in incidents for p in i.pages):
        counts[page.requested_at.astimezone(zone).hour] += 1
    return [
        HourPages(hour=h, pages=n, night=time(h) >= NIGHT_STARTS or time(h) < NIGHT_ENDS)
        for h, n in enumerate(counts)
    ]


def risk_over_time(
    changes: Iterable[Archived], client_ids: Iterable[str], start: datetime, end: datetime
) -> list[ClientRisk]:
    """Each client's level at `start` (its last change before it) and its changes in the
    window, from RiskLevelChanged events."""
    before: dict[str, RiskPoint] = {}
    inside: dict[str, list[RiskPoint]] = {c: [] for c in client_ids}
    for f in event_time_order(changes):
        client = text(f, "client_id")
        if f.type != "RiskLevelChanged" or client not in inside or f.occurred_at >= end:
            continue
        point = RiskPoint(
            at=f.occurred_at, level=str(f.payload["to_level"]), score=float(f.payload["score"])
        )
        if f.occurred_at < start:
            before[client] = point
        else:
            inside[client].append(point)
    return [
        ClientRisk(
            client_id=c,
            level_at_start=before[c].level if c in before else "stable",
            score_at_start=before[c].score if c in before else 0.0,
            changes=tuple(points),
        )
        for c, points in sorted(inside.items())
    ]


def clients_in_window(
    membership: Iterable[Archived], team_id: str, start: datetime, end: datetime
) -> tuple[str, ...]:
    """The clients on the team's caseload at some time in [start, end): there at its start,
    or taken on (enrolled, moved in) during it."""
    facts = list(membership)
    joined = {
        str(f.payload.get("client_id"))
        for f in facts
        if JOINS.get(f.type) == "client"
        and joined_team(f) == team_id
        and start <= f.occurred_at < end
    }
    return tuple(sorted(joined | set(members_at(facts, team_id, start).clients)))


def build_report(
    *,
    team: TeamFigures,
    fidelity: Fidelity,
    incidents: Sequence[Incident],
    risk: Sequence[ClientRisk],
) -> ReviewReport:
    points = engage_points(incidents)
    return ReviewReport(
        team_id=team.team_id,
        start=team.start,
        end=team.end,
        time_zone=team.time_zone,
        team=team,
        fidelity=fidelity,
        incidents=tuple(sorted(incidents, key=lambda i: (i.started_at, i.short_code))),
        time_to_engage=tuple(points),
        engage_distribution=tuple(engage_distribution(points)),
        pages_by_hour=tuple(pages_by_hour(incidents, ZoneInfo(team.time_zone))),
        risk=tuple(risk),
    )
