"""`dispatch replay`: every read model rebuilt from the event archive, then swapped in.

1. rebuild: a shadow schema (projections.replay_schema) is filled from the archive read as
   one REPEATABLE READ snapshot in archive order (archived_seq, migration 018: the order the
   projector applied the events in), in batches on connections of its own: the reader
   decodes and folds while the writer writes, in one transaction, the window of everything
   read while it wrote the window before (docs/decisions/033). The busiest read models are
   folded in memory by the rules of their handlers and written by COPY, their secondary
   indexes built once they are filled (projections.replay_fold); the other events' handler
   statements are recorded and sent in waves with executemany (projections.statements).
   The archive rows applied are remembered by archived_seq (projections.replay_read.Seen);
   the events archived meanwhile are applied after the snapshot.
2. swap: one transaction takes `LOCK TABLE event_archive IN SHARE MODE`, which waits for the
   projector's transaction in flight and holds its next one (every projector transaction
   archives its events before its read-model writes, in the same transaction), applies the
   few events still missing (index ranges of archived_seq), and moves the tables. The
   projector's offsets are not touched: they were committed with the archive rows, so the
   new tables hold exactly the events those offsets say were applied; nothing is applied
   twice or missed. `check` instead catches up and compares inside one REPEATABLE READ
   snapshot, pausing nobody (projections.replay_check).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog

from dispatch import gc_pause
from dispatch.events import Envelope, EventPayload
from dispatch.events.registry import PAYLOADS
from projections.handlers import ReadModelRegistry
from projections.migrations import migrate
from projections.project import READ_MODELS
from projections.replay_check import TableDiff, compare_all
from projections.replay_fold import Folds, write
from projections.replay_read import CATCH_UP_SETTINGS, READ, Seen, envelope, payload_of
from projections.replay_schema import (
    LIVE,
    analyze,
    autovacuum,
    build_indexes,
    create_shadow,
    defer_indexes,
    drop_schema,
    swap_tables,
    use_shadow,
)
from projections.replay_tables import Row, Written
from projections.statements import Statement, record, run_waves

log = structlog.get_logger(__name__)

REPLAY_LOCK = 0x6469_7370_7265_706C  # "disprepl": one replay at a time
_REFUSED = (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError)
_LOCK_LOST = (asyncpg.LockNotAvailableError, asyncpg.DeadlockDetectedError)
Progress = Callable[[int, int], None]  # (events done, events known so far)
Kind = tuple[type[EventPayload], int, bool, Callable[[Row, Any], None] | None]
WINDOW = 200_000  # at most this many events read ahead of the write in flight
YIELD_EVERY = 32  # rows decoded between two turns of the event loop (the write goes on)


class ReplayError(RuntimeError):
    """The replay could not run (another one holds the lock, the swap never got its locks)."""


@dataclass
class Tally:
    total: int = 0
    applied: int = 0
    refused: int = 0  # a handler refused it (the live projector dead-lettered it too)
    not_understood: int = 0  # a type or version this code cannot decode
    caught_up: int = 0  # archived while the rebuild ran, applied after the snapshot
    duplicates: int = 0  # a second copy of an event id on the broker (--from-broker)
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> int:
        return self.applied + self.refused + self.not_understood + self.duplicates

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Batch:
    """One batch ready to be written: its handlers' statements and its folded rows."""

    rows: int
    readable: int
    handled: list[Envelope]  # events whose handlers' statements are recorded
    statements: list[Statement]
    folded: list[Written]
    duplicates: int = 0  # rows left out as second copies of an event id


@dataclass
class Window:
    """The events read since the last write began: written together, in one transaction."""

    rows: int = 0
    readable: int = 0
    handled: list[Envelope] = field(default_factory=list)


@dataclass(frozen=True)
class Swapped:
    retired: str | None  # where the old tables are kept (None: dropped)
    paused_s: float  # how long the projector's next transaction was held


