"""The "newer wins" upsert: a row keeps the values of the newest event that wrote it.

Newest is the larger (occurred_at, event_id) pair, stored in the row's two stamp columns,
so a redelivered event and a replay in any order leave the same row. Table and column
names come from the projection code only and are checked; values travel as parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache

import asyncpg

from dispatch.events import Envelope

STAMP = ("updated_at", "updated_by_event")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def _name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a table or column name: {name!r}")
    return f'"{name}"'


@cache
def newer_wins_sql(
    table: str, columns: tuple[str, ...], key_columns: tuple[str, ...], stamp: tuple[str, str]
) -> str:
    """The statement: insert the row, or overwrite it only when its stamp is older.

    Parameters are the columns' values in order, then the event's occurred_at and id."""
    if not key_columns or not set(key_columns) <= set(columns):
        raise ValueError(f"key columns {key_columns} must be some of {columns}")
    every = [*columns, *stamp]
    if len(set(every)) != len(every):
        raise ValueError(f"a column is named twice: {every}")
    names = [_name(c) for c in every]
    keys = ", ".join(_name(k) for k in key_columns)
    updated = ", ".join(
        f"{n} = EXCLUDED.{n}" for c, n in zip(every, names, strict=True) if c not in key_columns
    )
    params = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    at, by = (_name(s) for s in stamp)
    # Every name above passed _name(); values only ever travel as $n parameters.
    into = f"{_name(table)} AS cur ({', '.join(names)})"
    insert = f"INSERT INTO {into} VALUES ({params})"  # noqa: S608
    return (
        f"{insert} ON CONFLICT ({keys}) DO UPDATE SET {updated}"
        f" WHERE (cur.{at}, cur.{by}) < (EXCLUDED.{at}, EXCLUDED.{by})"
    )


async def upsert_newer(
    conn: asyncpg.Connection,
    table: str,
    key_columns: Sequence[str],
    values: Mapping[str, object],
    event: Envelope,
    *,
    stamp: tuple[str, str] = STAMP,
) -> None:
    """Write `values` (key columns included) to the row of `table` they name, unless the
    row was last written by a newer event; stamps the row with this event."""
    sql = newer_wins_sql(table, tuple(values), tuple(key_columns), stamp)
    await conn.execute(sql, *values.values(), event.occurred_at, event.event_id)
