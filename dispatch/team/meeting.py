"""Recording a team meeting: the input checked against the team, then one event to spool.

The CLI (`dispatch huddle --held`) and the API (POST /api/team/meetings) both come through
here. Bad input is refused naming the field and nothing is recorded; the event id derives
from the team and the local day, so a second report of the same day is a no-op.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from dispatch.events import Envelope, derived_id, new_event
from dispatch.team.events import TeamMeetingHeld

FUTURE_SLACK = timedelta(minutes=5)


class MeetingRefused(ValueError):
    """A meeting that is not recorded; status is the HTTP status, field what was wrong."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status
        self.field = field
        self.message = message


class MeetingInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    occurred_at: AwareDatetime | None = None
    attendees: tuple[str, ...] = Field(default=(), max_length=100)
    clients_reviewed: int | None = Field(default=None, ge=0, le=10_000)


class KnownTeam(Protocol):
    @property
    def time_zone(self) -> str: ...


class KnownStaff(Protocol):
    @property
    def team_id(self) -> str: ...


class TeamLookup(Protocol):
    async def team(self, team_id: str) -> KnownTeam | None: ...

    async def staff(self, staff_id: str) -> KnownStaff | None: ...


def parse_meeting(data: Any) -> MeetingInput:
    """The body as a MeetingInput, or MeetingRefused naming the first bad field."""
    if not isinstance(data, dict):
        raise MeetingRefused(400, "body", "send a JSON object")
    try:
        return MeetingInput.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        raise MeetingRefused(400, field, err["msg"]) from None


async def meeting_event(
    lookup: TeamLookup,
    *,
    team_id: str,
    meeting: MeetingInput,
    recorded_by: str,
    now: datetime,
) -> Envelope:
    """TeamMeetingHeld for a known team; every attendee must be a member of it."""
    team = await lookup.team(team_id)
    if team is None:
        raise MeetingRefused(404, "team_id", f"no team {team_id!r}")
    for i, staff_id in enumerate(meeting.attendees):
        person = await lookup.staff(staff_id)
        if person is None or person.team_id != team_id:
            raise MeetingRefused(422, f"attendees.{i}", f"{staff_id!r} is not on the team")
    held_at = meeting.occurred_at or now
    if held_at > now + FUTURE_SLACK:
        raise MeetingRefused(400, "occurred_at", "is in the future")
    held_on = held_at.astimezone(ZoneInfo(team.time_zone)).date()
    return new_event(
        TeamMeetingHeld(
            team_id=team_id,
            held_on=held_on,
            attendees=tuple(dict.fromkeys(meeting.attendees)),
            clients_reviewed=meeting.clients_reviewed,
        ),
        key=team_id,
        event_id=derived_id("team-meeting", team_id, held_on.isoformat()),
        occurred_at=held_at,
        recorded_at=now,
        actor=recorded_by,
    )
