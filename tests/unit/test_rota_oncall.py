"""Who is on call: overrides, explicit shifts, swaps, retirements and covered hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from dispatch.rota.caseload import caseload
from dispatch.rota.events import (
    CoverageSet,
    OverrideCancelled,
    OverrideScheduled,
    RotationDefined,
    RotationRetired,
    ShiftAssigned,
    ShiftsSwapped,
)
from dispatch.rota.oncall import on_call
from dispatch.rota.state import fold
from tests.unit.test_rota_support import ev, team

START = datetime(2026, 6, 1, 8, tzinfo=UTC)  # a Monday, 08:00 in a UTC team


def rotation(**kw: object) -> RotationDefined:
    fields: dict[str, object] = {
        "team_id": "t",
        "rotation_id": "r1",
        "layer": "primary",
        "period": "daily",
        "handoff_time": time(8),
        "participants": ("ann", "bob"),
        "starts_at": START,
    }
    return RotationDefined.model_validate({**fields, **kw})


BASE = [team(zone="UTC"), ev(rotation())]


def who(events: list, at: datetime, layer: str = "primary") -> str | None:  # type: ignore[type-arg]
    return on_call(fold(events).team("t"), layer, at).staff_id  # type: ignore[arg-type]


def test_rotation_takes_turns() -> None:
    """Participants alternate at each daily hand-off; before the start nobody is on call."""
    assert who(BASE, START) == "ann"
    assert who(BASE, START + timedelta(hours=23, minutes=59)) == "ann"
    assert who(BASE, START + timedelta(days=1)) == "bob"
    assert who(BASE, START + timedelta(days=2)) == "ann"
    assert who(BASE, START - timedelta(minutes=1)) is None


def test_override_wins_then_cancel_restores() -> None:
    """An override covers its layer for its period; cancelling it restores the rotation."""
    o = OverrideScheduled(
        team_id="t",
        override_id="o1",
        layer="primary",
        staff_id="cy",
        starts_at=START + timedelta(hours=2),
        ends_at=START + timedelta(hours=4),
    )
    events = [*BASE, ev(o)]
    assert who(events, START + timedelta(hours=1)) == "ann"
    assert who(events, START + timedelta(hours=2)) == "cy"
    assert who(events, START + timedelta(hours=4)) == "ann"
    assert who(events, START + timedelta(hours=2), layer="backup") is None
    cancelled = [*events, ev(OverrideCancelled(team_id="t", override_id="o1"))]
    assert who(cancelled, START + timedelta(hours=3)) == "ann"


def test_newest_explicit_assignment_wins() -> None:
    """A ShiftAssigned is an explicit shift: the newer of it and an override wins."""
    span = {"starts_at": START, "ends_at": START + timedelta(hours=8)}
    o = OverrideScheduled(team_id="t", override_id="o", layer="primary", staff_id="cy", **span)
    sh = ShiftAssigned(team_id="t", staff_id="dee", layer="primary", **span)
    assert who([*BASE, ev(o), ev(sh)], START) == "dee"
    assert who([*BASE, ev(sh), ev(o)], START) == "cy"


def test_swap_exchanges_two_staff_for_its_period() -> None:
    """Within a swap's period, ann's turns go to bob and bob's to ann."""
    swap = ShiftsSwapped(
        team_id="t",
        swap_id="s1",
        layer="primary",
        staff_a="ann",
        staff_b="bob",
        starts_at=START,
        ends_at=START + timedelta(days=1, hours=12),
    )
    events = [*BASE, ev(swap)]
    assert who(events, START) == "bob"
    assert who(events, START + timedelta(days=1)) == "ann"
    assert who(events, START + timedelta(days=2)) == "ann"  # after the swap


def test_retired_rotation_and_redefinition() -> None:
    """Redefining a rotation replaces it; retiring it leaves the layer empty."""
    redefined = [*BASE, ev(rotation(participants=("cy",)))]
    assert who(redefined, START + timedelta(days=1)) == "cy"
    retired = [*redefined, ev(RotationRetired(team_id="t", rotation_id="r1"))]
    assert who(retired, START) is None


def test_icm_hours_route_to_fallback_team() -> None:
    """Outside an ICM team's 08:00-20:00 the answer is its named fallback, not a person."""
    cover = CoverageSet(
        team_id="t", all_day=False, opens=time(8), closes=time(20), fallback_team_id="act-1"
    )
    rota = fold([*BASE, ev(cover)]).team("t")
    day = on_call(rota, "primary", START + timedelta(hours=11, minutes=59))
    night = on_call(rota, "primary", START + timedelta(hours=12))
    assert (day.staff_id, day.covered, day.source) == ("ann", True, "rotation")
    assert (night.staff_id, night.covered, night.source) == (None, False, "fallback")
    assert night.fallback_team_id == "act-1"


def test_hours_spanning_midnight() -> None:
    """Covered hours 20:00-08:00 wrap past midnight."""
    cover = CoverageSet(
        team_id="t", all_day=False, opens=time(20), closes=time(8), fallback_number="+15550001111"
    )
    rota = fold([*BASE, ev(cover)]).team("t")
    assert on_call(rota, "primary", START.replace(hour=23)).covered
    assert not on_call(rota, "primary", START.replace(hour=9)).covered


def test_team_without_coverage_is_covered_with_its_fallback_number() -> None:
    """Until hours are declared, a team is covered at all hours; holes name its fallback."""
    answer = on_call(fold(BASE).team("t"), "backup", START)
    assert answer.covered and answer.source == "nobody"
    assert answer.fallback_number == "+15550009999"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"fallback_team_id": None, "fallback_number": None}, "fallback"),
        ({"fallback_team_id": "x", "fallback_number": "+15550001111"}, "fallback"),
        ({"fallback_team_id": "t", "fallback_number": None}, "fallback_team_id"),
    ],
)
def test_coverage_needs_exactly_one_fallback(kw: dict[str, object], field: str) -> None:
    """Coverage without a fallback, or with two, or falling back to itself, is refused."""
    with pytest.raises(ValidationError, match=field):
        CoverageSet.model_validate({"team_id": "t", "all_day": True, **kw})


def test_out_of_order_replay_gives_the_same_state() -> None:
    """Events applied in reverse give the same answers (newest writer wins by stamp)."""
    events = [
        *BASE,
        ev(rotation(participants=("cy", "dee"))),
        ev(RotationRetired(team_id="t", rotation_id="r1")),
        ev(rotation(participants=("eve",))),
    ]
    forward = fold(events).team("t")
    backward = fold(reversed(events)).team("t")
    assert forward == backward
    assert on_call(forward, "primary", START).staff_id == "eve"


@pytest.mark.parametrize(
    ("model", "clients", "staff", "per_staff", "over"),
    [
        ("ACT", 100, 10, 10.0, False),
        ("ACT", 110, 10, 11.0, True),
        ("ICM", 200, 10, 20.0, False),
        ("ICM", 210, 10, 21.0, True),
        ("ACT", 3, 0, None, True),
        ("ICM", 0, 0, None, False),
    ],
)
def test_caseload_flagged_against_the_model_ratio(
    model: str, clients: int, staff: int, per_staff: float | None, over: bool
) -> None:
    """Clients per staff above ACT's 10 or ICM's 20 is flagged; clients with no staff too."""
    figure = caseload("t", model, clients=clients, staff=staff)
    assert (figure.clients_per_staff, figure.over_ratio) == (per_staff, over)
