"""The review report's figures and page from hand-made archived events (the golden incident
of review_builders): what a manager reads, and that no text from an event becomes markup."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from dispatch.events import derived_id
from dispatch.events.registry import BY_TYPE
from dispatch.review.incident import review_incident
from dispatch.review.report import (
    NOT_ACKNOWLEDGED,
    EngagePoint,
    clients_in_window,
    engage_distribution,
    pages_by_hour,
    risk_over_time,
)
from dispatch.review.report_desk import ReportDesk
from dispatch.review.report_html import render_html, report_rows
from dispatch.review.report_svg import nice_top, ticks
from dispatch.risk.events import RiskLevelChanged
from dispatch.vocabulary import RiskLevel
from projections.models import ArchivedEvent
from tests.unit.api_fakes import FakeSpool, FixedClock
from tests.unit.review_builders import (
    CLIENT,
    T0,
    TEAM,
    archived,
    event,
    golden_incident,
    raw,
    s,
    team_events,
)
from tests.unit.review_fakes import MemoryArchive


def point(minutes: float | None) -> EngagePoint:
    return EngagePoint(short_code="X", started_at=T0, escalated=False,
                       seconds=None if minutes is None else minutes * 60)  # fmt: skip


def test_time_to_engage_falls_in_its_class_and_unanswered_ones_are_counted_apart() -> None:
    """0.5, 4.99, 5, 61 minutes and one never acknowledged land in their five classes."""
    classes = engage_distribution([point(0.5), point(4.99), point(5), point(61), point(None)])
    counts = {c.label: c.count for c in classes}
    assert counts == {
        "< 1 min": 1, "1-2 min": 0, "2-5 min": 1, "5-10 min": 1, "10-15 min": 0,
        "15-30 min": 0, "30-60 min": 0, "> 60 min": 1, NOT_ACKNOWLEDGED: 1,
    }  # fmt: skip


def test_pages_are_counted_by_the_hour_of_the_teams_own_clock() -> None:
    """The golden incident's two pages at 12:00 UTC in March are 12:00 in London; in New York
    they are 08:00, and 22:00-06:59 is night."""
    incident = review_incident([archived(e) for e in golden_incident()])
    assert incident is not None
    london = pages_by_hour([incident], ZoneInfo("Europe/London"))
    assert [h.pages for h in london][12] == 2 and sum(h.pages for h in london) == 2
    new_york = pages_by_hour([incident], ZoneInfo("America/New_York"))
    assert new_york[8].pages == 2
    assert [h.hour for h in london if h.night] == [0, 1, 2, 3, 4, 5, 6, 22, 23]


def change(hours: float, to: RiskLevel, score: float, frm: RiskLevel = "stable") -> ArchivedEvent:
    payload = RiskLevelChanged(
        client_id=CLIENT,
        team_id=TEAM,
        from_level=frm,
        to_level=to,
        score=score,
        reasons=("r",),
        trigger_event_id=derived_id(hours),
    )
    return archived(event(payload, CLIENT, s(hours * 3600), tag=f"{hours}"))


def test_risk_starts_from_the_last_change_before_the_window() -> None:
    """A change before the window sets where the line starts; changes after it are left out."""
    facts = [change(-5, "elevated", 5.0), change(2, "high", 9.0, "elevated"),
             change(30, "crisis", 15.0, "high")]  # fmt: skip
    [risk] = risk_over_time(
        facts,
        [
            CLIENT,
        ],
        T0,
        T0 + timedelta(hours=24),
    )  # type: ignore[arg-type]
    assert (risk.level_at_start, risk.score_at_start) == ("elevated", 5.0)
    assert [(p.level, p.score) for p in risk.changes] == [("high", 9.0)]


def test_clients_of_the_window_include_those_who_left_during_it() -> None:
    """A client enrolled before the window and one enrolled during it both count; one
    enrolled after it does not."""
    facts = [archived(e) for e in team_events()] + [
        raw("ClientEnrolled", "c-new", s(3600), {"client_id": "c-new", "team_id": TEAM}),
        raw("ClientDischarged", "c-new", s(7200), {"client_id": "c-new", "team_id": TEAM}),
        raw("ClientEnrolled", "c-late", s(90000), {"client_id": "c-late", "team_id": TEAM}),
    ]
    assert clients_in_window(facts, TEAM, T0, T0 + timedelta(hours=24)) == ("c-new", CLIENT)


async def test_the_page_escapes_event_text_and_records_every_client_it_names() -> None:
    """An outcome written as markup shows as text; the report's one ClientRecordsViewed names
    the client; the CSV has a row per figure section."""
    events = [*team_events(), *golden_incident()]
    facts = [archived(e) for e in events]
    resolved = next(f for f in facts if f.type == "DispatchResolved")
    facts[facts.index(resolved)] = replace(
        resolved, payload={**resolved.payload, "outcome": "<script>alert(1)</script>"}
    )
    spool = FakeSpool()
    desk = ReportDesk(MemoryArchive(facts), spool, FixedClock(), frozenset(BY_TYPE))
    report = await desk.report(TEAM, T0 - timedelta(days=1), T0 + timedelta(days=1), viewer="cli:m")
    page = render_html(report, T0)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    [read] = spool.events.values()
    assert read.type == "ClientRecordsViewed"
    assert read.payload.client_ids == (CLIENT,) and read.payload.view == "review:report"  # type: ignore[attr-defined]
    sections = {row["section"] for row in report_rows(report)}
    assert sections == {"team", "pages", "rota", "time_to_engage", "engage_distribution",
                        "pages_by_hour", "risk", "fidelity", "incident"}  # fmt: skip


def test_chart_scales_end_on_round_numbers() -> None:
    """Axis tops are 1, 2 or 5 times a power of ten, with whole-number gridlines for counts."""
    assert [nice_top(v, 4) for v in (0, 3, 4.5, 11, 14)] == [5, 5, 5, 20, 20]
    assert ticks(5) == [0, 1, 2, 3, 4, 5]
    assert ticks(20) == [0, 5, 10, 15, 20]
