"""The client journey's port (dispatch.clients.ports.JourneyLookup): a client's record folded
from their own events, and the teams, staff and carers' consent a change names."""

from __future__ import annotations

import asyncpg

from dispatch.clients.ports import StaffRef, TeamRef
from dispatch.clients.record import JOURNEY_TYPES, ClientRecord, fold
from projections.risk_queries import RiskQueries
from projections.streams import own_events


class JourneyQueries:
    """Implements JourneyLookup; consent is the risk read model's (one answer everywhere)."""

    def __init__(self, pool: asyncpg.Pool, risk: RiskQueries) -> None:
        self._pool = pool
        self._risk = risk

    async def record(self, client_id: str) -> ClientRecord:
        return fold(client_id, await own_events(self._pool, client_id, JOURNEY_TYPES))

    async def team(self, team_id: str) -> TeamRef | None:
        row = await self._pool.fetchrow(
            "SELECT team_id, service_model FROM teams WHERE team_id = $1", team_id
        )
        return TeamRef(row["team_id"], row["service_model"]) if row else None

    async def staff(self, staff_id: str) -> StaffRef | None:
        row = await self._pool.fetchrow(
            "SELECT staff_id, team_id FROM staff WHERE staff_id = $1", staff_id
        )
        return StaffRef(row["staff_id"], row["team_id"]) if row else None

    async def carer_consents(self, client_id: str, carer_id: str) -> bool | None:
        return await self._risk.carer_consents(client_id, carer_id)
