"""`dispatch replay --check`: the rebuilt read models against the live ones, row for row.

Rows are compared as JSON (`to_jsonb(row)`), as multisets (EXCEPT ALL both ways), less the
columns that are wall-clock by design. There are none today: every handler stamps its rows
with the event's own times (occurred_at, recorded_at) and ids; the tables that do carry
wall-clock times (page_ledger, ingress_spool, worker_heartbeats, dead_letters,
schema_migrations) are not read models and are neither rebuilt nor compared. A column added
later that is wall-clock by design is listed in WALL_CLOCK_COLUMNS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import asyncpg

from dispatch.review.describe import PRIVATE
from projections.replay_schema import LIVE, READ_MODEL_TABLES, quoted

WALL_CLOCK_COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType({})
SHOWN = 20  # differing rows named per table


@dataclass(frozen=True)
class RowDifference:
    """One row that is not the same in both: by its primary key, the two versions."""

    key: Mapping[str, Any]
    live: Mapping[str, Any] | None
    rebuilt: Mapping[str, Any] | None

    def columns(self) -> list[str]:
        """The columns whose values differ (every column when the row is on one side)."""
        live, rebuilt = self.live or {}, self.rebuilt or {}
        names = dict.fromkeys([*live, *rebuilt])
        return [c for c in names if live.get(c) != rebuilt.get(c)]


@dataclass(frozen=True)
class TableDiff:
    table: str
    live_rows: int
    rebuilt_rows: int
    differing: int  # rows only in one of them (a changed row counts on both sides)
    rows: tuple[RowDifference, ...]  # the first SHOWN of them, paired by primary key

    @property
    def equal(self) -> bool:
        return self.differing == 0


async def primary_key(conn: asyncpg.Connection, table: str) -> list[str]:
    rows = await conn.fetch(
        """SELECT a.attname FROM pg_index i
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
           WHERE i.indrelid = to_regclass($1) AND i.indisprimary ORDER BY a.attnum""",
        f"{LIVE}.{table}",
    )
    return [r["attname"] for r in rows]


async def compare(conn: asyncpg.Connection, shadow: str, table: str) -> TableDiff:
    live, rebuilt = f"{quoted(LIVE)}.{quoted(table)}", f"{quoted(shadow)}.{quoted(table)}"
    skip = list(WALL_CLOCK_COLUMNS.get(table, ()))
    # Names are quoted() ones of ours; the excluded columns travel as a parameter.
    rows = await conn.fetch(
        f"""WITH l AS (SELECT to_jsonb(t) - $1::text[] AS r FROM {live} t),
                 b AS (SELECT to_jsonb(t) - $1::text[] AS r FROM {rebuilt} t),
                 diff AS ((SELECT 'live' AS side, r FROM (SELECT r FROM l EXCEPT ALL
                                                          SELECT r FROM b) x)
                          UNION ALL
                          (SELECT 'rebuilt', r FROM (SELECT r FROM b EXCEPT ALL
                                                     SELECT r FROM l) y))
            SELECT side, r::text AS row, count(*) OVER () AS n FROM diff
            ORDER BY r::text, side LIMIT $2""",  # noqa: S608
        skip,
        2 * SHOWN,
    )
    counts = await conn.fetchrow(
        f"SELECT (SELECT count(*) FROM {live}) AS l, (SELECT count(*) FROM {rebuilt}) AS b"  # noqa: S608
    )
    keys = await primary_key(conn, table)
    paired: dict[str, dict[str, Any]] = {}
    for r in rows:
        values = json.loads(r["row"])
        key = {k: values.get(k) for k in keys}
        paired.setdefault(json.dumps(key, sort_keys=True), {"key": key})[r["side"]] = values
    found = tuple(
        RowDifference(key=p["key"], live=p.get("live"), rebuilt=p.get("rebuilt"))
        for p in list(paired.values())[:SHOWN]
    )
    return TableDiff(
        table=table,
        live_rows=counts["l"],
        rebuilt_rows=counts["b"],
        differing=rows[0]["n"] if rows else 0,
        rows=found,
    )


async def compare_all(conn: asyncpg.Connection, shadow: str) -> list[TableDiff]:
    return [await compare(conn, shadow, table) for table in READ_MODEL_TABLES]


def _value(column: str, value: Any) -> str:
    """A value as shown; phone numbers, bodies and links only as 'hidden'."""
    if any(word in column for word in PRIVATE):
        return "(hidden)"
    return json.dumps(value)


def describe(diff: TableDiff) -> list[str]:
    """Lines naming each differing row by its key and what differs."""
    lines = [
        f"{diff.table}: {diff.differing} row(s) differ (live {diff.live_rows} rows, "
        f"rebuilt {diff.rebuilt_rows})"
    ]
    for row in diff.rows:
        key = ", ".join(f"{k}={v}" for k, v in row.key.items())
        if row.live is None or row.rebuilt is None:
            lines.append(
                f"  {key}: only in the {'live' if row.rebuilt is None else 'rebuilt'} table"
            )
            continue
        changes = "; ".join(
            f"{c} live {_value(c, row.live.get(c))} rebuilt {_value(c, row.rebuilt.get(c))}"
            for c in row.columns()
        )
        lines.append(f"  {key}: {changes}")
    shown = sum((r.live is not None) + (r.rebuilt is not None) for r in diff.rows)
    if diff.differing > shown:
        lines.append(f"  ... {diff.differing - shown} more")
    return lines
