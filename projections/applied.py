"""Whether events have reached the read models: the projector archives an event in the
same transaction as its read-model rows, so an archived event is an applied one."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence

import asyncpg

POLL_S = 0.05


async def wait_applied(
    pool: asyncpg.Pool, event_ids: Sequence[uuid.UUID], timeout_s: float
) -> bool:
    """True once every event is in the read models; False if `timeout_s` passes first."""
    deadline = time.monotonic() + timeout_s
    while True:
        found: int = await pool.fetchval(
            "SELECT count(*) FROM event_archive WHERE event_id = ANY($1::uuid[])",
            list(event_ids),
        )
        if found >= len(set(event_ids)) or time.monotonic() >= deadline:
            return found >= len(set(event_ids))
        await asyncio.sleep(POLL_S)
