"""The incident review pages as a manager reads them: the period asked for (checked like the
API's input: a bad field is named and nothing is read), the list's summary figures and
charts, and one incident's response figures as a chart. Pure: results are passed in; the
figures are the review desk's own (dispatch/review), formatted as `dispatch review` does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dispatch.review.incident import Incident, IncidentSummary
from dispatch.review.render import duration
from dispatch.review.report import EngagePoint, engage_distribution
from dispatch.review.report_charts import engage_bars, engage_scatter
from dispatch.review.report_svg import Chart, Plot, label, line, nice_top, rect, ticks
from dispatch.review.stats import Spread, share_within, spread

DEFAULT_DAYS = 7
MAX_DAYS = 366
REASONS = {"crisis_call": "crisis call", "crisis_text": "crisis text", "risk_high": "risk rising"}
ESCALATED = {"yes": True, "no": False}


class BadFilter(ValueError):
    """A filter of the list that cannot be read: the field and what is wrong with it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Period:
    """The days asked for (team time, both included) and the instants they span."""

    first: date
    last: date
    start: datetime
    end: datetime
    reason: str | None
    escalated: bool | None


def _day(query: Mapping[str, str], field: str, default: date) -> date:
    raw = query.get(field, "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadFilter(field, "must be a date, YYYY-MM-DD") from None


def period(query: Mapping[str, str], now: datetime, zone: ZoneInfo) -> Period:
    """The list's filters from the query string (default: the last 7 days, team time)."""
    today = now.astimezone(zone).date()
    last = _day(query, "to", today)
    first = _day(query, "from", last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise BadFilter("from", "must not be after to")
    if (last - first).days >= MAX_DAYS:
        raise BadFilter("from", f"the period is at most {MAX_DAYS} days")
    reason = query.get("reason", "") or None
    if reason is not None and reason not in REASONS:
        raise BadFilter("reason", f"must be one of {', '.join(REASONS)}")
    escalated = query.get("escalated", "")
    if escalated and escalated not in ESCALATED:
        raise BadFilter("escalated", "must be yes or no")
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    return Period(first, last, start, end, reason, ESCALATED.get(escalated))


@dataclass(frozen=True)
class ListFigures:
    """What the list's head shows: counts and the spread of its incidents' figures."""

    incidents: int
    acknowledged: int
    escalated: int
    engage: Spread
    mtta: Spread
    within_5_min: float | None
    charts: tuple[Chart, ...]


def list_figures(rows: Sequence[IncidentSummary], p: Period, zone: ZoneInfo) -> ListFigures:
    points = [
        EngagePoint(short_code=s.short_code, started_at=s.started_at,
                    seconds=s.to_acknowledgement_s, escalated=s.escalated)
        for s in sorted(rows, key=lambda s: (s.started_at, s.short_code))
    ]  # fmt: skip
    engaged = [s.to_acknowledgement_s for s in rows if s.to_acknowledgement_s is not None]
    return ListFigures(
        incidents=len(rows),
        acknowledged=len(engaged),
        escalated=sum(1 for s in rows if s.escalated),
        engage=spread(engaged),
        mtta=spread([s.mtta_s for s in rows if s.mtta_s is not None]),
        within_5_min=share_within([s.to_acknowledgement_s for s in rows], 300),
        charts=(engage_scatter(points, p.start, p.end, zone),
                engage_bars(engage_distribution(points))),
    )  # fmt: skip


def figures_chart(i: Incident) -> Chart:
    """The incident's response figures as bars from its start, in seconds or, when one
    passes two minutes, in minutes (those without a value say why)."""
    row = 26
    plot = Plot(height=len(i.figures) * row + 40, left=300)
    longest = max((f.seconds or 0) for f in i.figures)
    unit, per = ("s", 1.0) if longest < 120 else ("min", 60.0)
    top = nice_top(longest / per, 1)
    for k, f in enumerate(i.figures):
        y = 14 + k * row
        plot.add(label(plot.x0 - 8, y + 15, f.label, anchor="end"))
        if f.seconds is None:
            plot.add(label(plot.x0 + 4, y + 15, f.note, "muted-label", "start"))
            continue
        width = plot.x(f.seconds / per / top) - plot.x0
        plot.add(
            rect(plot.x0, y + 3, width, row - 8, "bar", f"{f.label}: {duration(f.seconds)}"),
            label(plot.x0 + width + 6, y + 15, duration(f.seconds), "value", "start"),
        )
    for value in ticks(top):
        x = plot.x(value / top)
        plot.add(line(x, plot.y0, x, plot.y0 + 4, "axis"),
                 label(x, plot.y0 + 16, f"{value:g} {unit}"))  # fmt: skip
    plot.add(line(plot.x0, plot.y0, plot.x1, plot.y0, "axis"))
    word = "Seconds" if unit == "s" else "Minutes"
    return plot.chart(
        f"figures-{i.short_code}",
        "Response figures",
        f"{word} from the start (MTTA: from the dispatch being raised) to each step.",
    )


def local(at: datetime | None, zone: ZoneInfo) -> str:
    """A time in the team's zone, to the minute ("-" for none)."""
    return "-" if at is None else at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def clock(at: datetime | None, day: date, zone: ZoneInfo) -> str:
    """A time in an incident that started on `day` (team time): to the millisecond, with
    its date only when it is another day."""
    if at is None:
        return "-"
    here = at.astimezone(zone)
    text = here.strftime("%H:%M:%S.%f")[:-3]
    return text if here.date() == day else f"{here:%Y-%m-%d} {text}"
