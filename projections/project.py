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

import asyncpg

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


# The same rows as ARCHIVE, many in one statement: each column as an array, the rows taken
# in their order (archived_seq is numbered in it); a second copy of one event_id, in the
# archive or earlier in the arrays, is ignored, so the first copy is kept, as ARCHIVE row
# by row keeps it.
ARCHIVE_MANY = """INSERT INTO event_archive (event_id, type, schema_version, key, occurred_at,
               recorded_at, correlation_id, causation_id, actor, payload, topic, partition,
               "offset")
           SELECT e, t, v, k, o, r, c, ca, a, p::jsonb, tp, pa, off
           FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::timestamptz[],
                       $6::timestamptz[], $7::uuid[], $8::uuid[], $9::text[], $10::text[],
                       $11::text[], $12::int[], $13::bigint[])
                WITH ORDINALITY AS x(e, t, v, k, o, r, c, ca, a, p, tp, pa, off, n)
           ORDER BY n
           ON CONFLICT (event_id) DO NOTHING"""


async def archive_many(
    conn: asyncpg.Connection, events: Sequence[tuple[Envelope, Position | None]]
) -> None:
    """Append events to event_archive by one statement, in order (archived_seq). Their
    columns go as arrays: PostgreSQL runs one insert, not one per event as executemany."""
    if events:
        await conn.execute(ARCHIVE_MANY, *zip(*(_archived(e, p) for e, p in events), strict=True))


async def archive(conn: asyncpg.Connection, event: Envelope, position: Position | None) -> None:
    """Append the event to event_archive; a second copy of the same event_id is ignored."""
    await conn.execute(ARCHIVE, *_archived(event, position))
