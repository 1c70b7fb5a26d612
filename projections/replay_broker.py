"""`dispatch replay --from-broker`: the read models rebuilt from the event topics' logs.

The same shadow schema, batch apply path, swap and check as the archive replay
(projections.replay), fed by projections.broker_log instead of the archive: every event
topic from offset 0 to the end offsets found at the start, partitions merged by recorded_at
and each in log order, one copy per event_id (the first, as the archive keeps the first).

Then, so that the swap and the check keep their meaning (the live tables hold exactly the
archived events): it waits until the projector has archived every event it read from the
broker, marks their archived_seq values as applied (projections.replay_read.Seen), and the
usual catch-up applies what the archive holds beyond them: events published after the end
offsets were taken, and events the broker does not hold (an embedded broker restarted
without `dispatch restore`). A broker whose retention deleted the start of a log is refused
(projections.broker_log): those events are the archive replay's job.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence

import asyncpg
import structlog

from dispatch.topics import event_topics
from projections.broker_log import BrokerLog, BrokerLogError, Record
from projections.handlers import ReadModelRegistry
from projections.project import READ_MODELS
from projections.replay import Batch, Progress, Replay, ReplayError
from projections.replay_read import Seen
from projections.statements import record

log = structlog.get_logger(__name__)


class BrokerReplay(Replay):
    """A Replay whose events come from the broker at `bootstrap` (see the module's doc)."""

    def __init__(
        self,
        url: str,
        bootstrap: str,
        *,
        topics: Sequence[str] | None = None,
        archived_wait_s: float = 30.0,
        batch: int = 10_000,
        read_models: ReadModelRegistry = READ_MODELS,
        progress: Progress | None = None,
    ) -> None:
        super().__init__(url, batch=batch, read_models=read_models, progress=progress)
        self._bootstrap = bootstrap
        self._topics = list(topics) if topics is not None else event_topics()
        self._archived_wait_s = archived_wait_s
        self._ids: set[uuid.UUID] = set()

    async def _rebuild(self, reader: asyncpg.Connection, writer: asyncpg.Connection) -> None:
        log.info("replay_started", source="broker")
        try:
            async with BrokerLog(self._bootstrap, self._topics) as source:
                self.tally.total = source.total
                self._progress(0, self.tally.total)
                writing: asyncio.Future[None] | None = None
                try:
                    async for records in source.batches(self._batch):
                        batch = await self._prepare_records(records)
                        if writing is not None:
                            await writing
                        writing = asyncio.ensure_future(self._write(writer, batch))
                finally:
                    if writing is not None:
                        await writing
        except BrokerLogError as exc:
            raise ReplayError(str(exc)) from None
        self._seen = await self._archived(reader)
        await self._catch_up(writer)  # what the archive holds beyond the broker's events
        await self._finish(reader, writer)
        log.info(
            "replay_rebuilt",
            shadow=self.shadow,
            source="broker",
            events=self.tally.done,
            duplicates=self.tally.duplicates,
            caught_up=self.tally.caught_up,
            seconds=round(self.tally.seconds, 2),
        )

    async def _prepare_records(self, records: Sequence[Record]) -> Batch:
        """The batch apply path of the archive replay, for decoded broker records."""
        folds, owned, archive_only = self._folds, self._folds.owns, self._read_models.archive_only
        readable = duplicates = 0
        handled = []
        for rec in records:
            event = rec.event
            if event is None:
                continue
            if event.event_id in self._ids:
                duplicates += 1
                continue
            self._ids.add(event.event_id)
            readable += 1
            kind = type(event.payload)
            if kind in archive_only:
                continue
            if owned(kind):
                folds.apply(event)
            else:
                handled.append(event)
        statements = await record(self._read_models, handled)
        return Batch(len(records), readable, handled, statements, folds.take(), duplicates)

    async def _archived(self, conn: asyncpg.Connection) -> Seen:
        """Wait until the projector has archived every event read from the broker; the
        archive's sequence numbers of those events, as applied."""
        ids = list(self._ids)
        deadline = time.monotonic() + self._archived_wait_s
        while True:
            seqs: list[int] = [
                r["archived_seq"]
                for r in await conn.fetch(
                    "SELECT archived_seq FROM event_archive WHERE event_id = ANY($1::uuid[])", ids
                )
            ]
            if len(seqs) == len(ids):
                break
            if time.monotonic() > deadline:
                raise ReplayError(
                    f"the projector has archived {len(seqs):,} of the {len(ids):,} events read "
                    f"from the broker after {self._archived_wait_s:.0f} s: is it running? "
                    "Try again once it has caught up"
                )
            await asyncio.sleep(0.2)
        seen = await Seen.start(conn)
        for seq in sorted(seqs):
            seen.mark(seq)
        return seen
