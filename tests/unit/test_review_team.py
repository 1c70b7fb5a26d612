"""A team's response figures, paging load (nights, weekends) and rota holes, hand-made."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dispatch.review.incident import Incident, review_incident
from dispatch.review.service import team_rota
from dispatch.review.team import paging_load, rota_cover, team_figures
from dispatch.rota.events import CoverageSet
from tests.unit.review_builders import (
    BACKUP,
    PRIMARY,
    T0,
    TEAM,
    archived,
    event,
    golden_incident,
    team_events,
)


def _golden() -> Incident:
    incident = review_incident([archived(e) for e in golden_incident()])
    assert incident is not None
    return incident


def _paged_at(*times: datetime) -> Incident:
    """The golden incident with its pages asked for at the given instants (all PRIMARY)."""
    incident = _golden()
    pages = tuple(incident.pages[0].model_copy(update={"requested_at": t}) for t in times)
    return incident.model_copy(update={"pages": pages})


def test_night_and_weekend_pages_in_the_team_time_zone() -> None:
    """London time: 21:59 is evening, 22:00 and 06:59 night, 07:00 day; Saturday noon is a
    weekend page; in summer time 21:30 UTC is already 22:30 in London."""
    monday = datetime(2026, 3, 9, tzinfo=UTC)
    incident = _paged_at(
        monday.replace(hour=21, minute=59),
        monday.replace(hour=22),
        monday.replace(hour=6, minute=59),
        monday.replace(hour=7),
        datetime(2026, 3, 14, 12, 0, tzinfo=UTC),
        datetime(2026, 7, 1, 21, 30, tzinfo=UTC),
    )
    [load] = paging_load([incident], ZoneInfo("Europe/London"))
    assert (load.staff_id, load.pages, load.night_pages, load.weekend_pages) == (
        PRIMARY,
        6,
        3,
        1,
    )


def test_rota_holes_and_out_of_hours_minutes() -> None:
    """A rotation covers the primary layer only, so the backup layer is a hole; with covered
    hours 08:00-20:00 the twelve hours outside are out of hours for both layers."""

    setup = [archived(e) for e in team_events()]
    day = (T0, T0 + timedelta(days=1))
    rota = team_rota(TEAM, setup)
    assert [
        (r.layer, r.uncovered_minutes, r.out_of_hours_minutes) for r in rota_cover(rota, *day)
    ] == [("primary", 0, 0), ("backup", 1440, 0)]
    hours = archived(
        event(
            CoverageSet(
                team_id=TEAM,
                all_day=False,
                opens=time(8),
                closes=time(20),
                fallback_number="+15005550998",
            ),
            TEAM,
            T0 - timedelta(days=2),
        )
    )
    rota = team_rota(TEAM, [*setup, hours])
    assert [
        (r.layer, r.uncovered_minutes, r.out_of_hours_minutes) for r in rota_cover(rota, *day)
    ] == [("primary", 0, 720), ("backup", 720, 720)]


def test_team_figures_of_one_escalated_incident() -> None:
    """One incident answered in 150 s (MTTA 149.5 s) after one escalation; 1 client and 2
    staff on the team."""

    setup = [archived(e) for e in team_events()]
    figures = team_figures(
        TEAM,
        T0 - timedelta(hours=1),
        T0 + timedelta(hours=1),
        incidents=[_golden()],
        rota=team_rota(TEAM, setup),
        membership=setup,
    )
    assert (figures.incidents, figures.acknowledged) == (1, 1)
    assert (figures.time_to_engage.p50_s, figures.time_to_engage.p90_s) == (150.0, 150.0)
    assert figures.mtta.max_s == 149.5
    assert (figures.acknowledged_within_5_min, figures.acknowledged_within_15_min) == (1.0, 1.0)
    assert figures.escalations_per_incident == 1.0
    assert [(p.staff_id, p.pages) for p in figures.pages_per_person] == [
        (BACKUP, 1),
        (PRIMARY, 1),
    ]
    assert (figures.clients, figures.staff, figures.clients_per_staff) == (1, 2, 0.5)
