"""The roster questions that changing it asks (dispatch.rota.staff_intake.RosterLookup):
who holds a phone, what an override id already names, the team's staff with leavers, and
the gaps leavers leave in the rota."""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from dispatch.clients.notices import BoardNotice
from dispatch.rota.events import OverrideScheduled
from dispatch.rota.gaps import GAP_HORIZON, CoverageGap, coverage_gaps, gap_line
from dispatch.rota.state import Entry, TeamRota
from projections.models import StaffMember
from projections.queries import ReadModels, _staff

GAPS_SHOWN = 3  # per leaver, on the huddle board


class StaffQueries:
    def __init__(self, pool: asyncpg.Pool, read_models: ReadModels) -> None:
        self._pool = pool
        self._rm = read_models

    async def team_rota(self, team_id: str, start: datetime, end: datetime) -> TeamRota:
        return await self._rm.team_rota(team_id, start, end)

    async def staff(self, staff_id: str) -> StaffMember | None:
        return await self._rm.staff(staff_id)

    async def roster(self, team_id: str) -> list[StaffMember]:
        """Everyone the team has had, leavers included (left_at says when)."""
        rows = await self._pool.fetch(
            "SELECT * FROM staff s WHERE s.team_id = $1 ORDER BY s.display_name, s.staff_id",
            team_id,
        )
        return [_staff(row) for row in rows]

    async def phone_holder(self, phone: str, at: datetime) -> StaffMember | None:
        """Who still on a team has this phone at `at` (a leaver's number may be reused)."""
        row = await self._pool.fetchrow(
            """SELECT * FROM staff s WHERE s.phone = $1 AND (s.left_at IS NULL OR s.left_at > $2)
                ORDER BY s.updated_at DESC LIMIT 1""",
            phone,
            at,
        )
        return _staff(row) if row else None

    async def override_entry(
        self, team_id: str, override_id: str
    ) -> Entry[OverrideScheduled] | None:
        """What an override id of the team names already (value None: it was cancelled)."""
        row = await self._pool.fetchrow(
            """SELECT payload, updated_at, updated_by_event FROM rota_entries
               WHERE team_id = $1 AND kind = 'override' AND entry_id = $2""",
            team_id,
            override_id,
        )
        if row is None:
            return None
        raw = row["payload"]
        value = OverrideScheduled.model_validate(json.loads(raw)) if raw is not None else None
        return Entry((row["updated_at"], str(row["updated_by_event"])), value)

    async def gaps(self, team_id: str, start: datetime, end: datetime) -> list[CoverageGap]:
        """Where the team's rota names a leaver in [start, end)."""
        return coverage_gaps(await self._rm.team_rota(team_id, start, end), start, end)

    async def gap_notices(self, team_id: str, now: datetime) -> list[BoardNotice]:
        """The gaps of the next GAP_HORIZON as huddle board lines: the first few of each
        leaver's, then how many more (`dispatch rota show` lists them all)."""
        out: list[BoardNotice] = []
        shown: dict[str, int] = {}
        for g in await self.gaps(team_id, now, now + GAP_HORIZON):
            shown[g.staff_id] = shown.get(g.staff_id, 0) + 1
            if shown[g.staff_id] <= GAPS_SHOWN:
                out.append(BoardNotice("coverage_gap", g.staff_id, gap_line(g)))
        for staff_id, count in shown.items():
            if count > GAPS_SHOWN:
                more = f"COVERAGE GAP and {count - GAPS_SHOWN} more naming {staff_id}"
                out.append(BoardNotice("coverage_gap", staff_id, f"{more} (dispatch rota show)"))
        return out
