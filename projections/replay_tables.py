"""The tables the replay folds in memory: their rows, and how a batch of them is written.

New rows go by COPY straight into the shadow's table; changed rows by COPY into a temporary
table and one UPDATE ... FROM it per table and batch (projections.replay_fold).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg

from projections.replay_schema import quoted


class Row(Protocol):
    """What a fold reads of an event's envelope: an archive row (asyncpg.Record) as the
    replay reads it, or an Envelope's fields (`Envelope.__dict__`), by column name."""

    def __getitem__(self, key: str, /) -> Any: ...


@dataclass
class Table:
    """One read model's rows: those written this batch, and (entities) every row so far."""

    name: str
    columns: tuple[str, ...]
    entity: bool  # rows change after they are written: kept in memory
    rows: dict[Any, list[Any]] = field(default_factory=dict)
    written: set[Any] = field(default_factory=set)  # keys already in the database
    new: dict[Any, list[Any]] = field(default_factory=dict)  # appended, not yet written
    changed: set[Any] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._index = {c: i for i, c in enumerate(self.columns)}

    def col(self, name: str) -> int:
        return self._index[name]

    def get(self, key: Any) -> list[Any] | None:
        return self.rows.get(key) if self.entity else self.new.get(key)

    def insert(self, key: Any, **values: Any) -> list[Any]:
        return self.add(key, [values.get(c) for c in self.columns])

    def add(self, key: Any, row: list[Any]) -> list[Any]:
        """A new row, its values in the order of `columns`."""
        if self.entity:
            self.rows[key] = row
        self.new[key] = row
        return row

    def touch(self, key: Any) -> None:
        if key in self.written:
            self.changed.add(key)

    def clear(self) -> None:
        self.rows, self.written, self.new, self.changed = {}, set(), {}, set()


# The columns of each table, in the order the folds keep them (the key first).
DISPATCH = ("dispatch_id", "short_code", "team_id", "client_id", "caller_kind", "reason",
            "risk_level", "assigned_staff_id", "status", "opened_at", "acknowledged_at",
            "acknowledged_by", "resolved_at", "resolved_by", "outcome", "correlation_id",
            "source_event_id", "escalation_sequence", "escalated_at", "exhausted")  # fmt: skip
PAGE = ("notification_id", "dispatch_id", "step", "attempt", "channel", "staff_id",
        "requested_at", "status", "provider_sid", "failure_reason", "updated_at")  # fmt: skip
FOLLOW_UP = ("follow_up_id", "client_id", "team_id", "dispatch_id", "reason", "opened_at",
             "due_at", "closed_at", "closed_by", "closed_by_event")  # fmt: skip
CLIENT_RISK = ("client_id", "team_id", "level", "score", "reasons", "changed_at",
               "changed_by_event")  # fmt: skip
RISK_CHANGE = ("event_id", "client_id", "team_id", "from_level", "to_level", "score", "reasons",
               "occurred_at")  # fmt: skip
SIGNAL = ("event_id", "client_id", "source", "sign", "severity", "actor", "occurred_at")
CONTACT = ("event_id", "client_id", "staff_id", "kind", "occurred_at", "staff_ids", "place",
           "minutes", "team_id")  # fmt: skip
REPLY = ("reply_event_id", "dispatch_id", "short_code", "channel", "verb", "staff_id",
         "accepted", "reason", "holder", "dispatch_status", "decided_at")  # fmt: skip


def tuples(rows: Iterable[list[Any]]) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in rows]


Written = tuple[Table, list[tuple[Any, ...]], list[tuple[Any, ...]]]  # table, new, changed


async def update(
    conn: asyncpg.Connection, schema: str, t: Table, rows: list[tuple[Any, ...]]
) -> None:
    temp = f"replay_changed_{t.name}"
    table = f"{quoted(schema)}.{quoted(t.name)}"
    await conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {temp} (LIKE {table}) ON COMMIT DELETE ROWS"
    )
    await conn.copy_records_to_table(temp, records=rows, columns=t.columns)
    key = t.columns[0]
    sets = ", ".join(f"{quoted(c)} = c.{quoted(c)}" for c in t.columns[1:])
    await conn.execute(
        f"UPDATE {table} AS t SET {sets} FROM {temp} c WHERE t.{quoted(key)} = c.{quoted(key)}"  # noqa: S608
    )
    await conn.execute(f"TRUNCATE {temp}")
