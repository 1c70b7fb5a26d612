"""Reading the archive for a replay: rows to events, and which rows a replay has seen.

`envelope_of` gives the same event as the codec (dispatch.events.codec.decode_obj) for an
archived row, faster: the envelope's columns are typed by PostgreSQL already (uuid,
timestamptz, text), so only the payload is validated (`payload_of`), from its JSON text by
the model's pydantic-core validator, upcast first when it was stored at an older schema
version, and the envelope is put together without validation (`envelope`;
tests/unit/test_replay_read.py compares the two). A replay reads the archive by `READ`,
which leaves out the columns it never reads, and folds rows with their payloads without an
envelope (docs/decisions/033).

`Seen` keeps which archived_seq values (migration 018) a replay has applied: everything
from `low` to `high` except its `holes`. A row archived by a transaction still in flight
when the replay's snapshot was taken is invisible to it; its sequence number is then above
`high`, below `low` or one of the holes (a rolled-back or duplicate insert leaves a hole for
good). So "what the replay lacks" is three index ranges of the archive, never a scan of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import asyncpg
from pydantic import ValidationError

from dispatch.events import Envelope, EventPayload
from dispatch.events.envelope import ENVELOPE_FIELDS, assembled
from dispatch.events.registry import payload_class
from projections.replay_tables import Row

COLUMNS = """archived_seq, event_id, type, schema_version, key, occurred_at, recorded_at,
             correlation_id, causation_id, actor, payload"""
# The archive in archive order as the replay reads it: the columns of COLUMNS, less what the
# replay never reads (so neither PostgreSQL nor asyncpg turn it into values): all but the
# type and version of the types named by the array $1 (no read model folds them), and the
# key and causation id of those named by $2 (folded in memory from the other columns).
READ = """SELECT archived_seq, type, schema_version,
                 CASE WHEN unread THEN NULL ELSE event_id END AS event_id,
                 CASE WHEN unread OR folded THEN NULL ELSE key END AS key,
                 CASE WHEN unread THEN NULL ELSE occurred_at END AS occurred_at,
                 CASE WHEN unread THEN NULL ELSE recorded_at END AS recorded_at,
                 CASE WHEN unread THEN NULL ELSE correlation_id END AS correlation_id,
                 CASE WHEN unread OR folded THEN NULL ELSE causation_id END AS causation_id,
                 CASE WHEN unread THEN NULL ELSE actor END AS actor,
                 CASE WHEN unread THEN NULL ELSE payload END AS payload
          FROM (SELECT *, type = ANY($1::text[]) AS unread, type = ANY($2::text[]) AS folded
                FROM event_archive ORDER BY archived_seq OFFSET 0) AS a
          ORDER BY archived_seq"""


def envelope_of(row: asyncpg.Record) -> Envelope | None:
    """The archived row as a typed event, upcast; None for what this code cannot read."""
    cls = payload_class(row["type"])
    if cls is None or row["schema_version"] > cls.schema_version:
        return None
    payload = payload_of(row, cls)
    return None if payload is None else envelope(row, cls, payload)


def payload_of(row: Row, cls: type[EventPayload]) -> EventPayload | None:
    """The row's payload validated as `cls` (of the row's type, at its version or newer),
    upcast first when older; None when it does not validate. The model's own validator is
    called straight (what `model_validate_json` does, less its wrapping)."""
    version = row["schema_version"]
    try:
        if version == cls.schema_version:
            payload: EventPayload = cls.__pydantic_validator__.validate_json(row["payload"])
            return payload
        return cls.model_validate(cls.upcast(version, json.loads(row["payload"])))
    except (ValidationError, ValueError):
        return None


def envelope(row: Row, cls: type[EventPayload], payload: EventPayload) -> Envelope:
    """The envelope of an archived row around its validated payload."""
    return assembled(Envelope, {
        "event_id": row["event_id"],
        "type": row["type"],
        "schema_version": cls.schema_version,
        "occurred_at": row["occurred_at"],
        "recorded_at": row["recorded_at"],
        "key": row["key"],
        "correlation_id": row["correlation_id"],
        "causation_id": row["causation_id"],
        "actor": row["actor"],
        "payload": payload,
    }, set(ENVELOPE_FIELDS))  # fmt: skip


@dataclass
class Seen:
    """The archived_seq values applied: low..high less the holes (see the module's doc)."""

    low: int = 0
    high: int = 0
    holes: set[int] = field(default_factory=set)
    below: set[int] = field(default_factory=set)  # applied ones under `low` (caught up)

    @classmethod
    async def start(cls, conn: asyncpg.Connection) -> Seen:
        """In the replay's snapshot: the lowest sequence number visible is `low`."""
        low = await conn.fetchval("SELECT min(archived_seq) FROM event_archive")
        return cls(low=low or 1, high=(low or 1) - 1)

    def mark(self, seq: int) -> None:
        high = self.high
        if seq > high:
            if seq != high + 1:
                self.holes.update(range(high + 1, seq))
            self.high = seq
        elif seq < self.low:
            self.below.add(seq)
        else:
            self.holes.discard(seq)

    def missing_query(self, columns: str = COLUMNS) -> tuple[str, list[object]]:
        """The archive's rows not applied yet, in archive order, as (sql, arguments).

        Three index ranges, one branch each (disjoint: the holes lie between low and high).
        As one WHERE with ORs, an archive without planner statistics (one just written)
        was read whole through the index and filtered: 631 ms at 1,000,000 rows, against
        under 5 ms this way with `CATCH_UP_SETTINGS` (psql's timing, PostgreSQL 15)."""
        sql = f"""SELECT * FROM (
                    SELECT {columns} FROM public.event_archive WHERE archived_seq > $1
                    UNION ALL
                    SELECT {columns} FROM public.event_archive
                    WHERE archived_seq = ANY($2::bigint[])
                    UNION ALL
                    SELECT {columns} FROM public.event_archive
                    WHERE archived_seq < $3 AND archived_seq <> ALL($4::bigint[])
                  ) AS missing
                  ORDER BY archived_seq"""  # noqa: S608 - a fixed column list
        return sql, [self.high, sorted(self.holes), self.low, sorted(self.below)]


# For the transaction that runs `missing_query`: without statistics the planner takes each
# range for a third of the archive and plans parallel workers and JIT compilation for it
# (450 ms on 300,000 rows, for no rows found).
CATCH_UP_SETTINGS = "SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0"
