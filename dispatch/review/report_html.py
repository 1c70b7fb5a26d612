"""The report as one self-contained HTML page (templates/report.html.j2), and the same
figures as CSV rows (JSON is the report model's own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dispatch.review import report_charts as charts
from dispatch.review.incident import Incident
from dispatch.review.render import Row, duration, share, table, when
from dispatch.review.report import ReviewReport, RiskPoint
from dispatch.review.report_svg import Chart


@dataclass(frozen=True)
class ReportCharts:
    engage_over_time: Chart
    engage_distribution: Chart
    pages_by_hour: Chart
    fidelity: Chart
    risk: tuple[Chart, ...]
    incidents: tuple[tuple[Incident, Chart], ...]


def report_charts(r: ReviewReport) -> ReportCharts:
    return ReportCharts(
        engage_over_time=charts.engage_over_time(r),
        engage_distribution=charts.engage_distribution(r),
        pages_by_hour=charts.pages_by_hour(r),
        fidelity=charts.fidelity(r.fidelity),
        risk=tuple(charts.risk_over_time(c, r.start, r.end) for c in r.risk),
        incidents=tuple((i, charts.incident_timeline(i)) for i in r.incidents),
    )


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render_html(r: ReviewReport, generated_at: datetime) -> str:
    """The page: autoescaped (every text from an event is escaped), no script, nothing to
    fetch (a Content-Security-Policy says so to the browser too)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("dispatch.review", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=False,
    )
    return env.get_template("report.html.j2").render(
        r=r,
        charts=report_charts(r),
        generated_at=generated_at,
        when=when,
        duration=duration,
        share=share,
        ratio=_ratio,
        day=lambda at: at.strftime("%Y-%m-%d"),
        minute=lambda at: at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
    )


def report_rows(r: ReviewReport) -> list[Row]:
    """The report's figures as rows, each with its section: team, time_to_engage,
    engage_distribution, pages_by_hour, risk, fidelity, incident."""
    rows: list[Row] = list(table(r.team))
    rows += [{"section": "time_to_engage", **p.model_dump(mode="json")} for p in r.time_to_engage]
    rows += [
        {"section": "engage_distribution", **c.model_dump(mode="json")}
        for c in r.engage_distribution
    ]
    rows += [{"section": "pages_by_hour", **h.model_dump(mode="json")} for h in r.pages_by_hour]
    for c in r.risk:
        start = RiskPoint(at=r.start, level=c.level_at_start, score=c.score_at_start)
        rows += [
            {"section": "risk", "client_id": c.client_id, **p.model_dump(mode="json")}
            for p in (start, *c.changes)
        ]
    rows += [{"section": "fidelity", **row} for row in table(r.fidelity)]
    rows += [{"section": "incident", **row} for row in table([i.summary() for i in r.incidents])]
    return rows
