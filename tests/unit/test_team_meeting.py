"""Recording the team meeting: one event per team and local day, attendees checked, and the
review commands refuse bad times before connecting to anything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner

from dispatch.cli import main
from dispatch.team.events import TeamMeetingHeld
from dispatch.team.meeting import MeetingRefused, meeting_event, parse_meeting

NOW = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 July in London (summer time)


@dataclass(frozen=True)
class Known:
    time_zone: str = "Europe/London"
    team_id: str = "act-rv"


class Lookup:
    async def team(self, team_id: str) -> Known | None:
        return Known() if team_id == "act-rv" else None

    async def staff(self, staff_id: str) -> Known | None:
        return {"s-1": Known(), "s-9": Known(team_id="act-other")}.get(staff_id)


async def _record(body: dict[str, object], team_id: str = "act-rv"):  # type: ignore[no-untyped-def]
    return await meeting_event(Lookup(), team_id=team_id, meeting=parse_meeting(body),
                               recorded_by="cli:s-1", now=NOW)  # fmt: skip


async def test_the_meeting_day_is_the_teams_local_day_and_recorded_once() -> None:
    """At 23:30 UTC it is already 2 July in London; the same day twice is one event id."""
    first = await _record({"attendees": ["s-1", "s-1"], "clients_reviewed": 12})
    again = await _record({"occurred_at": (NOW - timedelta(minutes=20)).isoformat()})
    assert first.payload == TeamMeetingHeld(
        team_id="act-rv", held_on=date(2026, 7, 2), attendees=("s-1",), clients_reviewed=12
    )
    assert (first.key, first.event_id) == ("act-rv", again.event_id)


@pytest.mark.parametrize(
    ("body", "team_id", "status", "field"),
    [
        ({"attendees": ["s-9"]}, "act-rv", 422, "attendees.0"),
        ({"attendees": ["nobody"]}, "act-rv", 422, "attendees.0"),
        ({}, "act-none", 404, "team_id"),
        ({"occurred_at": "2026-07-02T09:00:00+00:00"}, "act-rv", 400, "occurred_at"),
        ({"clients_reviewed": -1}, "act-rv", 400, "clients_reviewed"),
        ({"minutes": 30}, "act-rv", 400, "minutes"),
    ],
)
async def test_bad_meetings_are_refused_naming_the_field(
    body: dict[str, object], team_id: str, status: int, field: str
) -> None:
    """Another team's or an unknown attendee, an unknown team, a meeting in the future, a
    negative count, an unknown field: refused, naming it."""
    with pytest.raises(MeetingRefused) as refused:
        await _record(body, team_id)
    assert (refused.value.status, refused.value.field) == (status, field)


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["incidents", "--team", "t", "--to", "monday"], "--to"),
        (["incidents", "--team", "t", "--from", "2026-03-02T00:00:00"], "--from"),
        (["team", "--team", "t", "--from", "2026-03-02T00:00Z", "--to", "2026-03-01T00:00Z"],
         "--from"),
        (["as-of", "2026-03-02T12:00"], "AT"),
        (["fidelity", "--team", "t", "--at", "2026-03-02T00:00Z", "--to", "2026-03-01T00:00Z"],
         "--at"),
    ],
)  # fmt: skip
def test_review_commands_refuse_bad_times_before_connecting(args: list[str], hint: str) -> None:
    """A time that is not ISO 8601, lacks its offset, or a window backwards: exit 2 naming
    the option, with no database configured at all."""
    result = CliRunner().invoke(main, ["review", *args], env={"DATABASE_URL": ""})
    assert result.exit_code == 2, result.output
    assert hint in result.output
