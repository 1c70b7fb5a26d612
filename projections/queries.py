"""ReadModels: the questions the web edge and the workers ask of the projected state."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg

from projections.models import (
    ArchivedEvent,
    Caller,
    Dispatch,
    OnDuty,
    Page,
    StaffMember,
    Team,
)

_STAFF = "s.staff_id, s.team_id, s.display_name, s.role, s.gender, s.phone, s.languages"
_DISPATCH = """dispatch_id, short_code, team_id, client_id, caller_kind, reason, risk_level,
    assigned_staff_id, status, opened_at, acknowledged_at, acknowledged_by, resolved_at,
    resolved_by, outcome, correlation_id"""
_PAGE = """notification_id, dispatch_id, step, attempt, channel, staff_id, requested_at,
    status, provider_sid, failure_reason, updated_at"""
_ARCHIVE = """event_id, type, schema_version, key, occurred_at, recorded_at, correlation_id,
    causation_id, actor, payload, topic, partition, "offset" AS offset"""


def _staff(row: Any) -> StaffMember:
    return StaffMember(
        staff_id=row["staff_id"],
        team_id=row["team_id"],
        display_name=row["display_name"],
        role=row["role"],
        gender=row["gender"],
        phone=row["phone"],
        languages=tuple(row["languages"]),
    )


def _dispatch(row: Any) -> Dispatch:
    return Dispatch(**dict(row))


def _archived(row: Any) -> ArchivedEvent:
    return ArchivedEvent(**{**dict(row), "payload": json.loads(row["payload"])})


class ReadModels:
    """Queries over the read models. Rows whose creating event has not been projected yet
    (e.g. a dispatch acknowledged before its DispatchOpened arrived) are not shown."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    # --- roster --------------------------------------------------------------------------
    async def team(self, team_id: str) -> Team | None:
        row = await self._pool.fetchrow(
            """SELECT team_id, name, service_model, time_zone, fallback_number,
                      crisis_line_number FROM teams WHERE team_id = $1""",
            team_id,
        )
        return Team(**dict(row)) if row else None

    async def team_for_line(self, number: str) -> str | None:
        """The team whose crisis line (TeamFormed.crisis_line_number) this number is."""
        team_id: str | None = await self._pool.fetchval(
            """SELECT team_id FROM teams WHERE crisis_line_number = $1
               ORDER BY updated_at DESC, team_id LIMIT 1""",
            number,
        )
        return team_id

    async def on_duty(self, team_id: str, at: datetime) -> OnDuty:
        """Each layer's cover at `at` (starts_at <= at < ends_at); the newest assignment wins."""
        rows = await self._pool.fetch(
            f"""SELECT DISTINCT ON (sh.layer) sh.layer, {_STAFF}
                FROM shifts sh JOIN staff s ON s.staff_id = sh.staff_id
                WHERE sh.team_id = $1 AND sh.starts_at <= $2 AND $2 < sh.ends_at
                ORDER BY sh.layer, sh.assigned_at DESC, sh.assigned_by_event DESC""",
            team_id,
            at,
        )
        layers = {row["layer"]: _staff(row) for row in rows}
        return OnDuty(primary=layers.get("primary"), backup=layers.get("backup"))

    async def staff(self, staff_id: str) -> StaffMember | None:
        row = await self._pool.fetchrow(f"SELECT {_STAFF} FROM staff s WHERE s.staff_id = $1", staff_id)
        return _staff(row) if row else None

    async def staff_by_phone(self, phone: str) -> StaffMember | None:
        row = await self._pool.fetchrow(f"SELECT {_STAFF} FROM staff s WHERE s.phone = $1", phone)
        return _staff(row) if row else None

    async def team_staff(self, team_id: str) -> list[StaffMember]:
        rows = await self._pool.fetch(
            f"""SELECT {_STAFF} FROM staff s WHERE s.team_id = $1
                ORDER BY s.display_name, s.staff_id""",
            team_id,
        )
        return [_staff(row) for row in rows]

    # --- callers -------------------------------------------------------------------------
    async def caller_by_phone(self, phone: str) -> Caller:
        """A client's own number first, then a carer's (mapped to the client), else unknown."""
        row = await self._pool.fetchrow(
            """SELECT kind, client_id, team_id, carer_id FROM (
                   SELECT 'client' AS kind, c.client_id, c.team_id, NULL::text AS carer_id,
                          0 AS precedence, c.updated_at
                   FROM clients c WHERE c.phone = $1
                   UNION ALL
                   SELECT 'carer', ca.client_id, cl.team_id, ca.carer_id, 1, ca.updated_at
                   FROM carers ca LEFT JOIN clients cl ON cl.client_id = ca.client_id
                   WHERE ca.phone = $1
               ) AS found
               ORDER BY precedence, updated_at DESC LIMIT 1""",
            phone,
        )
        if row is None:
            return Caller(kind="unknown", client_id=None, team_id=None)
        kind = "client" if row["kind"] == "client" else "carer"
        return Caller(
            kind=kind, client_id=row["client_id"], team_id=row["team_id"], carer_id=row["carer_id"]
        )

    # --- dispatches and pages ------------------------------------------------------------
    async def dispatch_by_code(self, short_code: str, *, team_id: str | None = None) -> Dispatch | None:
        """The dispatch with this code: an unresolved one first, then the most recent."""
        row = await self._pool.fetchrow(
            f"""SELECT {_DISPATCH} FROM dispatches
                WHERE short_code = $1 AND opened_at IS NOT NULL
                  AND ($2::text IS NULL OR team_id = $2)
                ORDER BY (status <> 'resolved') DESC, opened_at DESC, dispatch_id
                LIMIT 1""",
            short_code,
            team_id,
        )
        return _dispatch(row) if row else None

    async def dispatch(self, dispatch_id: uuid.UUID) -> Dispatch | None:
        row = await self._pool.fetchrow(
            f"""SELECT {_DISPATCH} FROM dispatches
                WHERE dispatch_id = $1 AND opened_at IS NOT NULL""",
            dispatch_id,
        )
        return _dispatch(row) if row else None

    async def open_dispatches(self, team_id: str) -> list[Dispatch]:
        """The team's open and acknowledged dispatches, oldest first."""
        rows = await self._pool.fetch(
            f"""SELECT {_DISPATCH} FROM dispatches
                WHERE team_id = $1 AND status <> 'resolved' AND opened_at IS NOT NULL
                ORDER BY opened_at, dispatch_id""",
            team_id,
        )
        return [_dispatch(row) for row in rows]

    async def pages(self, dispatch_id: uuid.UUID) -> list[Page]:
        rows = await self._pool.fetch(
            f"""SELECT {_PAGE} FROM pages
                WHERE dispatch_id = $1 AND requested_at IS NOT NULL
                ORDER BY requested_at, step, attempt, notification_id""",
            dispatch_id,
        )
        return [Page(**dict(row)) for row in rows]

    # --- archive -------------------------------------------------------------------------
    async def archive(
        self,
        correlation_id: uuid.UUID | None = None,
        key: str | None = None,
        *,
        limit: int = 10_000,
    ) -> list[ArchivedEvent]:
        """Archived events (filtered by correlation id and/or key) in event-time order."""
        rows = await self._pool.fetch(
            f"""SELECT {_ARCHIVE} FROM event_archive
                WHERE ($1::uuid IS NULL OR correlation_id = $1)
                  AND ($2::text IS NULL OR key = $2)
                ORDER BY occurred_at, recorded_at, event_id
                LIMIT $3""",
            correlation_id,
            key,
            limit,
        )
        return [_archived(row) for row in rows]
