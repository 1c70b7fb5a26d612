"""Team practice events (key: team id, topic act.roster-events)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from dispatch.events.envelope import EventPayload


class TeamMeetingHeld(EventPayload):
    """The team met to plan and review its clients' care (ACT's daily meeting; DACTS H3).

    One per team and local day (`held_on`, in the team's time zone): recording the same day
    again records nothing new."""

    event_type = "TeamMeetingHeld"
    team_id: str
    held_on: date
    attendees: tuple[str, ...] = ()
    clients_reviewed: int | None = Field(default=None, ge=0)


TEAM_PAYLOADS: tuple[type[EventPayload], ...] = (TeamMeetingHeld,)