class Replay:
    """One replay of the archive at `url` into a shadow schema (see the module's doc)."""

    def __init__(
        self,
        url: str,
        *,
        batch: int = 10_000,
        window: int = WINDOW,
        read_models: ReadModelRegistry = READ_MODELS,
        progress: Progress | None = None,
    ) -> None:
        self._url = url
        self._batch = batch
        self._window = max(window, batch)
        self._read_models = read_models
        self._progress = progress or (lambda done, total: None)
        self.tally = Tally()
        self.shadow: str | None = None
        self._seen = Seen()
        self._folds = Folds()
        self._kinds = self._kinds_of(self._folds)
        self._shadow_made: asyncio.Future[None] | None = None
        self._deferred: list[str] = []  # the shadow's indexes built once it is filled

    def _kinds_of(self, folds: Folds) -> dict[str, Kind]:
        """Per event type name: its payload class, version, archive-only?, fold (or None)."""
        archive_only = self._read_models.archive_only
        return {
            cls.event_type: (cls, cls.schema_version, cls in archive_only,
                             folds.by_type.get(cls.event_type))
            for cls in PAYLOADS
        }  # fmt: skip

    # --- connections of our own: their statement caches and search_path die with them ----
    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self._url, statement_cache_size=512)

    async def run(
        self, *, check: bool, keep_old: bool = False, lock_timeout_s: float = 5.0, attempts: int = 5
    ) -> list[TableDiff] | Swapped:
        """Rebuild, then compare (check) or swap in; the shadow never outlives the call."""
        writer, reader = await self._connect(), await self._connect()
        try:
            if not await writer.fetchval("SELECT pg_try_advisory_lock($1)", REPLAY_LOCK):
                raise ReplayError("another replay is running on this database")
            await migrate(writer)  # the live tables as the packaged migrations make them
            # the shadow is made on the writer while the reader starts reading (_shadow)
            made = self._shadow_made = asyncio.ensure_future(self._make_shadow(writer))
            # the cycle collector off while the rebuild allocates its millions of rows and
            # events (none in a cycle); on again once the folded rows are let go
            with gc_pause.paused():
                try:
                    await self._rebuild(reader, writer)
                    if check:
                        return await self._check(writer)
                    return await self._swap(writer, keep_old, lock_timeout_s, attempts)
                finally:
                    await asyncio.wait({made})  # never left running on the writer
                    if not made.cancelled():
                        made.exception()  # raised already where it was awaited, if it failed
                    if self.shadow is not None:
                        await drop_schema(writer, self.shadow)
                    self._folds.release()  # the folded rows are the database's now
                    self._folds = Folds()
                    self._kinds = self._kinds_of(self._folds)
        finally:
            await reader.close()
            await writer.close()

    async def _make_shadow(self, writer: asyncpg.Connection) -> None:
        self.shadow = await create_shadow(writer)
        await use_shadow(writer, self.shadow)
        folded = [t.name for t in self._folds.tables]  # written by COPY and UPDATE by key only
        self._deferred = await defer_indexes(writer, self.shadow, folded)

    async def _finish(self, reader: asyncpg.Connection, writer: asyncpg.Connection) -> None:
        """Once the rebuild's writes are done: the deferred indexes built, then planner
        statistics, on both connections (the reader's snapshot is over)."""
        shadow = await self._shadow()
        await build_indexes([writer, reader], self._deferred)
        self._deferred = []
        await analyze([writer, reader], shadow)

    async def _shadow(self) -> str:
        """The shadow's name, once it is made: every use of the writer waits for it."""
        if self._shadow_made is not None:
            await self._shadow_made
        assert self.shadow is not None
        return self.shadow

    # --- the rebuild ---------------------------------------------------------------------
    async def _rebuild(self, reader: asyncpg.Connection, writer: asyncpg.Connection) -> None:
        log.info("replay_started")
        async with reader.transaction(isolation="repeatable_read", readonly=True):
            self.tally.total = await reader.fetchval("SELECT count(*) FROM event_archive")
            self._seen = await Seen.start(reader)
            self._progress(0, self.tally.total)
            unread = sorted(cls.event_type for cls in self._read_models.archive_only)
            folded = sorted(self._folds.by_type)
            window = Window()
            writing: asyncio.Future[None] | None = None
            try:
                async for rows in self._batches(reader, READ, unread, folded):
                    await self._read_into(window, rows)  # while the window before is written
                    if writing is None or writing.done() or window.rows >= self._window:
                        if writing is not None:
                            await writing
                        batch, window = await self._take(window), Window()
                        writing = asyncio.ensure_future(self._write(writer, batch))
                if window.rows:
                    if writing is not None:
                        await writing
                    writing = asyncio.ensure_future(self._write(writer, await self._take(window)))
            finally:
                if writing is not None:
                    await writing
        # what the projector archived while the snapshot was read, outside any lock
        await self._catch_up(writer)
        await self._finish(reader, writer)
        log.info(
            "replay_rebuilt",
            shadow=self.shadow,
            events=self.tally.done,
            refused=self.tally.refused,
            not_understood=self.tally.not_understood,
            seconds=round(self.tally.seconds, 2),
        )

    async def _batches(
        self, conn: asyncpg.Connection, query: str, *args: object
    ) -> AsyncIterator[Sequence[asyncpg.Record]]:
        """The query's rows in batches; the next batch is fetched while one is applied."""
        cursor = await conn.cursor(query, *args)
        pending = asyncio.ensure_future(cursor.fetch(self._batch))
        try:
            while rows := await pending:
                pending = asyncio.ensure_future(cursor.fetch(self._batch))
                yield rows
        finally:
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending

    async def _catch_up(self, writer: asyncpg.Connection) -> int:
        """Apply every archived event not applied yet, in archive order: index ranges of
        archived_seq (projections.replay_read.Seen), whatever the archive's size."""
        await self._shadow()
        sql, args = self._seen.missing_query()
        found = 0
        async with writer.transaction():  # a savepoint when the caller holds a transaction
            await writer.execute(CATCH_UP_SETTINGS)
            for rows in _chunks(await writer.fetch(sql, *args), self._batch):
                found += len(rows)
                self.tally.total += len(rows)
                await self._apply(writer, rows)
        self.tally.caught_up += found
        return found

    async def _apply(self, writer: asyncpg.Connection, rows: Sequence[asyncpg.Record]) -> None:
        window = Window()
        await self._read_into(window, rows)
        await self._write(writer, await self._take(window))

    async def _read_into(self, window: Window, rows: Sequence[asyncpg.Record]) -> None:
        """Decode a batch into the window: fold the busiest read models' events in memory
        (projections.replay_fold) straight from the rows, keep the other events for their
        handlers; archive-only types are not decoded. No database work: the window before
        may be being written, and every YIELD_EVERY rows the event loop is let run so that
        its round trips go on meanwhile."""
        seen, kinds, handled = self._seen, self._kinds, window.handled
        readable = 0
        for i, row in enumerate(rows, start=1):
            if not i % YIELD_EVERY:
                await asyncio.sleep(0)
            seen.mark(row["archived_seq"])
            kind = kinds.get(row["type"])
            if kind is None or row["schema_version"] > kind[1]:
                continue  # a type or version this code cannot read
            cls, _, archive_only, fold = kind
            if archive_only:
                readable += 1  # no read model folds it: not decoded
                continue
            payload = payload_of(row, cls)
            if payload is None:
                continue
            readable += 1
            if fold is not None:
                fold(row, payload)
            else:
                handled.append(envelope(row, cls, payload))
        window.rows += len(rows)
        window.readable += readable

    async def _take(self, window: Window) -> Batch:
        """The window as one batch to write: its handlers' statements (recorded, in order:
        projections.statements) and the folded rows new or changed since the last take."""
        statements = await record(self._read_models, window.handled)
        return Batch(window.rows, window.readable, window.handled, statements, self._folds.take())

    async def _write(self, writer: asyncpg.Connection, batch: Batch) -> None:
        """One transaction (or savepoint) per batch: the handlers' statements in waves, then
        the folded rows by COPY. When a handler refuses an event, the handlers are run again
        with a savepoint per event and the refused ones left out, as the projector does."""
        shadow = await self._shadow()
        async with writer.transaction():
            try:
                async with writer.transaction():
                    await run_waves(writer, batch.statements)
                refused = 0
            except _REFUSED:
                refused = await self._apply_one_by_one(writer, batch.handled)
            await write(writer, shadow, batch.folded)
        self.tally.not_understood += batch.rows - batch.readable - batch.duplicates
        self.tally.duplicates += batch.duplicates
        self.tally.refused += refused
        self.tally.applied += batch.readable - refused
        self._progress(self.tally.done, self.tally.total)

    async def _apply_one_by_one(
        self, writer: asyncpg.Connection, events: Sequence[Envelope]
    ) -> int:
        refused = 0
        for event in events:
            try:
                async with writer.transaction():
                    await self._handle(writer, event)
            except _REFUSED as exc:
                refused += 1
                log.warning(
                    "replay_event_refused",
                    event_id=str(event.event_id),
                    event_type=event.type,
                    error=repr(exc),
                )
        return refused

    async def _handle(self, writer: asyncpg.Connection, event: Envelope) -> None:
        handler = self._read_models.handler(type(event.payload))
        if handler is not None:
            await handler(writer, event, event.payload)

    # --- the end: compare, or swap in ----------------------------------------------------
    async def _check(self, writer: asyncpg.Connection) -> list[TableDiff]:
        """Catch up and compare in one snapshot: the live tables and the archive agree in
        it (the projector commits both at once), and nobody waits."""
        assert self.shadow is not None
        async with writer.transaction(isolation="repeatable_read"):
            await self._catch_up(writer)
            return await compare_all(writer, self.shadow)

    async def _swap(
        self, writer: asyncpg.Connection, keep_old: bool, lock_timeout_s: float, attempts: int
    ) -> Swapped:
        assert self.shadow is not None
        for attempt in range(1, attempts + 1):
            try:
                async with writer.transaction():
                    await writer.execute(f"SET LOCAL lock_timeout = {int(lock_timeout_s * 1000)}")
                    held = time.monotonic()
                    await writer.execute("LOCK TABLE public.event_archive IN SHARE MODE")
                    locked = time.monotonic()
                    caught = await self._catch_up(writer)
                    caught_s = time.monotonic() - locked
                    retired = await swap_tables(writer, self.shadow)
                paused = time.monotonic() - held
                break
            except _LOCK_LOST as exc:
                log.warning("replay_swap_retried", attempt=attempt, error=repr(exc))
        else:
            raise ReplayError(f"could not take the tables' locks in {attempts} attempts")
        log.info(
            "replay_swapped",
            shadow=self.shadow,
            retired=retired,
            caught_up_locked=caught,
            paused_s=round(paused, 3),
            lock_wait_s=round(locked - held, 3),
            catch_up_s=round(caught_s, 3),
        )
        await autovacuum(writer, LIVE, enabled=True)
        if not keep_old:
            await drop_schema(writer, retired)
        return Swapped(retired=retired if keep_old else None, paused_s=paused)


def _chunks(rows: Sequence[asyncpg.Record], size: int) -> list[Sequence[asyncpg.Record]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]
