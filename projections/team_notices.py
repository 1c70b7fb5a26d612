"""The team-level lines of the huddle board: rota gaps first, then consents and carers'
assessments due for review."""

from __future__ import annotations

from datetime import datetime

from dispatch.clients.notices import BoardNotice
from projections.carer_queries import CarerQueries
from projections.staff_queries import StaffQueries


async def team_notices(
    staff: StaffQueries, carers: CarerQueries, team_id: str, now: datetime
) -> list[BoardNotice]:
    return [*await staff.gap_notices(team_id, now), *await carers.notices(team_id, now.date())]
