"""Everything the web edge asks of the read models to route a call or a text, copied into
memory in one consistent read: teams and their lines, staff, clients' and carers' phones,
clients' preferences, and each team's rota for the coming hours.

The snapshot answers the same questions as ReadModels, with the same answers, from memory:
the web edge falls back to it when PostgreSQL cannot be reached (docs/decisions/013).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from dispatch.crisis.preferences import NO_PREFERENCE, ClientPreferences
from dispatch.rota.state import TeamRota
from projections.models import Caller, OnDuty, StaffMember, Team
from projections.queries import _make, _staff, on_duty_at
from projections.rota import load_team_rota

# Every table load_edge_snapshot reads notifies this channel when it changes (migration 020).
EDGE_FACTS_CHANNEL = "edge_facts"


@dataclass(frozen=True)
class EdgeSnapshot:
    """The read models as they were at `taken_at`; rotas cover [taken_at, until)."""

    taken_at: datetime
    until: datetime
    teams: Mapping[str, Team]
    lines: Mapping[str, str]  # crisis line number -> team id
    staff: Mapping[str, StaffMember]
    staff_phones: Mapping[str, str]  # phone -> staff id
    callers: Mapping[str, Caller]  # phone -> who calls from it
    preferences: Mapping[str, ClientPreferences]  # client id -> preferences
    rotas: Mapping[str, TeamRota]

    async def team(self, team_id: str) -> Team | None:
        return self.teams.get(team_id)

    async def team_for_line(self, number: str) -> str | None:
        return self.lines.get(number)

    async def on_duty(self, team_id: str, at: datetime) -> OnDuty:
        return on_duty_at(self.rotas.get(team_id) or TeamRota(team_id), at, self.staff)

    async def staff_by_phone(self, phone: str) -> StaffMember | None:
        staff_id = self.staff_phones.get(phone)
        return self.staff.get(staff_id) if staff_id else None

    async def caller_by_phone(self, phone: str) -> Caller:
        return self.callers.get(phone) or Caller(kind="unknown", client_id=None, team_id=None)

    async def client_preferences(self, client_id: str) -> ClientPreferences:
        return self.preferences.get(client_id, NO_PREFERENCE)


async def load_edge_snapshot(pool: asyncpg.Pool, at: datetime, horizon: timedelta) -> EdgeSnapshot:
    """One repeatable read of everything the edge routes by, rotas for [at, at + horizon)."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        teams = await conn.fetch("SELECT * FROM teams ORDER BY updated_at, team_id DESC")
        staff = await conn.fetch("SELECT * FROM staff")
        clients = await conn.fetch(
            "SELECT client_id, team_id, phone, other_phones, preferred_gender, language "
            "FROM clients ORDER BY updated_at"
        )
        carers = await conn.fetch(
            """SELECT ca.client_id, ca.carer_id, ca.phone, cl.team_id
               FROM carers ca LEFT JOIN clients cl ON cl.client_id = ca.client_id
               ORDER BY ca.updated_at"""
        )
        rotas = {
            row["team_id"]: await load_team_rota(conn, row["team_id"], at, at + horizon)
            for row in teams
        }
    # Later rows overwrite earlier ones: the newest team owning a line wins, the newest
    # carer row for a phone wins, and a client's own number wins over any carer's.
    callers = {
        row["phone"]: Caller("carer", row["client_id"], row["team_id"], row["carer_id"])
        for row in carers
    }
    callers |= {
        phone: Caller("client", row["client_id"], row["team_id"])
        for row in clients
        for phone in (row["phone"], *(row["other_phones"] or ()))
        if phone
    }
    people = {row["staff_id"]: _staff(row) for row in staff}
    return EdgeSnapshot(
        taken_at=at,
        until=at + horizon,
        teams={row["team_id"]: _make(Team, row) for row in teams},
        lines={
            row["crisis_line_number"]: row["team_id"] for row in teams if row["crisis_line_number"]
        },
        staff=people,
        staff_phones={person.phone: person.staff_id for person in people.values()},
        callers=callers,
        preferences={
            row["client_id"]: ClientPreferences(
                gender=row["preferred_gender"], language=row["language"]
            )
            for row in clients
        },
        rotas=rotas,
    )
