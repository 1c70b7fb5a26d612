"""`dispatch replay`: every read model rebuilt from the event archive, then swapped in.

1. rebuild: a shadow schema (projections.replay_schema) is filled by the projection handlers
   of READ_MODELS from the archive as one REPEATABLE READ snapshot, in its original order per
   key (topic, partition, offset where the event came from Kafka, else occurred_at,
   recorded_at, event_id), many events per transaction on connections of its own (asyncpg
   prepares each handler statement once per connection). The id of every event applied is
   written to the shadow's ledger; the events archived meanwhile are applied after it.
2. swap: one transaction takes `LOCK TABLE event_archive IN SHARE MODE`, which waits for the
   projector's transaction in flight and holds its next one (every projector transaction
   archives its events before its read-model writes, in the same transaction), applies the
   few events the ledger still lacks, and moves the tables. The projector's offsets are not
   touched: they were committed with the archive rows, so the new tables hold exactly the
   events those offsets say were applied; nothing is applied twice or missed.
   `check` instead catches up and compares inside one REPEATABLE READ snapshot, pausing
   nobody (projections.replay_check).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

import asyncpg
import structlog

from dispatch.events import Envelope
from dispatch.events.codec import EventDecodeError, decode_obj
from projections.handlers import ReadModelRegistry
from projections.migrations import migrate
from projections.project import READ_MODELS
from projections.replay_check import TableDiff, compare_all
from projections.replay_schema import (
    LEDGER,
    analyze,
    create_shadow,
    drop_schema,
    quoted,
    swap_tables,
    use_shadow,
)

log = structlog.get_logger(__name__)

COLUMNS = """event_id, type, schema_version, key, occurred_at, recorded_at, correlation_id,
             causation_id, actor, payload"""
ORDER = 'topic, partition, "offset", occurred_at, recorded_at, event_id'
REPLAY_LOCK = 0x6469_7370_7265_706C  # "disprepl": one replay at a time
_REFUSED = (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError)
_LOCK_LOST = (asyncpg.LockNotAvailableError, asyncpg.DeadlockDetectedError)
Progress = Callable[[int, int], None]  # (events done, events known so far)


class ReplayError(RuntimeError):
    """The replay could not run (another one holds the lock, the swap never got its locks)."""


@dataclass
class Tally:
    total: int = 0
    applied: int = 0
    refused: int = 0  # a handler refused it (the live projector dead-lettered it too)
    not_understood: int = 0  # a type or version this code cannot decode
    caught_up: int = 0  # archived while the rebuild ran, applied after the snapshot
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> int:
        return self.applied + self.refused + self.not_understood

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Swapped:
    retired: str | None  # where the old tables are kept (None: dropped)
    paused_s: float  # how long the projector's next transaction was held


def envelope_of(row: asyncpg.Record) -> Envelope | None:
    """The archived row as a typed event, upcast; None for what this code cannot read."""
    try:
        return decode_obj({**dict(row), "payload": json.loads(row["payload"])})
    except EventDecodeError:
        return None


class Replay:
    """One replay of the archive at `url` into a shadow schema (see the module's doc)."""

    def __init__(
        self,
        url: str,
        *,
        batch: int = 1000,
        read_models: ReadModelRegistry = READ_MODELS,
        progress: Progress | None = None,
    ) -> None:
        self._url = url
        self._batch = batch
        self._read_models = read_models
        self._progress = progress or (lambda done, total: None)
        self.tally = Tally()
        self.shadow: str | None = None

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
            self.shadow = await create_shadow(writer)
            await use_shadow(writer, self.shadow)
            try:
                await self._rebuild(reader, writer)
                if check:
                    return await self._check(writer)
                return await self._swap(writer, keep_old, lock_timeout_s, attempts)
            finally:
                await drop_schema(writer, self.shadow)
        finally:
            await reader.close()
            await writer.close()

    # --- the rebuild ---------------------------------------------------------------------
    async def _rebuild(self, reader: asyncpg.Connection, writer: asyncpg.Connection) -> None:
        log.info("replay_started", shadow=self.shadow)
        async with reader.transaction(isolation="repeatable_read", readonly=True):
            self.tally.total = await reader.fetchval("SELECT count(*) FROM event_archive")
            self._progress(0, self.tally.total)
            query = f"SELECT {COLUMNS} FROM event_archive ORDER BY {ORDER}"  # noqa: S608
            async for rows in self._batches(reader, query):
                await self._apply(writer, rows)
        # what the projector archived while the snapshot was read, outside any lock
        await self._catch_up(writer)
        assert self.shadow is not None
        await analyze(writer, self.shadow)
        log.info(
            "replay_rebuilt",
            shadow=self.shadow,
            events=self.tally.done,
            refused=self.tally.refused,
            not_understood=self.tally.not_understood,
            seconds=round(self.tally.seconds, 2),
        )

    async def _batches(
        self, conn: asyncpg.Connection, query: str
    ) -> AsyncIterator[Sequence[asyncpg.Record]]:
        cursor = await conn.cursor(query)
        while rows := await cursor.fetch(self._batch):
            yield rows

    async def _catch_up(self, writer: asyncpg.Connection) -> int:
        """Apply every archived event the shadow's ledger lacks, in archive order."""
        assert self.shadow is not None
        missing = f"""SELECT {COLUMNS} FROM public.event_archive a
                      WHERE NOT EXISTS (SELECT 1 FROM {quoted(self.shadow)}.{LEDGER} r
                                        WHERE r.event_id = a.event_id)
                      ORDER BY {ORDER}"""  # noqa: S608 - names checked by quoted()
        found = 0
        async with writer.transaction():  # a savepoint when the caller holds a transaction
            async for rows in self._batches(writer, missing):
                found += len(rows)
                self.tally.total += len(rows)
                await self._apply(writer, rows)
        self.tally.caught_up += found
        return found

    async def _apply(self, writer: asyncpg.Connection, rows: Sequence[asyncpg.Record]) -> None:
        """One transaction (or savepoint) per batch; when a handler refuses an event, the
        batch is done again with a savepoint per event and the refused ones left out, as the
        projector does."""
        events = [envelope_of(r) for r in rows]
        readable = [e for e in events if e is not None]
        try:
            async with writer.transaction():
                for event in readable:
                    await self._handle(writer, event)
                await self._ledger(writer, rows)
            refused = 0
        except _REFUSED:
            refused = await self._apply_one_by_one(writer, readable, rows)
        self.tally.not_understood += len(events) - len(readable)
        self.tally.refused += refused
        self.tally.applied += len(readable) - refused
        self._progress(self.tally.done, self.tally.total)

    async def _apply_one_by_one(
        self, writer: asyncpg.Connection, events: Sequence[Envelope], rows: Sequence[asyncpg.Record]
    ) -> int:
        refused = 0
        async with writer.transaction():
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
            await self._ledger(writer, rows)
        return refused

    async def _handle(self, writer: asyncpg.Connection, event: Envelope) -> None:
        handler = self._read_models.handler(type(event.payload))
        if handler is not None:
            await handler(writer, event, event.payload)

    async def _ledger(self, writer: asyncpg.Connection, rows: Sequence[asyncpg.Record]) -> None:
        await writer.copy_records_to_table(
            LEDGER, records=[(r["event_id"],) for r in rows], schema_name=self.shadow
        )

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
                    caught = await self._catch_up(writer)
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
        )
        if not keep_old:
            await drop_schema(writer, retired)
        return Swapped(retired=retired if keep_old else None, paused_s=paused)
