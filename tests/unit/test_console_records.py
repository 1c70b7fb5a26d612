"""The client page's and the incident review's view code (pure): the period a manager asks
for, the list's figures and charts, an incident's figures chart, and the client page from
hand-made reads (contacts newest first with everyone on the visit, consent, open work,
review dates, the risk chart)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch.clients.consent import CarerConsent
from dispatch.clients.events import ContactRecorded
from dispatch.events import new_event
from dispatch.review.incident import review_incident
from dispatch.risk.events import RiskLevelChanged
from dispatch.web.console.client_view import client_page
from dispatch.web.console.review_view import (
    BadFilter,
    clock,
    figures_chart,
    list_figures,
    period,
)
from projections.carer_queries import CarerRow
from projections.client_page import CarePlan, ClientPlans, OpenTask
from projections.console_board import ClientFacts
from tests.unit.review_builders import BACKUP, PRIMARY, archived, golden_incident

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 7, 1, 11, 30, tzinfo=UTC)  # 12:30 in London


def test_the_period_is_whole_days_of_the_team_with_the_last_seven_by_default() -> None:
    p = period({}, NOW, LONDON)
    assert (p.first, p.last) == (date(2026, 6, 25), date(2026, 7, 1))
    assert p.start == datetime(2026, 6, 24, 23, 0, tzinfo=UTC)  # midnight in London (BST)
    assert p.end == datetime(2026, 7, 1, 23, 0, tzinfo=UTC)
    asked = period({"from": "2026-06-01", "to": "2026-06-02", "reason": "crisis_text",
                    "escalated": "no"}, NOW, LONDON)  # fmt: skip
    assert (asked.end - asked.start, asked.reason, asked.escalated) == (
        timedelta(days=2), "crisis_text", False)  # fmt: skip


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"from": "last week"}, "from", "must be a date, YYYY-MM-DD"),
        ({"to": "2026-13-01"}, "to", "must be a date, YYYY-MM-DD"),
        ({"from": "2026-07-02", "to": "2026-07-01"}, "from", "must not be after to"),
        ({"from": "2024-01-01"}, "from", "the period is at most 366 days"),
        ({"reason": "shouting"}, "reason", "must be one of crisis_call, crisis_text, risk_high"),
        ({"escalated": "maybe"}, "escalated", "must be yes or no"),
    ],
)
def test_a_filter_that_cannot_be_read_names_its_field(
    query: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(BadFilter) as refused:
        period(query, NOW, LONDON)
    assert (refused.value.field, refused.value.message) == (field, message)


def _incident():  # type: ignore[no-untyped-def]
    events = golden_incident()
    found = review_incident([archived(e) for e in events[:-1]], [archived(events[-1])])
    assert found is not None
    return found


def test_the_list_figures_are_the_summaries_own() -> None:
    incident = _incident()
    summary = incident.summary()
    p = period({"from": f"{summary.started_at:%Y-%m-%d}"}, summary.started_at, LONDON)
    figures = list_figures([summary], p, LONDON)
    assert (figures.incidents, figures.acknowledged, figures.escalated) == (1, 1, 1)
    assert figures.engage.p50_s == summary.to_acknowledgement_s
    assert figures.mtta.p50_s == summary.mtta_s
    scatter, bars = figures.charts
    assert [s.cls for s in scatter.shapes if s.kind == "circle"] == ["dot good"]
    assert sum(1 for s in bars.shapes if s.kind == "rect") == 9  # 8 classes and "never"


def test_the_figures_chart_has_a_bar_for_each_measured_figure_and_says_why_not_otherwise() -> None:
    incident = _incident()
    chart = figures_chart(incident)
    bars = [s for s in chart.shapes if s.kind == "rect"]
    assert len(bars) == sum(1 for f in incident.figures if f.seconds is not None)
    texts = {s.text for s in chart.shapes if s.kind == "text"}
    assert all(f.note in texts for f in incident.figures if f.seconds is None)


def test_the_client_page_from_its_reads() -> None:
    def at(days: float) -> datetime:
        return NOW - timedelta(days=days)

    contacts = [
        new_event(ContactRecorded(client_id="c1", staff_id=PRIMARY, kind=kind,
                                  other_staff_ids=others, where=where, note=note),
                  key="c1", occurred_at=at(days), recorded_at=at(days), actor="t")
        for days, kind, others, where, note in (
            (9, "phone", (), None, "first"),
            (2, "face_to_face", (BACKUP,), "home", "latest"),
        )
    ]  # fmt: skip
    rise = new_event(RiskLevelChanged(client_id="c1", team_id="t", from_level="stable",
                                      to_level="high", score=9.0, reasons=("crisis call",),
                                      trigger_event_id=contacts[0].event_id),
                     key="c1", occurred_at=at(1), recorded_at=at(1), actor="t")  # fmt: skip
    plans = ClientPlans(
        care_plan=CarePlan(PRIMARY, "Nurse", "Visits weekly", ("Keep the flat",), at(200),
                           at(200)),
        relapse_plan_reviewed_at=at(10),
        in_hospital=False,
        open_work=(
            OpenTask("outreach", "risk_elevated", at(1), datetime(2026, 6, 30, tzinfo=UTC)),
            OpenTask("follow_up", "post_crisis", at(1), NOW + timedelta(hours=3)),
            OpenTask("dispatch", "crisis_call (open)", at(0.01), None, "K7M2Q"),
        ),
    )  # fmt: skip
    consent = CarerConsent("c1", "k1", frozenset({"care_plan", "crisis_status"}), at(30),
                           date(2026, 6, 1))  # fmt: skip
    facts = ClientFacts("c1", "Robin", ("+15550000001",), "unspecified", "en", "high",
                        ("crisis call",))  # fmt: skip
    page = client_page(
        facts, score=8.5, history=[archived(e) for e in (*contacts, rise)], plans=plans,
        carers=[(CarerRow("k1", "Alex", "+1555", "brother"), consent),
                (CarerRow("k2", "Pat", "+1556", "neighbour"), None)],
        names={PRIMARY: "Nurse", BACKUP: "Social worker"}, now=NOW, zone=LONDON,
    )  # fmt: skip
    assert [c.note for c in page.contacts] == ["latest", "first"]
    assert (
        page.contacts[0].who == "Nurse, Social worker" and page.contacts[0].kind == "face to face"
    )
    assert page.contacts[0].at == "2026-06-29 12:30"  # London time
    alex, pat = page.carers
    assert alex.shares == ("crisis status", "care plan") and alex.review_overdue
    assert pat.shares == ()
    assert [(w.kind, w.overdue) for w in page.work] == [
        ("Outreach visit", True),
        ("Post-crisis follow-up", False),
        ("Dispatch", False),
    ]
    assert page.care_plan_review is not None and page.care_plan_review.overdue  # 200 days ago
    assert page.relapse_review is not None and not page.relapse_review.overdue
    assert page.coordinator == "Nurse"
    dots = [s for s in page.risk_chart.shapes if s.kind == "circle"]
    assert [d.cls for d in dots] == ["dot level-high"]


def test_an_incidents_times_are_team_time_to_the_millisecond_dated_only_on_another_day() -> None:
    day = date(2026, 7, 1)
    assert clock(datetime(2026, 7, 1, 11, 0, 1, 250000, tzinfo=UTC), day, LONDON) == "12:00:01.250"
    assert clock(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), day, LONDON) == "2026-07-02 00:30:00.000"
    assert clock(None, day, LONDON) == "-"
