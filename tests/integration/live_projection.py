"""The projector's way of applying events, without a broker: for the replay and report tests.

Like projections.projector: batches in one transaction each, a savepoint per event, an event
the read models refuse kept in the archive only, the partition's next offset written in the
same transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import asyncpg

from dispatch.events import Envelope
from projections.project import READ_MODELS, Position, archive, archive_many, project
from projections.replay_schema import READ_MODEL_TABLES
from projections.statements import record, run_waves

REFUSED = (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError)


async def apply_batch(
    conn: asyncpg.Connection, batch: Sequence[tuple[Envelope, Position | None]]
) -> None:
    async with conn.transaction():
        for event, position in batch:
            try:
                async with conn.transaction():
                    await project(conn, event, position)
            except REFUSED:
                with contextlib.suppress(*REFUSED):
                    async with conn.transaction():
                        await archive(conn, event, position)
            if position is not None:
                await conn.execute(
                    """INSERT INTO projection_offsets AS o (projection, topic, partition,
                                                            next_offset)
                       VALUES ('read-models', $1, $2, $3)
                       ON CONFLICT (projection, topic, partition) DO UPDATE
                       SET next_offset = GREATEST(o.next_offset, EXCLUDED.next_offset)""",
                    position.topic,
                    position.partition,
                    position.offset + 1,
                )


async def apply_together(
    conn: asyncpg.Connection, batch: Sequence[tuple[Envelope, Position | None]]
) -> None:
    """As the projector does first: the batch archived by one statement, its handlers'
    statements in rounds (projections.statements); one by one when one is refused."""
    try:
        async with conn.transaction():
            await archive_many(conn, list(batch))
            await run_waves(conn, await record(READ_MODELS, [e for e, _ in batch]))
            await _offsets(conn, batch)
    except REFUSED:
        await apply_batch(conn, batch)


async def _offsets(
    conn: asyncpg.Connection, batch: Sequence[tuple[Envelope, Position | None]]
) -> None:
    for _, position in batch:
        if position is not None:
            await conn.execute(
                """INSERT INTO projection_offsets AS o (projection, topic, partition, next_offset)
                   VALUES ('read-models', $1, $2, $3)
                   ON CONFLICT (projection, topic, partition) DO UPDATE
                   SET next_offset = GREATEST(o.next_offset, EXCLUDED.next_offset)""",
                position.topic,
                position.partition,
                position.offset + 1,
            )


async def project_live(
    pool: asyncpg.Pool,
    deliveries: Sequence[tuple[Envelope, Position | None]],
    batch: int = 50,
    *,
    together: bool = False,
) -> None:
    """Project as the projector does: event by event with a savepoint each, or (together)
    each batch in a few round trips as its first try."""
    apply = apply_together if together else apply_batch
    async with pool.acquire() as conn:
        for start in range(0, len(deliveries), batch):
            await apply(conn, deliveries[start : start + batch])


async def forget_everything(pool: asyncpg.Pool) -> None:
    """Empty the archive, the offsets and every read model (between generated examples)."""
    tables = ", ".join((*READ_MODEL_TABLES, "event_archive", "projection_offsets", "dead_letters"))
    await pool.execute(f"TRUNCATE {tables}")
