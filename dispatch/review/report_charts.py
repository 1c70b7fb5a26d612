"""The report's charts, built from its figures (dispatch/review/report.py) as geometry."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch.review.fidelity import Fidelity
from dispatch.review.incident import Incident
from dispatch.review.render import duration, when
from dispatch.review.report import (
    NOT_ACKNOWLEDGED,
    ClientRisk,
    EngageClass,
    EngagePoint,
    ReviewReport,
)
from dispatch.review.report_svg import (
    Chart,
    Plot,
    circle,
    fraction,
    label,
    line,
    nice_top,
    polyline,
    rect,
    short_duration,
    ticks,
)
from dispatch.risk.levels import DEFAULT_POLICY, LEVELS

FIVE_MIN, FIFTEEN_MIN = 5.0, 15.0
# Timeline lanes: which row an event type is drawn on.
LANES = ("contact", "dispatch", "pages", "replies")
LANE_OF = {
    "CrisisCallReceived": "contact",
    "CrisisTextReceived": "contact",
    "CallerMessageRecorded": "contact",
    "RiskLevelChanged": "contact",
    "StaffReplyReceived": "replies",
    "StaffReplyDecided": "replies",
}
MARK = {
    "PageDelivered": "good",
    "DispatchAcknowledged": "good",
    "DispatchResolved": "good",
    "PageFailed": "bad",
    "EscalationTargetUnreachable": "bad",
    "DispatchEscalated": "warn",
    "EscalationDeadlineReached": "warn",
    "PageCancelled": "muted",
}
TIMELINE_TICKS = (0, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)


def _day_ticks(plot: Plot, start: datetime, end: datetime, zone: ZoneInfo) -> None:
    days = max(1, math.ceil((end - start) / timedelta(days=1)))
    step = max(1, math.ceil(days / 7))
    local = start.astimezone(zone)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    while day < end:
        x = plot.x(fraction(day, start, end))
        plot.add(line(x, plot.y0, x, plot.y0 + 4, "axis"), label(x, plot.y0 + 18, f"{day:%d %b}"))
        day += timedelta(days=step)


def engage_over_time(r: ReviewReport) -> Chart:
    """Each incident's time to engage at its start; never acknowledged ones on the top edge."""
    return engage_scatter(r.time_to_engage, r.start, r.end, ZoneInfo(r.time_zone))


def engage_scatter(
    points: Sequence[EngagePoint], start: datetime, end: datetime, zone: ZoneInfo
) -> Chart:
    """engage_over_time of any incidents over [start, end) (the report's, the console's)."""
    plot = Plot(height=240)
    taken = [p.seconds / 60 for p in points if p.seconds is not None]
    top = nice_top(max(taken, default=0.0), FIFTEEN_MIN * 1.2)
    plot.y_axis(top, ticks(top), lambda v: f"{v:g} min")
    for limit in (FIVE_MIN, FIFTEEN_MIN):
        y = plot.y(limit, top)
        plot.add(
            line(plot.x0, y, plot.x1, y, "limit"),
            label(plot.x1, y - 4, f"{limit:g} min", "limit-label", "end"),
        )
    _day_ticks(plot, start, end, zone)
    for p in points:
        x = plot.x(fraction(p.started_at, start, end))
        if p.seconds is None:
            plot.add(
                circle(
                    x,
                    plot.y1,
                    5,
                    "dot none",
                    f"{p.short_code} {when(p.started_at)}: not acknowledged",
                )
            )
            continue
        minutes = p.seconds / 60
        cls = "good" if minutes <= FIVE_MIN else "warn" if minutes <= FIFTEEN_MIN else "bad"
        tip = f"{p.short_code} {when(p.started_at)}: {duration(p.seconds)}"
        plot.add(
            circle(
                x,
                plot.y(minutes, top),
                4,
                f"dot {cls}",
                tip + (" (escalated)" if p.escalated else ""),
            )
        )
    return plot.chart(
        "engage-over-time",
        "Time to engage over time",
        "Minutes from the contact to the acknowledgement, one dot per incident; "
        "dashed lines at 5 and 15 minutes; dots on the top edge were never "
        "acknowledged.",
    )


Bar = tuple[str, int, str, str]  # x label, value, class, tooltip


def _bar_chart(bars: list[Bar], chart_id: str, title: str, description: str) -> Chart:
    """Vertical bars evenly across the plot, counts on a whole-number scale."""
    plot = Plot(height=220)
    top = nice_top(max((value for _, value, _, _ in bars), default=0), 4)
    plot.y_axis(top, ticks(top), lambda v: f"{v:g}")
    slot = (plot.x1 - plot.x0) / max(len(bars), 1)
    for i, (text, value, cls, tip) in enumerate(bars):
        y = plot.y(value, top)
        x = plot.x0 + i * slot
        plot.add(rect(x + slot * 0.12, y, slot * 0.76, plot.y0 - y, f"bar {cls}", tip))
        if text:
            plot.add(label(x + slot / 2, plot.y0 + 16, text))
        if value:
            plot.add(label(x + slot / 2, y - 4, str(value), "value"))
    return plot.chart(chart_id, title, description)


def engage_distribution(r: ReviewReport) -> Chart:
    return engage_bars(r.engage_distribution)


def engage_bars(classes: Sequence[EngageClass]) -> Chart:
    bars = [
        (c.label, c.count, "none" if c.label == NOT_ACKNOWLEDGED else "",
         f"{c.label}: {c.count} incident(s)")
        for c in classes
    ]  # fmt: skip
    return _bar_chart(bars, "engage-distribution", "Time to engage: distribution",
                      "Incidents by minutes from the contact to the acknowledgement.")  # fmt: skip


