"""The team's daily meetings as the archive has them (TeamMeetingHeld is archive-only)."""

from __future__ import annotations

from datetime import date

import asyncpg


async def last_meeting(pool: asyncpg.Pool, team_id: str) -> date | None:
    """The local day of the team's latest recorded meeting (None: never)."""
    held: str | None = await pool.fetchval(
        """SELECT max(payload->>'held_on') FROM event_archive
           WHERE key = $1 AND type = 'TeamMeetingHeld'""",
        team_id,
    )
    return date.fromisoformat(held) if held else None
