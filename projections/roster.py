"""Roster read models: teams, staff and explicit shifts (the rota's own entries are in
projections.rota)."""

from __future__ import annotations

import asyncpg

from dispatch.events import Envelope
from dispatch.rota.events import ShiftAssigned, StaffRegistered, TeamFormed
from projections.handlers import handler_table, on
from projections.upsert import upsert_newer


async def _team_formed(conn: asyncpg.Connection, e: Envelope, p: TeamFormed) -> None:
    await upsert_newer(
        conn,
        "teams",
        ["team_id"],
        {
            "team_id": p.team_id,
            "name": p.name,
            "service_model": p.service_model,
            "time_zone": p.time_zone,
            "fallback_number": p.fallback_number,
            "crisis_line_number": p.crisis_line_number,
        },
        e,
    )


async def _staff_registered(conn: asyncpg.Connection, e: Envelope, p: StaffRegistered) -> None:
    await upsert_newer(
        conn,
        "staff",
        ["staff_id"],
        {
            "staff_id": p.staff_id,
            "team_id": p.team_id,
            "display_name": p.display_name,
            "role": p.role,
            "gender": p.gender,
            "phone": p.phone,
            "languages": list(p.languages),
        },
        e,
    )


async def _shift_assigned(conn: asyncpg.Connection, e: Envelope, p: ShiftAssigned) -> None:
    """A shift is its own event: written once, never overwritten."""
    await conn.execute(
        """INSERT INTO shifts (assigned_by_event, team_id, staff_id, layer, starts_at, ends_at,
                               assigned_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (assigned_by_event) DO NOTHING""",
        e.event_id,
        p.team_id,
        p.staff_id,
        p.layer,
        p.starts_at,
        p.ends_at,
        e.occurred_at,
    )


HANDLERS = handler_table(
    on(TeamFormed, _team_formed),
    on(StaffRegistered, _staff_registered),
    on(ShiftAssigned, _shift_assigned),
)