def pages_by_hour(r: ReviewReport) -> Chart:
    bars = [
        (f"{h.hour:02d}" if h.hour % 3 == 0 else "", h.pages, "night" if h.night else "",
         f"{h.hour:02d}:00-{h.hour:02d}:59: {h.pages} page(s)" + (" (night)" if h.night else ""))
        for h in r.pages_by_hour
    ]  # fmt: skip
    return _bar_chart(bars, "pages-by-hour", "Pages by hour of day",
                      f"Pages asked for in each hour ({r.time_zone}); night hours (22:00-07:00) "
                      "darker.")  # fmt: skip


def risk_over_time(c: ClientRisk, start: datetime, end: datetime) -> Chart:
    """The client's score as a step line over the window, thresholds dashed."""
    plot = Plot(height=150)
    top = nice_top(
        max([c.score_at_start, *(p.score for p in c.changes)]), DEFAULT_POLICY.crisis_at + 2
    )
    plot.y_axis(top, [0, top / 2, top], lambda v: f"{v:g}")
    for level in LEVELS[1:]:
        y = plot.y(DEFAULT_POLICY.threshold(level), top)
        plot.add(
            line(plot.x0, y, plot.x1, y, f"limit {level}"),
            label(plot.x1, y - 3, level, "limit-label", "end"),
        )
    points = [(plot.x0, plot.y(c.score_at_start, top))]
    for p in c.changes:
        x = plot.x(fraction(p.at, start, end))
        points += [(x, points[-1][1]), (x, plot.y(p.score, top))]
    points.append((plot.x1, points[-1][1]))
    plot.add(polyline(points, "risk-line"))
    for p in c.changes:
        plot.add(
            circle(
                plot.x(fraction(p.at, start, end)),
                plot.y(p.score, top),
                3.5,
                f"dot level-{p.level}",
                f"{when(p.at)}: {p.level} (score {p.score:.1f})",
            )
        )
    note = "" if c.changes else f"no change in the window: {c.level_at_start} throughout"
    return plot.chart(
        f"risk-{c.client_id}",
        f"Risk of {c.client_id}",
        f"Risk score of {c.client_id} over the window, from {c.level_at_start}.",
        note,
    )


def incident_timeline(i: Incident) -> Chart:
    """Every event of the incident on its lane, on a square-root time scale from the start."""
    lane_h = 26
    plot = Plot(height=len(LANES) * lane_h + 44, left=84)
    last = max(
        (max((e.occurred_at - i.started_at).total_seconds(), 0) for e in i.timeline), default=60.0
    )
    span = max(last, 60.0)

    def x(seconds: float) -> float:
        return plot.x(math.sqrt(max(seconds, 0) / span))

    for k, lane in enumerate(LANES):
        y = 14 + k * lane_h + lane_h / 2
        plot.add(
            line(plot.x0, y, plot.x1, y, "lane"), label(plot.x0 - 8, y + 4, lane, anchor="end")
        )
    shown = -100.0
    for tick in (t for t in TIMELINE_TICKS if t <= span):
        if x(tick) - shown < 36:  # too close to the last label to read
            continue
        shown = x(tick)
        plot.add(
            line(shown, plot.y0, shown, plot.y0 + 4, "axis"),
            label(shown, plot.y0 + 16, short_duration(tick)),
        )
    ack = i.figure("to_acknowledgement")
    if ack.seconds is not None:
        plot.add(
            line(x(ack.seconds), 8, x(ack.seconds), plot.y0, "engaged"),
            label(
                x(ack.seconds) + 4, 10, f"engaged {duration(ack.seconds)}", "limit-label", "start"
            ),
        )
    for e in i.timeline:
        lane = LANE_OF.get(e.type) or ("pages" if e.type.startswith("Page") else "dispatch")
        y = 14 + LANES.index(lane) * lane_h + lane_h / 2
        seconds = (e.occurred_at - i.started_at).total_seconds()
        plot.add(
            circle(
                x(seconds),
                y,
                5,
                f"dot {MARK.get(e.type, 'plain')}",
                f"+{duration(seconds)} {e.type}: {e.summary}",
            )
        )
    plot.add(line(plot.x0, plot.y0, plot.x1, plot.y0, "axis"))
    return plot.chart(
        f"timeline-{i.short_code}",
        f"Timeline of {i.short_code}",
        f"Events of incident {i.short_code} from the {i.reason.replace('_', ' ')} on, time "
        "from the start on a square-root scale.",
    )


def fidelity(f: Fidelity) -> Chart:
    """Each item's 1-5 rating as a bar; items without a verified anchor say so."""
    row = 24
    plot = Plot(height=len(f.items) * row + 40, left=230)
    for k, item in enumerate(f.items):
        y = 14 + k * row
        plot.add(label(plot.x0 - 8, y + 15, f"{item.code} {item.name}", anchor="end"))
        if item.rating is None:
            figure = "not recorded" if item.figure is None else f"{item.figure:g} {item.unit}"
            plot.add(label(plot.x0 + 4, y + 15, f"not rated: {figure}", "muted-label", "start"))
            continue
        plot.add(
            rect(
                plot.x0,
                y + 3,
                plot.x(item.rating / 5) - plot.x0,
                row - 8,
                f"bar rating-{item.rating}",
                f"{item.code}: {item.rating} of 5 ({item.anchor})",
            ),
            label(plot.x(item.rating / 5) + 6, y + 15, f"{item.rating} / 5", "value", "start"),
        )
    for score in range(6):
        x = plot.x(score / 5)
        plot.add(line(x, plot.y0, x, plot.y0 + 4, "axis"), label(x, plot.y0 + 16, str(score)))
    return plot.chart(
        "fidelity",
        "Fidelity ratings (DACTS)",
        "Each item's rating from 1 to 5 against its published anchor.",
    )
