"""Which provider SID is whose: the status callbacks' record, written together (decision 057).

Every SMS page brings three status callbacks (queued, sent, delivered) and every voice page
more; each names its page (the URL's n=) and the provider's SID. The in-doubt lookup
(docs/decisions/012) needs that pair. One statement per callback was a round trip to
PostgreSQL per callback, on the web edge's loop, at three times the rate of the calls.

So callbacks that arrive while a write is in flight wait for it, and are then written in
one statement. Every caller still returns only once its own row is committed (or with the
statement's error): nothing is acknowledged that is not stored. On a quiet line a callback
finds no write in flight and is written at once, alone.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

# The newest report of a SID wins; a batch never names a SID twice (PostgreSQL refuses an
# upsert that touches one row twice in a statement).
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
    """Group-committed writes of status callbacks into page_callbacks."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._waiting: list[tuple[Callback, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, callback: Callback) -> None:
        """Return once `callback` is committed; raise what the write raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.add_done_callback(_retrieved)  # a caller that left is not owed the error
        self._waiting.append((callback, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_while_waiting())
        # A caller that gives up (its request cancelled) still has its report written.
        await done

    async def _write_while_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                by_sid: dict[str, tuple[Callback, list[asyncio.Future[None]]]] = {}
                for callback, done in batch:  # in arrival order: the newest report wins
                    waiting = by_sid.get(callback.provider_sid, (callback, []))[1]
                    by_sid[callback.provider_sid] = (callback, [*waiting, done])
                await self._write_batch(list(by_sid.values()))
        except BaseException as exc:  # stopping: nobody is left waiting
            for _, done in self._waiting:
                _settle([done], exc)
            raise

    async def _write_batch(self, rows: list[tuple[Callback, list[asyncio.Future[None]]]]) -> None:
        try:
            await self._write([callback for callback, _ in rows])
        except Exception as exc:
            if len(rows) == 1:
                _settle(rows[0][1], exc)
                return
            # One bad report must not cost the others their record: each on its own.
            for row in rows:
                await self._write_batch([row])
            return
        except BaseException as exc:
            for _, waiting in rows:
                _settle(waiting, exc)
            raise
        for _, waiting in rows:
            _settle(waiting, None)

    async def _write(self, rows: list[Callback]) -> None:
        await self._pool.execute(
            UPSERT,
            [r.provider_sid for r in rows],
            [r.notification_id for r in rows],
            [r.provider_status for r in rows],
            [r.seen_at for r in rows],
        )


def _settle(waiting: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for done in waiting:
        if done.done():
            continue
        if error is None:
            done.set_result(None)
        elif isinstance(error, asyncio.CancelledError):
            done.cancel()
        else:
            done.set_exception(error)


def _retrieved(done: asyncio.Future[None]) -> None:
    if not done.cancelled():
        done.exception()
