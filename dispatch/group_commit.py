"""Group commit: writes that arrive while one is in flight wait for it, then go together in
one statement (decision 057).

Each caller returns only once the statement holding its item has committed, with its own
result, or raises that statement's error: nothing is acknowledged that is not stored. A
write that finds none in flight goes at once, alone, so a quiet line waits for nothing;
under load the batch grows by itself. Items keep their arrival order within a batch, and
batches go one after another.

When PostgreSQL refuses a batch for what is in it (a data or integrity error), each item is
written on its own, so one bad item costs the others nothing. Any other error (the
database away, a timeout) reaches every caller of the batch at once: each decides what to
do, as it would have alone. A statement that has not finished within `timeout_s` fails its
batch with TimeoutError: a hung connection never holds up the writes behind it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import asyncpg

T = TypeVar("T")
R = TypeVar("R")
# SQLSTATE classes of a statement refused for its content: data exception, integrity.
_CONTENT_CLASSES = ("22", "23")


def refused_for_content(exc: BaseException) -> bool:
    sqlstate = getattr(exc, "sqlstate", None) or ""
    return isinstance(exc, asyncpg.PostgresError) and sqlstate[:2] in _CONTENT_CLASSES


class GroupCommit(Generic[T, R]):
    """`write(items)` stores the items in one statement and returns one result per item."""

    def __init__(
        self, write: Callable[[list[T]], Awaitable[Sequence[R]]], *, timeout_s: float = 5.0
    ) -> None:
        self._write = write
        self._timeout_s = timeout_s
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Return `item`'s result once it is committed; raise what its statement raised. A
        caller that gives up (cancelled) still has its item written."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        done.add_done_callback(_retrieved)  # a caller that left is not owed the error
        self._waiting.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_while_waiting())
        return await done

    async def _write_while_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                await self._write_batch(batch)
        except BaseException as exc:  # stopping: nobody is left waiting
            for _, done in self._waiting:
                _settle(done, exc)
            raise

    async def _write_batch(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                results = await self._write([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for {len(batch)} items")
        except Exception as exc:
            if len(batch) > 1 and refused_for_content(exc):
                for one in batch:
                    await self._write_batch([one])
                return
            for _, done in batch:
                _settle(done, exc)
            return
        except BaseException as exc:
            for _, done in batch:
                _settle(done, exc)
            raise
        for (_, done), result in zip(batch, results, strict=False):
            if not done.done():
                done.set_result(result)


def _settle(done: asyncio.Future[R], error: BaseException) -> None:
    if done.done():
        return
    if isinstance(error, asyncio.CancelledError):
        done.cancel()
    else:
        done.set_exception(error)


def _retrieved(done: asyncio.Future[R]) -> None:
    if not done.cancelled():
        done.exception()
