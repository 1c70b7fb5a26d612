"""Rotations across daylight-saving changes in the team's own zone: no gap, no overlap."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch.rota.events import RotationDefined
from dispatch.rota.oncall import on_call
from dispatch.rota.state import TeamRota, fold
from dispatch.rota.timeline import segments
from tests.unit.test_rota_support import NY, ev, team

ZONE = ZoneInfo(NY)
PEOPLE = ("ann", "bob", "cat")


def local(y: int, mo: int, d: int, h: int, mi: int = 0, fold_: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=ZONE, fold=fold_)


def rota_with(handoff: time, *, period: str = "daily", weekday: int = 0) -> TeamRota:
    rotation = RotationDefined(
        team_id="t",
        rotation_id="r1",
        layer="primary",
        period=period,  # type: ignore[arg-type]
        handoff_time=handoff,
        handoff_weekday=weekday,
        participants=PEOPLE,
        starts_at=local(2026, 1, 5, 9),
    )
    return fold([team(), ev(rotation)]).team("t")


def hours(seg_start: datetime, seg_end: datetime) -> float:
    return (seg_end - seg_start).total_seconds() / 3600


@pytest.mark.parametrize(
    ("day", "dst_day_hours"),
    [((2026, 3, 7), 23.0), ((2026, 10, 31), 25.0)],
    ids=["spring-forward", "fall-back"],
)
def test_daily_handoff_at_local_wall_clock(day: tuple[int, int, int], dst_day_hours: float) -> None:
    """A 09:00 hand-off stays at 09:00 local; the DST day is one period of 23 or 25 hours."""
    rota = rota_with(time(9))
    start = local(*day, 9) - timedelta(days=2)
    segs = segments(rota, "primary", start, start + timedelta(days=5))
    assert [s.starts_at.astimezone(ZONE).time() for s in segs] == [time(9)] * len(segs)
    assert [hours(s.starts_at, s.ends_at) for s in segs] == [24, 24, dst_day_hours, 24, 24]
    for a, b in itertools.pairwise(segs):
        assert a.ends_at == b.starts_at and a.staff_id != b.staff_id


@pytest.mark.parametrize(
    "window_start",
    [local(2026, 3, 6, 12), local(2026, 10, 30, 12)],
    ids=["spring-forward", "fall-back"],
)
@pytest.mark.parametrize("handoff", [time(0), time(1, 30), time(2, 30), time(9)])
def test_no_gap_no_overlap_no_one_twice(window_start: datetime, handoff: time) -> None:
    """Minute by minute across a DST change, each person covers one unbroken period."""
    rota = rota_with(handoff)
    seen: list[str] = []
    at = window_start.astimezone(UTC)
    for _ in range(3 * 24 * 60):
        answer = on_call(rota, "primary", at)
        assert answer.staff_id is not None  # no gap
        if not seen or seen[-1] != answer.staff_id:
            seen.append(answer.staff_id)
        at += timedelta(minutes=1)
    # Three days from noon: exactly three hand-offs, and with three people on the
    # rotation nobody comes back within a period of the one they covered.
    assert len(seen) == 4
    assert all(len(set(seen[i : i + 3])) == 3 for i in range(len(seen) - 2))


def test_repeated_hour_does_not_hand_back() -> None:
    """A 01:30 hand-off on the fall-back day happens once: the repeated 01:30 changes nobody."""
    rota = rota_with(time(1, 30))
    first = on_call(rota, "primary", local(2026, 11, 1, 1, 45, fold_=0))
    second = on_call(rota, "primary", local(2026, 11, 1, 1, 45, fold_=1))
    before = on_call(rota, "primary", local(2026, 11, 1, 1, 15, fold_=0))
    assert first.staff_id == second.staff_id != before.staff_id


def test_skipped_handoff_time_still_hands_off_once() -> None:
    """A 02:30 hand-off on the spring-forward day (02:30 does not exist) happens once."""
    rota = rota_with(time(2, 30))
    segs = segments(rota, "primary", local(2026, 3, 7, 3), local(2026, 3, 9, 3))
    assert len(segs) == 3
    assert sum(hours(s.starts_at, s.ends_at) for s in segs) == 47


def test_weekly_rotation_across_spring_forward() -> None:
    """A weekly Monday 09:00 hand-off: the week with the DST change lasts 167 hours."""
    rota = rota_with(time(9), period="weekly", weekday=0)
    segs = segments(rota, "primary", local(2026, 3, 2, 9), local(2026, 3, 23, 9))
    assert [hours(s.starts_at, s.ends_at) for s in segs] == [167, 168, 168]
    assert [s.starts_at.astimezone(ZONE).weekday() for s in segs] == [0, 0, 0]
    assert len({s.staff_id for s in segs}) == 3


def test_weekly_rotation_across_fall_back() -> None:
    """A weekly Monday 09:00 hand-off: the week with the fall-back lasts 169 hours."""
    rota = rota_with(time(9), period="weekly", weekday=0)
    segs = segments(rota, "primary", local(2026, 10, 26, 9), local(2026, 11, 9, 9))
    assert [hours(s.starts_at, s.ends_at) for s in segs] == [169, 168]


def test_sydney_team_uses_its_own_zone() -> None:
    """A team in Australia/Sydney hands off at its own 08:00, across its April fall-back."""
    rotation = RotationDefined(
        team_id="syd",
        rotation_id="r",
        layer="primary",
        period="daily",
        handoff_time=time(8),
        participants=("a", "b"),
        starts_at=datetime(2026, 3, 30, tzinfo=UTC),
    )
    rota = fold([team("syd", zone="Australia/Sydney"), ev(rotation)]).team("syd")
    syd = ZoneInfo("Australia/Sydney")
    segs = segments(
        rota, "primary", datetime(2026, 4, 4, 8, tzinfo=syd), datetime(2026, 4, 6, 8, tzinfo=syd)
    )
    assert [hours(s.starts_at, s.ends_at) for s in segs] == [25, 24]
