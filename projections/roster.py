"""Roster read models: teams, staff (joining, leaving, role changes) and explicit shifts
(the rota's own entries are in projections.rota)."""

from __future__ import annotations

import asyncpg

from dispatch.events import Envelope, EventPayload
from dispatch.rota.events import (
    CoverageGapDetected,
    ShiftAssigned,
    StaffJoined,
    StaffLeft,
    StaffRegistered,
    StaffRoleChanged,
    TeamFormed,
)
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


async def _staff_registered(
    conn: asyncpg.Connection, e: Envelope, p: StaffRegistered | StaffJoined
) -> None:
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
    await _sync_left_at(conn, p.staff_id)


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


async def _sync_left_at(conn: asyncpg.Connection, staff_id: str) -> None:
    """staff.left_at follows staff_departures (the newest join or departure)."""
    await conn.execute(
        """UPDATE staff s SET left_at = d.left_at FROM staff_departures d
           WHERE d.staff_id = s.staff_id AND s.staff_id = $1
             AND s.left_at IS DISTINCT FROM d.left_at""",
        staff_id,
    )


async def _departure(
    conn: asyncpg.Connection, e: Envelope, staff_id: str, team_id: str, left: StaffLeft | None
) -> None:
    await upsert_newer(
        conn,
        "staff_departures",
        ["staff_id"],
        {
            "staff_id": staff_id,
            "team_id": team_id,
            "left_at": left.left_at if left else None,
            "reason": left.reason if left else "",
        },
        e,
    )
    await _sync_left_at(conn, staff_id)


async def _staff_joined(conn: asyncpg.Connection, e: Envelope, p: StaffJoined) -> None:
    """A joiner (or a leaver back): on the staff list, and no longer leaving."""
    await _staff_registered(conn, e, p)
    await _departure(conn, e, p.staff_id, p.team_id, None)


async def _staff_left(conn: asyncpg.Connection, e: Envelope, p: StaffLeft) -> None:
    await _departure(conn, e, p.staff_id, p.team_id, p)


async def _role_changed(conn: asyncpg.Connection, e: Envelope, p: StaffRoleChanged) -> None:
    """The new role, unless the staff row was written by a newer event."""
    await conn.execute(
        """UPDATE staff SET role = $3, updated_at = $4, updated_by_event = $5
           WHERE staff_id = $1 AND team_id = $2 AND (updated_at, updated_by_event) < ($4, $5)""",
        p.staff_id,
        p.team_id,
        p.role,
        e.occurred_at,
        e.event_id,
    )


HANDLERS = handler_table(
    on(TeamFormed, _team_formed),
    on(StaffRegistered, _staff_registered),
    on(ShiftAssigned, _shift_assigned),
    on(StaffJoined, _staff_joined),
    on(StaffLeft, _staff_left),
    on(StaffRoleChanged, _role_changed),
)
# A gap is found again from the rota whenever it is asked for (the huddle board, the
# rota views); its event is the record that it was reported.
ARCHIVE_ONLY: frozenset[type[EventPayload]] = frozenset({CoverageGapDetected})
