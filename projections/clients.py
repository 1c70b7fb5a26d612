"""Client read models: who is on a team's caseload and their carers (with consent)."""

from __future__ import annotations

import asyncpg

from dispatch.clients.events import CarerRegistered, ClientEnrolled
from dispatch.events import Envelope
from projections.handlers import handler_table, on
from projections.upsert import upsert_newer


async def _client_enrolled(conn: asyncpg.Connection, e: Envelope, p: ClientEnrolled) -> None:
    await upsert_newer(
        conn,
        "clients",
        ["client_id"],
        {
            "client_id": p.client_id,
            "team_id": p.team_id,
            "display_name": p.display_name,
            "phone": p.phone,
            "preferred_gender": p.preferred_gender,
            "language": p.language,
        },
        e,
    )


async def _carer_registered(conn: asyncpg.Connection, e: Envelope, p: CarerRegistered) -> None:
    await upsert_newer(
        conn,
        "carers",
        ["client_id", "carer_id"],
        {
            "client_id": p.client_id,
            "carer_id": p.carer_id,
            "display_name": p.display_name,
            "phone": p.phone,
            "relationship": p.relationship,
            "consents": p.client_consents_to_share,
        },
        e,
    )


HANDLERS = handler_table(
    on(ClientEnrolled, _client_enrolled),
    on(CarerRegistered, _carer_registered),
)
