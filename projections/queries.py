"""ReadModels: the questions the web edge and the workers ask of the projected state."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any, TypeVar

import asyncpg

from dispatch.crisis.preferences import NO_PREFERENCE, ClientPreferences
from dispatch.rota.caseload import Caseload, caseload
from dispatch.rota.oncall import LAYERS, on_call
from dispatch.rota.state import TeamRota
from projections.models import (
    ArchivedEvent,
    Caller,
    CallerKind,
    Dispatch,
    OnDuty,
    Page,
    StaffMember,
    Team,
)
from projections.rota import load_team_rota

T = TypeVar("T")


def _make(cls: type[T], row: Any, **overrides: Any) -> T:
    """A model from a row: the dataclass's fields picked by name, extra columns ignored."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    return cls(**{f.name: overrides.get(f.name, row[f.name]) for f in fields})


def _staff(row: Any) -> StaffMember:
    return _make(StaffMember, row, languages=tuple(row["languages"]))


class ReadModels:
    """Queries over the read models. Rows whose creating event has not been projected yet
    (e.g. a dispatch acknowledged before its DispatchOpened arrived) are not shown."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    # --- roster --------------------------------------------------------------------------
    async def team(self, team_id: str) -> Team | None:
        row = await self._pool.fetchrow("SELECT * FROM teams WHERE team_id = $1", team_id)
        return _make(Team, row) if row else None

    async def team_for_line(self, number: str) -> str | None:
        """The team whose crisis line (TeamFormed.crisis_line_number) this number is."""
        team_id: str | None = await self._pool.fetchval(
            """SELECT team_id FROM teams WHERE crisis_line_number = $1
               ORDER BY updated_at DESC, team_id LIMIT 1""",
            number,
        )
        return team_id

    async def on_duty(self, team_id: str, at: datetime) -> OnDuty:
        """Each layer's cover at any instant `at`, past or future, from the rota projection.

        The answer is dispatch.rota.oncall's (explicit override/shift, newest first, else
        the rotation after swaps; outside covered hours nobody and the fallback). A layer
        whose answer is a staff member the read model does not know is None.
        """
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            rota = await load_team_rota(conn, team_id, at, at + timedelta(microseconds=1))
            answers = {layer: on_call(rota, layer, at) for layer in LAYERS}
            ids = [a.staff_id for a in answers.values() if a.staff_id]
            rows = await conn.fetch("SELECT * FROM staff WHERE staff_id = ANY($1)", ids)
        return on_duty_at(rota, at, {row["staff_id"]: _staff(row) for row in rows})

    async def team_rota(self, team_id: str, start: datetime, end: datetime) -> TeamRota:
        """The team's rota state as far as it matters for [start, end)."""
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            return await load_team_rota(conn, team_id, start, end)

    async def caseloads(self) -> list[Caseload]:
        """Clients per staff member for each team, flagged against its model's ratio."""
        rows = await self._pool.fetch(
            """SELECT t.team_id, t.service_model,
                      (SELECT count(*) FROM clients c
                        WHERE c.team_id = t.team_id AND c.status = 'enrolled') AS clients,
                      (SELECT count(*) FROM staff s WHERE s.team_id = t.team_id
                         AND (s.left_at IS NULL OR s.left_at > now())) AS staff
               FROM teams t ORDER BY t.team_id"""
        )
        return [
            caseload(r["team_id"], r["service_model"], clients=r["clients"], staff=r["staff"])
            for r in rows
        ]

    async def staff(self, staff_id: str) -> StaffMember | None:
        """A staff member, leavers included (left_at says when they leave)."""
        row = await self._pool.fetchrow("SELECT * FROM staff s WHERE s.staff_id = $1", staff_id)
        return _staff(row) if row else None

    async def staff_by_phone(self, phone: str) -> StaffMember | None:
        """Whose phone this is: someone still on a team first, else the latest leaver."""
        row = await self._pool.fetchrow(
            """SELECT * FROM staff s WHERE s.phone = $1
                ORDER BY s.left_at IS NOT NULL, s.left_at DESC, s.updated_at DESC LIMIT 1""",
            phone,
        )
        return _staff(row) if row else None

    async def team_staff(self, team_id: str, at: datetime | None = None) -> list[StaffMember]:
        """The team's staff still on it at `at` (default: now): leavers are never paged."""
        rows = await self._pool.fetch(
            """SELECT * FROM staff s WHERE s.team_id = $1 AND (s.left_at IS NULL OR s.left_at > $2)
                ORDER BY s.display_name, s.staff_id""",
            team_id,
            at or datetime.now(UTC),
        )
        return [_staff(row) for row in rows]

    # --- callers -------------------------------------------------------------------------
    async def caller_by_phone(self, phone: str) -> Caller:
        """A client's own number first, then a carer's (mapped to the client), else unknown."""
        row = await self._pool.fetchrow(
            """SELECT kind, client_id, team_id, carer_id FROM (
                   SELECT 'client' AS kind, c.client_id, c.team_id, NULL::text AS carer_id,
                          0 AS precedence, c.updated_at
                   FROM clients c WHERE c.phone = $1 OR $1 = ANY(c.other_phones)
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
        kind: CallerKind = "client" if row["kind"] == "client" else "carer"
        return Caller(
            kind=kind, client_id=row["client_id"], team_id=row["team_id"], carer_id=row["carer_id"]
        )

    async def client_preferences(self, client_id: str) -> ClientPreferences:
        """The worker gender and language a client asked for (none known: no preference)."""
        row = await self._pool.fetchrow(
            "SELECT preferred_gender, language FROM clients WHERE client_id = $1", client_id
        )
        if row is None:
            return NO_PREFERENCE
        return ClientPreferences(gender=row["preferred_gender"], language=row["language"])

    # --- dispatches and pages ------------------------------------------------------------
    async def dispatch_by_code(
        self, short_code: str, *, team_id: str | None = None
    ) -> Dispatch | None:
        """The dispatch with this code: an unresolved one first, then the most recent."""
        row = await self._pool.fetchrow(
            """SELECT * FROM dispatches
               WHERE short_code = $1 AND opened_at IS NOT NULL
                 AND ($2::text IS NULL OR team_id = $2)
               ORDER BY (status <> 'resolved') DESC, opened_at DESC, dispatch_id
               LIMIT 1""",
            short_code,
            team_id,
        )
        return _make(Dispatch, row) if row else None

    async def dispatch(self, dispatch_id: uuid.UUID) -> Dispatch | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM dispatches WHERE dispatch_id = $1 AND opened_at IS NOT NULL",
            dispatch_id,
        )
        return _make(Dispatch, row) if row else None

    async def open_dispatches(self, team_id: str) -> list[Dispatch]:
        """The team's open and acknowledged dispatches, oldest first."""
        rows = await self._pool.fetch(
            """SELECT * FROM dispatches
               WHERE team_id = $1 AND status <> 'resolved' AND opened_at IS NOT NULL
               ORDER BY opened_at, dispatch_id""",
            team_id,
        )
        return [_make(Dispatch, row) for row in rows]

    async def pages(self, dispatch_id: uuid.UUID) -> list[Page]:
        """A dispatch's pages in the order they were requested."""
        rows = await self._pool.fetch(
            """SELECT * FROM pages
               WHERE dispatch_id = $1 AND requested_at IS NOT NULL
               ORDER BY requested_at, step, attempt, notification_id""",
            dispatch_id,
        )
        return [_make(Page, row) for row in rows]

    # --- archive -------------------------------------------------------------------------
    async def archive(
        self,
        correlation_id: uuid.UUID | None = None,
        key: str | None = None,
        *,
        limit: int = 10_000,
    ) -> list[ArchivedEvent]:
        """Archived events (filtered by correlation id and/or key) in event-time order.

        Ordered by occurred_at, then recorded_at; events equal on both (one decision's
        events share its stamps) are put after their cause, else kept in event-id order.
        """
        rows = await self._pool.fetch(
            """SELECT * FROM event_archive
               WHERE ($1::uuid IS NULL OR correlation_id = $1)
                 AND ($2::text IS NULL OR key = $2)
               ORDER BY occurred_at, recorded_at, event_id
               LIMIT $3""",
            correlation_id,
            key,
            limit,
        )
        events = [_make(ArchivedEvent, row, payload=json.loads(row["payload"])) for row in rows]
        return [
            event
            for _, tied in groupby(events, key=lambda e: (e.occurred_at, e.recorded_at))
            for event in _causes_first(list(tied))
        ]


def on_duty_at(rota: TeamRota, at: datetime, people: Mapping[str, StaffMember]) -> OnDuty:
    """Who covers each layer of `rota` at `at` (pure): a staff id `people` lacks is None."""
    primary, backup = (on_call(rota, layer, at) for layer in LAYERS)
    return OnDuty(
        primary=people.get(primary.staff_id or ""),
        backup=people.get(backup.staff_id or ""),
        covered=primary.covered,
        fallback_team_id=primary.fallback_team_id,
        fallback_number=primary.fallback_number,
    )


def _causes_first(tied: list[ArchivedEvent]) -> list[ArchivedEvent]:
    """Order events that tie on time so that a cause precedes its effects (stable)."""
    ids = {e.event_id for e in tied}
    placed: set[uuid.UUID] = set()
    ordered: list[ArchivedEvent] = []
    pending = tied
    while pending:
        blocked = [e.causation_id in ids - placed - {e.event_id} for e in pending]
        ready = [e for e, b in zip(pending, blocked, strict=True) if not b]
        waiting = [e for e, b in zip(pending, blocked, strict=True) if b]
        if not ready:  # a causal cycle cannot come from real ids; keep what is left as is
            return ordered + waiting
        ordered += ready
        placed.update(e.event_id for e in ready)
        pending = waiting
    return ordered
