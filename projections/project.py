"""project(conn, event): the SQL effects of one event on the archive and the read models.

Every effect is idempotent and order-tolerant, so a redelivered or replayed event changes
nothing twice: entity upserts apply only when the event is newer (occurred_at, event_id)
than the row's last writer (projections.upsert); statuses only move forward; times come
from the events. The caller owns the transaction (the projector adds its offset row to the
same one). READ_MODELS lists every read model's handlers by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import orjson

from dispatch.events import Envelope
from projections import clients, dispatches, escalation, paging, replies, risk, roster, rota, team
from projections.handlers import ReadModelRegistry

READ_MODELS = ReadModelRegistry.assemble(
    tables=(
        roster.HANDLERS,
        rota.HANDLERS,
        clients.HANDLERS,
        clients.CARER_HANDLERS,
        risk.HANDLERS,
        dispatches.HANDLERS,
        paging.HANDLERS,
        escalation.HANDLERS,
        replies.HANDLERS,
    ),
    archive_only=(
        dispatches.ARCHIVE_ONLY,
        paging.ARCHIVE_ONLY,
        escalation.ARCHIVE_ONLY,
        risk.ARCHIVE_ONLY,
        replies.ARCHIVE_ONLY,
        team.ARCHIVE_ONLY,
        roster.ARCHIVE_ONLY,
    ),
)


@dataclass(frozen=True)
class Position:
    """Where an event was read from; None when it did not come from Kafka."""

    topic: str
    partition: int
    offset: int


async def project(
    conn: asyncpg.Connection,
    event: Envelope,
    position: Position | None = None,
    *,
    read_models: ReadModelRegistry = READ_MODELS,
) -> None:
    """Archive the event (once) and apply its read-model effects (idempotently)."""
    await archive(conn, event, position)
    handler = read_models.handler(type(event.payload))
    if handler is not None:
        await handler(conn, event, event.payload)


ARCHIVE = """INSERT INTO event_archive (event_id, type, schema_version, key, occurred_at,
               recorded_at, correlation_id, causation_id, actor, payload, topic, partition,
               "offset")
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13)
           ON CONFLICT (event_id) DO NOTHING"""


def _archived(event: Envelope, position: Position | None) -> tuple[object, ...]:
    return (
        event.event_id,
        event.type,
        event.schema_version,
        event.key,
        event.occurred_at,
        event.recorded_at,
        event.correlation_id,
        event.causation_id,
        event.actor,
        event.payload.model_dump_json(),
        position.topic if position else None,
        position.partition if position else None,
        position.offset if position else None,
    )


# The same rows as ARCHIVE, many in one statement: one JSON array of rows, taken in their
# order (archived_seq is numbered in it); a second copy of one event_id, in the archive or
# earlier in the array, is ignored, so the first copy is kept, as ARCHIVE row by row keeps
# it. Each column is cast from the row's JSON as PostgreSQL casts a text parameter: the
# same values, with one parameter to encode instead of 13 per event.
ARCHIVE_MANY = """INSERT INTO event_archive (event_id, type, schema_version, key, occurred_at,
               recorded_at, correlation_id, causation_id, actor, payload, topic, partition,
               "offset")
           SELECT (r->>0)::uuid, r->>1, (r->>2)::integer, r->>3, (r->>4)::timestamptz,
                  (r->>5)::timestamptz, (r->>6)::uuid, (r->>7)::uuid, r->>8, r->9, r->>10,
                  (r->>11)::integer, (r->>12)::bigint
           FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(r, n)
           ORDER BY n
           ON CONFLICT (event_id) DO NOTHING"""


def _exact(at: datetime) -> datetime | str:
    """A time as orjson writes it (fast), or in full ISO 8601 when its offset has seconds,
    which orjson's form drops (a decoded event's offsets never do: ISO 8601 has none)."""
    offset = at.utcoffset()
    if offset is not None and not offset.seconds % 60 and not offset.microseconds:
        return at
    return at.isoformat()


def _archived_json(event: Envelope, position: Position | None) -> tuple[object, ...]:
    return (
        event.event_id,
        event.type,
        event.schema_version,
        event.key,
        _exact(event.occurred_at),
        _exact(event.recorded_at),
        event.correlation_id,
        event.causation_id,
        event.actor,
        orjson.Fragment(event.payload.model_dump_json()),  # the payload's JSON, as it is
        position.topic if position else None,
        position.partition if position else None,
        position.offset if position else None,
    )


async def archive_many(
    conn: asyncpg.Connection, events: Sequence[tuple[Envelope, Position | None]]
) -> None:
    """Append events to event_archive by one statement, in order (archived_seq): PostgreSQL
    runs one insert, not one per event as executemany would."""
    if events:
        rows = orjson.dumps([_archived_json(e, p) for e, p in events])
        await conn.execute(ARCHIVE_MANY, rows.decode())


async def archive(conn: asyncpg.Connection, event: Envelope, position: Position | None) -> None:
    """Append the event to event_archive; a second copy of the same event_id is ignored."""
    await conn.execute(ARCHIVE, *_archived(event, position))
