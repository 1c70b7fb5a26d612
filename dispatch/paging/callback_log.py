"""Which provider SID is whose: the status callbacks' record, written together (decision 057).

Every SMS page brings two status callbacks (sent, then delivered or not: Twilio posts none
for a message's initial "queued") and every voice page more; each names its page (the URL's
n=) and the provider's SID. The in-doubt lookup (docs/decisions/012) needs that pair. One
statement per callback was a round trip to PostgreSQL per callback, on the web edge's loop,
at twice the rate of the calls or more; the callbacks that arrive together are now written
in one (dispatch/group_commit.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from dispatch.group_commit import GroupCommit

# The newest report of a SID wins; a statement never names a SID twice (PostgreSQL refuses
# an upsert that touches one row twice).
UPSERT = """
INSERT INTO page_callbacks (provider_sid, notification_id, provider_status, seen_at)
SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::timestamptz[])
ON CONFLICT (provider_sid) DO UPDATE
SET provider_status = EXCLUDED.provider_status, seen_at = EXCLUDED.seen_at"""


@dataclass(frozen=True)
class Callback:
    provider_sid: str
    notification_id: uuid.UUID
    provider_status: str
    seen_at: datetime


class CallbackLog:
    """Status callbacks into page_callbacks, group-committed."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._group: GroupCommit[Callback, None] = GroupCommit(self._write)

    async def record(self, callback: Callback) -> None:
        """Return once `callback` is committed; raise what its statement raised."""
        await self._group.submit(callback)

    async def _write(self, callbacks: list[Callback]) -> list[None]:
        newest = {c.provider_sid: c for c in callbacks}  # in arrival order: last wins
        rows = list(newest.values())
        await self._pool.execute(
            UPSERT,
            [r.provider_sid for r in rows],
            [r.notification_id for r in rows],
            [r.provider_status for r in rows],
            [r.seen_at for r in rows],
        )
        return [None] * len(callbacks)
