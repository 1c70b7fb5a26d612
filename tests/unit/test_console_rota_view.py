"""The rota calendar's view (pure): days in the team's zone, marks for rotation, swap,
override, gaps and the out-of-hours fallback; form input read in the team's zone; the
meeting form as the API's body; one-time codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest

from dispatch.rota.events import (
    CoverageSet,
    OverrideScheduled,
    RotationDefined,
    ShiftsSwapped,
    StaffLeft,
)
from dispatch.rota.state import fold
from dispatch.web.console.codes import code_matches, code_sms, hash_code, new_code
from dispatch.web.console.huddle import meeting_body
from dispatch.web.console.rota import override_body
from dispatch.web.console.rota_view import calendar, local_input, on_call_now
from dispatch.web.http import ApiError
from tests.unit.test_rota_support import ev, staff, team

LONDON = "Europe/London"
START = datetime(2026, 6, 1, 7, tzinfo=UTC)  # Monday 08:00 in London (BST)
NOW = datetime(2026, 6, 3, 11, tzinfo=UTC)  # Wednesday 12:00 in London


def week() -> object:
    events = [
        team(zone=LONDON),
        staff("ann", n=1),
        staff("bob", n=2),
        staff("cat", n=3),
        ev(RotationDefined(team_id="t", rotation_id="p", layer="primary", period="daily",
                           handoff_time=time(8), participants=("ann", "bob"),
                           starts_at=START)),
        ev(RotationDefined(team_id="t", rotation_id="b", layer="backup", period="daily",
                           handoff_time=time(8), participants=("cat",), starts_at=START)),
        ev(ShiftsSwapped(team_id="t", swap_id="w1", layer="primary", staff_a="ann",
                         staff_b="bob", starts_at=NOW + timedelta(days=1),
                         ends_at=NOW + timedelta(days=2))),
        ev(OverrideScheduled(team_id="t", override_id="o1", layer="backup", staff_id="bob",
                             starts_at=NOW + timedelta(days=3),
                             ends_at=NOW + timedelta(days=3, hours=6))),
    ]  # fmt: skip
    return fold(events).team("t")


def test_the_calendar_runs_seven_local_days_from_today_with_each_kind_marked() -> None:
    cal = calendar(week(), NOW)  # type: ignore[arg-type]
    assert [d.label for d in cal.days][:2] == ["Wed 03 Jun", "Thu 04 Jun"]
    assert len(cal.days) == 7 and cal.days[0].today and cal.time_zone == LONDON
    wednesday = cal.days[0].layers["primary"]
    # Wednesday: period 2 (ann) until 08:00 local... then bob; hand-offs at local 08:00.
    assert [(s.starts, s.ends, s.name, s.kind) for s in wednesday] == [
        ("00:00", "08:00", "bob", "rotation"),
        ("08:00", "24:00", "ann", "rotation"),
    ]
    thursday = cal.days[1].layers["primary"]
    assert ("12:00", "24:00", "ann", "swap") in [(s.starts, s.ends, s.name, s.kind)
                                                 for s in thursday]  # fmt: skip
    saturday = cal.days[3].layers["backup"]
    assert ("12:00", "18:00", "bob", "override") in [(s.starts, s.ends, s.name, s.kind)
                                                     for s in saturday]  # fmt: skip
    assert [o.ident for o in cal.overrides] == ["o1"] and [w.ident for w in cal.swaps] == ["w1"]
    assert cal.hours == "24 hours a day" and cal.fallback == "+15550009999"


def test_out_of_hours_is_the_fallback_and_a_leaver_is_a_gap() -> None:
    rota = fold([
        team(zone=LONDON), staff("ann", n=1),
        ev(CoverageSet(team_id="t", all_day=False, opens=time(8), closes=time(20),
                       fallback_team_id="act-night")),
        ev(RotationDefined(team_id="t", rotation_id="p", layer="primary", period="daily",
                           handoff_time=time(8), participants=("ann",), starts_at=START)),
        ev(StaffLeft(staff_id="ann", team_id="t", left_at=NOW + timedelta(days=2))),
    ]).team("t")  # fmt: skip
    cal = calendar(rota, NOW)
    today = [(s.starts, s.ends, s.name, s.kind) for s in cal.days[0].layers["primary"]]
    assert today == [("00:00", "08:00", "team act-night", "fallback"),
                     ("08:00", "20:00", "ann", "rotation"),
                     ("20:00", "24:00", "team act-night", "fallback")]  # fmt: skip
    friday = cal.days[2].layers["primary"]
    assert any(s.gap and s.kind == "leaver" and s.name == "ann" for s in friday)
    assert [(s.name, s.kind) for s in cal.days[0].layers["backup"]][1] == ("nobody", "nobody")
    assert cal.hours == "08:00 to 20:00"
    night = on_call_now(rota, NOW.replace(hour=22))
    assert not night.covered and night.fallback == "team act-night"
    day = on_call_now(rota, NOW)
    assert day.covered and day.primary.name == "ann" and day.backup.kind == "nobody"


def test_a_form_time_without_an_offset_is_the_teams_local_time() -> None:
    assert local_input("2026-06-03T12:00", LONDON) == NOW
    assert local_input("2026-06-03T12:00+00:00", LONDON) == NOW + timedelta(hours=1)
    assert local_input("tomorrow", LONDON) is None
    body = json.loads(
        override_body(
            {"layer": "backup", "staff_id": "bob", "starts_at": "2026-06-03T12:00", "ends_at": ""},
            LONDON,
        )
    )
    assert body == {"layer": "backup", "staff_id": "bob", "starts_at": "2026-06-03T12:00:00+01:00"}
    with pytest.raises(ApiError) as bad:
        override_body({"starts_at": "noon"}, LONDON)
    assert bad.value.field == "starts_at" and bad.value.status == 400


def test_the_meeting_form_is_the_apis_body() -> None:
    assert json.loads(meeting_body(["ann"], " 4 ")) == {"attendees": ["ann"], "clients_reviewed": 4}
    assert json.loads(meeting_body([], "")) == {"attendees": []}
    assert json.loads(meeting_body([], "four")) == {"attendees": [], "clients_reviewed": "four"}


def test_a_code_is_six_digits_hashed_for_its_account_and_said_without_client_data() -> None:
    code = new_code()
    assert len(code) == 6 and code.isdigit()
    stored = hash_code("s-nurse", code)
    assert code not in stored
    assert code_matches(stored, "s-nurse", f" {code[:3]} {code[3:]}")
    assert not code_matches(stored, "s-other", code)  # bound to the account
    assert not code_matches(stored, "s-nurse", f"{(int(code) + 1) % 10**6:06d}")
    assert not code_matches(None, "s-nurse", code)
    text = code_sms(code)
    assert code in text and len(text) <= 160 and not text.startswith("ACT ")
