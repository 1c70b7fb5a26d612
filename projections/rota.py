"""The rota projection: rota events -> rota_entries rows; rows -> the domain's TeamRota.

Handlers upsert one row per entry with newest-writer-wins, so redelivery and replay in
any order change nothing twice. load_team_rota rebuilds the slice of a team's rota that
matters for a window, and the pure dispatch.rota.oncall functions answer from it: the
read model and the domain cannot disagree about who is on call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar

import asyncpg

from dispatch.events import Envelope, EventPayload
from dispatch.rota.events import (
    CoverageSet,
    OverrideCancelled,
    OverrideScheduled,
    RotationDefined,
    RotationRetired,
    ShiftAssigned,
    ShiftsSwapped,
    StaffLeft,
    StaffRegistered,
    TeamFormed,
)
from dispatch.rota.state import Entry, TeamRota
from projections.handlers import handler_table, on
from projections.upsert import upsert_newer

P = TypeVar("P", bound=EventPayload)
KINDS: dict[str, type[EventPayload]] = {
    "coverage": CoverageSet,
    "rotation": RotationDefined,
    "override": OverrideScheduled,
    "swap": ShiftsSwapped,
}


async def _upsert(
    conn: asyncpg.Connection,
    e: Envelope,
    *,
    team_id: str,
    kind: str,
    entry_id: str,
    payload: EventPayload | None,
    layer: str | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> None:
    await upsert_newer(
        conn,
        "rota_entries",
        ["team_id", "kind", "entry_id"],
        {
            "team_id": team_id,
            "kind": kind,
            "entry_id": entry_id,
            "layer": layer,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "payload": payload.model_dump_json() if payload is not None else None,
        },
        e,
    )


async def _coverage_set(conn: asyncpg.Connection, e: Envelope, p: CoverageSet) -> None:
    await _upsert(conn, e, team_id=p.team_id, kind="coverage", entry_id="team", payload=p)


async def _rotation_defined(conn: asyncpg.Connection, e: Envelope, p: RotationDefined) -> None:
    await _upsert(
        conn, e, team_id=p.team_id, kind="rotation", entry_id=p.rotation_id, payload=p,
        layer=p.layer, starts_at=p.starts_at, ends_at=p.ends_at,
    )  # fmt: skip


async def _rotation_retired(conn: asyncpg.Connection, e: Envelope, p: RotationRetired) -> None:
    await _upsert(conn, e, team_id=p.team_id, kind="rotation", entry_id=p.rotation_id, payload=None)


async def _override(conn: asyncpg.Connection, e: Envelope, p: OverrideScheduled) -> None:
    await _upsert(
        conn, e, team_id=p.team_id, kind="override", entry_id=p.override_id, payload=p,
        layer=p.layer, starts_at=p.starts_at, ends_at=p.ends_at,
    )  # fmt: skip


async def _cancelled(conn: asyncpg.Connection, e: Envelope, p: OverrideCancelled) -> None:
    await _upsert(conn, e, team_id=p.team_id, kind="override", entry_id=p.override_id, payload=None)


async def _swapped(conn: asyncpg.Connection, e: Envelope, p: ShiftsSwapped) -> None:
    await _upsert(
        conn, e, team_id=p.team_id, kind="swap", entry_id=p.swap_id, payload=p,
        layer=p.layer, starts_at=p.starts_at, ends_at=p.ends_at,
    )  # fmt: skip


HANDLERS = handler_table(
    on(CoverageSet, _coverage_set),
    on(RotationDefined, _rotation_defined),
    on(RotationRetired, _rotation_retired),
    on(OverrideScheduled, _override),
    on(OverrideCancelled, _cancelled),
    on(ShiftsSwapped, _swapped),
)


# --- reading back --------------------------------------------------------------------------
def _stamp(row: Mapping[str, Any]) -> tuple[datetime, str]:
    return (row["updated_at"], str(row["updated_by_event"]))


def _entries(rows: list[Any], kind: str) -> Mapping[str, Entry[Any]]:
    cls = KINDS[kind]
    out: dict[str, Entry[Any]] = {}
    for row in rows:
        if row["kind"] == kind:
            raw = row["payload"]
            value = cls.model_validate(json.loads(raw)) if raw is not None else None
            out[row["entry_id"]] = Entry(_stamp(row), value)
    return MappingProxyType(out)


async def load_team_rota(
    conn: asyncpg.Connection | asyncpg.Pool, team_id: str, start: datetime, end: datetime
) -> TeamRota:
    """The team's rota as far as it matters for [start, end): the team, its coverage and
    staff, and the rotations, overrides, swaps and shifts overlapping the window."""
    team = await conn.fetchrow("SELECT * FROM teams WHERE team_id = $1", team_id)
    rows = await conn.fetch(
        """SELECT * FROM rota_entries
           WHERE team_id = $1 AND (kind = 'coverage' OR starts_at IS NULL
                 OR (starts_at < $3 AND (ends_at IS NULL OR ends_at > $2)))""",
        team_id,
        start,
        end,
    )
    shifts = await conn.fetch(
        """SELECT * FROM shifts WHERE team_id = $1 AND starts_at < $3 AND ends_at > $2""",
        team_id,
        start,
        end,
    )
    staff = await conn.fetch("SELECT * FROM staff WHERE team_id = $1", team_id)
    departures = await conn.fetch("SELECT * FROM staff_departures WHERE team_id = $1", team_id)
    coverage = _entries(rows, "coverage").get("team")
    return TeamRota(
        team_id=team_id,
        team=Entry(_stamp(team), _team(team)) if team else None,
        coverage=coverage,
        staff=MappingProxyType({s["staff_id"]: Entry(_stamp(s), _staff(s)) for s in staff}),
        rotations=_entries(rows, "rotation"),
        overrides=_entries(rows, "override"),
        swaps=_entries(rows, "swap"),
        shifts=MappingProxyType(
            {
                str(s["assigned_by_event"]): Entry(
                    (s["assigned_at"], str(s["assigned_by_event"])), _shift(s)
                )
                for s in shifts
            }
        ),
        leavers=MappingProxyType({d["staff_id"]: Entry(_stamp(d), _left(d)) for d in departures}),
    )


def _left(row: Any) -> StaffLeft | None:
    if row["left_at"] is None:
        return None  # rejoined
    return StaffLeft(
        staff_id=row["staff_id"], team_id=row["team_id"], left_at=row["left_at"],
        reason=row["reason"],
    )  # fmt: skip


def _team(row: Any) -> TeamFormed:
    return TeamFormed(
        team_id=row["team_id"],
        name=row["name"],
        service_model=row["service_model"],
        time_zone=row["time_zone"],
        fallback_number=row["fallback_number"],
        crisis_line_number=row["crisis_line_number"],
    )


def _staff(row: Any) -> StaffRegistered:
    return StaffRegistered(
        staff_id=row["staff_id"],
        team_id=row["team_id"],
        display_name=row["display_name"],
        role=row["role"],
        gender=row["gender"],
        phone=row["phone"],
        languages=tuple(row["languages"]),
    )


def _shift(row: Any) -> ShiftAssigned:
    return ShiftAssigned(
        team_id=row["team_id"],
        staff_id=row["staff_id"],
        layer=row["layer"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
    )
