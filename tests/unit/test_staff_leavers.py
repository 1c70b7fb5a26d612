"""Staff joining, leaving and changing role in the rota fold; leavers as coverage gaps; the
checks every rota change passes before it is recorded."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from dispatch.events.codec import decode, encode
from dispatch.rota.checks import (
    double_booked,
    override_problem,
)
from dispatch.rota.events import (
    CoverageGapDetected,
    OverrideScheduled,
    RotationDefined,
    StaffJoined,
    StaffLeft,
    StaffRegistered,
    StaffRoleChanged,
)
from dispatch.rota.gaps import coverage_gaps, gap_events
from dispatch.rota.oncall import on_call
from dispatch.rota.state import Entry, TeamRota, fold
from dispatch.rota.timeline import segments
from tests.unit.test_rota_support import ev, staff, team

START = datetime(2026, 3, 2, 14, tzinfo=UTC)  # a Monday, 09:00 in New York (hand-off)
DAY = timedelta(days=1)


def rotation(
    layer: str = "primary", participants: tuple[str, ...] = ("s1", "s2")
) -> RotationDefined:
    return RotationDefined(
        team_id="t", rotation_id=f"daily-{layer}", layer=layer,  # type: ignore[arg-type]
        period="daily", handoff_time=time(9), participants=participants,
        starts_at=START - DAY,
    )  # fmt: skip


def left(staff_id: str, at: datetime) -> StaffLeft:
    return StaffLeft(staff_id=staff_id, team_id="t", left_at=at, reason="moved on")


def base() -> list:  # type: ignore[type-arg]
    return [team(), staff("s1", n=1), staff("s2", n=2), staff("s3", n=3), ev(rotation())]


def rota_of(*more: object) -> TeamRota:
    return fold([*base(), *more]).team("t")  # type: ignore[list-item]


def test_a_leaver_is_never_the_answer_from_the_moment_they_leave() -> None:
    """The rota still names s2, but from their leaving on the layer has nobody and says why."""
    rota = rota_of(ev(left("s2", START + DAY)))
    before = on_call(rota, "primary", START + timedelta(hours=1))  # day 1: s2's turn
    assert before.staff_id == "s2" and before.source == "rotation"
    after = on_call(rota, "primary", START + DAY + timedelta(hours=1))  # day 2: s1
    gap = on_call(rota, "primary", START + 2 * DAY + timedelta(hours=1))  # day 3: s2 again
    assert after.staff_id == "s1"
    assert (gap.staff_id, gap.source, gap.unavailable) == (None, "leaver", "s2")


def test_a_leaver_named_by_an_override_is_a_gap_too() -> None:
    """An override that names a leaver does not silently fall back to the rotation."""
    cover = OverrideScheduled(team_id="t", override_id="o", layer="primary", staff_id="s3",
                              starts_at=START, ends_at=START + 3 * DAY)  # fmt: skip
    rota = rota_of(ev(cover), ev(left("s3", START + DAY)))
    answer = on_call(rota, "primary", START + DAY + timedelta(hours=2))
    assert (answer.source, answer.unavailable) == ("leaver", "s3")


def test_only_staff_joined_brings_a_leaver_back() -> None:
    """Re-registering (a rota file) leaves them gone; joining again brings them back."""
    gone = ev(left("s2", START))
    again = staff("s2", n=2)
    rota = rota_of(gone, again)
    assert rota.has_left("s2", START + timedelta(hours=1))
    back = StaffJoined(staff_id="s2", team_id="t", display_name="s2", role="nurse",
                       gender="male", phone="+15550100002")  # fmt: skip
    rota = rota_of(gone, ev(back))
    assert not rota.has_left("s2", START + 5 * DAY)
    assert on_call(rota, "primary", START + timedelta(hours=1)).staff_id == "s2"


def test_a_role_change_is_folded_and_an_older_one_is_ignored() -> None:
    """The newest of a registration and a role change wins, in whatever order they arrive."""
    roster = base()
    lead = ev(StaffRoleChanged(staff_id="s1", team_id="t", role="team_lead", previous_role="nurse"))
    entry = fold([*roster, lead]).team("t").member("s1")
    assert entry is not None and entry.role == "team_lead"
    replayed = fold([lead, *roster]).team("t").member("s1")
    assert replayed is not None and replayed.role == "team_lead"
    older = fold([*base(), lead]).team("t").member("s1")  # registered again after it
    assert older is not None and older.role == "nurse"


def test_gaps_list_each_period_the_rota_gives_a_leaver_and_record_once() -> None:
    """Over four days of a two-person daily rotation, s2's two remaining days are gaps; the
    events derive their ids from the gaps, so finding them again records nothing new."""
    rota = rota_of(ev(left("s2", START + DAY)))
    gaps = coverage_gaps(rota, START + DAY, START + 5 * DAY)
    assert [(g.layer, g.starts_at, g.ends_at, g.staff_id, g.named_by) for g in gaps] == [
        ("primary", START + 2 * DAY, START + 3 * DAY, "s2", "rotation"),
        ("primary", START + 4 * DAY, START + 5 * DAY, "s2", "rotation"),
    ]
    now = START + DAY
    first = gap_events(gaps, now=now, actor="cli:lead")
    again = gap_events(gaps, now=now + timedelta(hours=3), actor="cli:lead")
    assert [e.event_id for e in first] == [e.event_id for e in again]
    assert isinstance(first[0].payload, CoverageGapDetected)
    shown = segments(rota, "primary", START + 2 * DAY, START + 3 * DAY)
    assert [(s.source, s.unavailable) for s in shown] == [("leaver", "s2")]


def test_older_staff_registered_events_still_decode() -> None:
    """A StaffRegistered from the archive reads as before and round-trips through JSON."""
    old = staff("s9", n=9)
    assert isinstance(decode(encode(old)).payload, StaffRegistered)
    joined = ev(StaffJoined(staff_id="s9", team_id="t", display_name="x", role="manager",
                            gender="female", phone="+15550100009"))  # fmt: skip
    assert decode(encode(joined)) == joined


def _override(
    staff_id: str, starts: datetime, ends: datetime, oid: str = "o1"
) -> OverrideScheduled:
    return OverrideScheduled(team_id="t", override_id=oid, layer="primary", staff_id=staff_id,
                             starts_at=starts, ends_at=ends)  # fmt: skip


@pytest.mark.parametrize(
    ("staff_id", "days", "field", "status"),
    [
        ("s3", 32, "ends_at", 400),  # longer than 31 days
        ("zed", 1, "staff_id", 422),  # nobody of the team
        ("s2", 1, "staff_id", 422),  # leaves before the override ends
        ("s4", 1, "staff_id", 422),  # the backup at that time: primary and backup at once
    ],
)
def test_an_override_is_refused_naming_the_field(
    staff_id: str, days: int, field: str, status: int
) -> None:
    """Too long, a stranger, a leaver, or someone already on the other layer: refused."""
    backup = RotationDefined(
        team_id="t", rotation_id="b", layer="backup", period="weekly",
        handoff_time=time(9), participants=("s4",), starts_at=START,
    )  # fmt: skip
    rota = rota_of(staff("s4", n=4), ev(backup), ev(left("s2", START + timedelta(hours=12))))
    wanted = _override(staff_id, START + timedelta(hours=1), START + timedelta(days=days, hours=1))
    problem = override_problem(rota, wanted, None)
    assert problem is not None and (problem.field, problem.status) == (field, status)


def test_an_override_id_names_one_override_for_good() -> None:
    """The same content again is a retry; other content, or a cancelled id, is 409."""
    rota = rota_of()
    wanted = _override("s3", START, START + DAY)
    same = Entry((START, "e1"), wanted)
    assert override_problem(rota, wanted, same) is None
    other = Entry((START, "e1"), _override("s3", START, START + 2 * DAY))
    cancelled: Entry[OverrideScheduled] = Entry((START, "e2"), None)
    for existing in (other, cancelled):
        problem = override_problem(rota, wanted, existing)
        assert problem is not None and (problem.field, problem.status) == ("override_id", 409)


def test_double_booking_is_found_where_both_layers_name_one_person() -> None:
    """A backup rotation with the primary's order puts each person on both layers."""
    rota = rota_of(ev(rotation("backup", ("s1", "s2"))))
    clash = double_booked(rota, START, START + DAY)
    assert clash is not None and clash.staff_id == "s2"
    assert double_booked(rota_of(ev(rotation("backup", ("s2", "s1")))), START, START + DAY) is None
