"""A key's own events read back in the order its partition gave them: from the event
archive, and (for the edge's own writes) from the ingress spool before they are archived."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import asyncpg

from dispatch.events import Envelope
from dispatch.events.codec import decode, decode_obj

ARCHIVED = """SELECT event_id, type, schema_version, key, occurred_at, recorded_at,
                     correlation_id, causation_id, actor, payload::text AS payload
              FROM event_archive WHERE key = ANY($1::text[]) AND type = ANY($2::text[])
              ORDER BY key, "partition" NULLS LAST, "offset" NULLS LAST, occurred_at,
                       recorded_at, event_id"""
SPOOLED = """SELECT s.value FROM ingress_spool s
             WHERE s.key = $1
               AND NOT EXISTS (SELECT 1 FROM event_archive a WHERE a.event_id = s.event_id)
             ORDER BY s.seq"""


async def archived(
    db: asyncpg.Pool | asyncpg.Connection, keys: Iterable[str], types: Sequence[str]
) -> dict[str, list[Envelope]]:
    """Each key's archived events of these types, in partition order."""
    rows = await db.fetch(ARCHIVED, sorted(set(keys)), list(types))
    out: dict[str, list[Envelope]] = {}
    for row in rows:
        data = dict(row)
        data["payload"] = json.loads(data["payload"])
        out.setdefault(row["key"], []).append(decode_obj(data))
    return out


async def own_events(pool: asyncpg.Pool, key: str, types: Sequence[str]) -> list[Envelope]:
    """A key's archived events of these types, then those spooled and not yet archived, read
    in one snapshot (an event the projector archives meanwhile is in one list or the other)."""
    async with (
        pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        events = (await archived(conn, [key], types)).get(key, [])
        pending = [decode(bytes(r["value"])) for r in await conn.fetch(SPOOLED, key)]
    wanted = set(types)
    return events + [e for e in pending if e.type in wanted]
