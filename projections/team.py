"""Team practice: meetings are read from the archive by the review (no table of their own)."""

from __future__ import annotations

from dispatch.events import EventPayload
from dispatch.team.events import TeamMeetingHeld

ARCHIVE_ONLY: frozenset[type[EventPayload]] = frozenset({TeamMeetingHeld})
