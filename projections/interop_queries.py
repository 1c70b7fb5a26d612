"""What import and export read beyond the services' own lookups (implements
dispatch.interop.fhir_import.ImportArchive): whether events were recorded, a client's own
facts, and the clients on a team's caseload."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

from dispatch.clients.events import CARER_PAYLOADS, CLIENT_PAYLOADS
from dispatch.events import Envelope
from projections.streams import own_events

CLIENT_FACTS = tuple(cls.event_type for cls in (*CLIENT_PAYLOADS, *CARER_PAYLOADS))


class InteropQueries:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def known(self, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        rows = await self._pool.fetch(
            """SELECT event_id FROM event_archive WHERE event_id = ANY($1::uuid[])
               UNION SELECT event_id FROM ingress_spool WHERE event_id = ANY($1::uuid[])""",
            list(event_ids),
        )
        return {r["event_id"] for r in rows}

    async def client_events(self, client_id: str) -> list[Envelope]:
        """The client's journey, carers, consent, contacts and care plans: archived, then
        spooled and not yet archived."""
        return await own_events(self._pool, client_id, CLIENT_FACTS)

    async def team_clients(self, team_id: str) -> list[str]:
        """The clients the read model has on the team (discharged ones too), by id."""
        rows = await self._pool.fetch(
            "SELECT client_id FROM clients WHERE team_id = $1 ORDER BY client_id", team_id
        )
        return [r["client_id"] for r in rows]
