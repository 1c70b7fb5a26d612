"""The ingress spool: events are stored in PostgreSQL first, then relayed to Kafka.

A webhook answers the caller as soon as its event is durably spooled; Kafka being slow or
down never delays the TwiML. The relay publishes in spool order and marks rows published
only after the broker acknowledged them, so nothing is lost and a retry can only repeat
an event (same event id), which every consumer deduplicates.

The relay half (docs/decisions/012): one relay at a time per database (a transaction-scoped
advisory lock, and the rows taken FOR UPDATE), so two web edges never publish rows out of
spool order; before each batch the target topics must exist on the broker with their
partitions (dispatch/ingress/broker_topics.py), else the rows stay unpublished. Beside the
relay runs the re-drive (dispatch/ingress/redrive.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from uuid import UUID

import asyncpg
import structlog

from dispatch.bus import EventPublisher
from dispatch.clock import Clock
from dispatch.events import Envelope
from dispatch.events.codec import encode
from dispatch.events.registry import topic_of
from dispatch.group_commit import GroupCommit
from dispatch.ingress.broker_topics import BrokerTopics, TopicsMissingError
from dispatch.ingress.redrive import Redrive

log = structlog.get_logger(__name__)
RELAY_LOCK = 0x6469_7370_7265_6C  # pg_advisory_xact_lock key of the relay: "disprel"
WARN_EVERY_S = 30.0  # one relay warning this often at most while the broker is away
BUSY_RETRY_S = 0.05  # another web edge held the relay: look again this soon


class IngressSpool:
    def __init__(
        self,
        pool: asyncpg.Pool,
        publisher: EventPublisher,
        clock: Clock,
        *,
        batch_size: int = 200,
        idle_poll_s: float = 1.0,
        topics: BrokerTopics | None = None,
        redrive: Redrive | None = None,
        write_timeout_s: float = 5.0,
    ) -> None:
        self._pool = pool
        self._publisher = publisher
        self._clock = clock
        self._batch = batch_size
        self._idle_poll_s = idle_poll_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._topics = topics
        self._redrive = redrive
        self._redrive_task: asyncio.Task[None] | None = None
        self._group: GroupCommit[Sequence[Envelope], bool] = GroupCommit(
            self._insert, timeout_s=write_timeout_s
        )

    async def record(self, events: Sequence[Envelope]) -> bool:
        """Spool events atomically, in their order; False when the first was already spooled
        (a retry). Records made while another is being written go together in the next
        statement, each returning once that statement committed (decision 057)."""
        if not events:
            return False
        return await self._group.submit(events)

    async def _insert(self, records: list[Sequence[Envelope]]) -> list[bool]:
        """One statement for several records, in their order; each record's first event
        is fresh when this statement stored it and no earlier record in it named it."""
        events: list[Envelope] = []
        owner: dict[UUID, int] = {}  # event id -> the first record naming it
        for n, record in enumerate(records):
            for event in record:
                if event.event_id not in owner:
                    owner[event.event_id] = n
                    events.append(event)
        stored = await self._pool.fetch(
            """INSERT INTO ingress_spool (event_id, topic, key, value, spooled_at)
               SELECT e.event_id, e.topic, e.key, e.value, $5
               FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[])
                    WITH ORDINALITY AS e (event_id, topic, key, value, n)
               ORDER BY e.n
               ON CONFLICT (event_id) DO NOTHING
               RETURNING event_id""",
            [event.event_id for event in events],
            [topic_of(event) for event in events],
            [event.key for event in events],
            [encode(event) for event in events],
            self._clock.now(),
        )
        self._wake.set()
        new = {row["event_id"] for row in stored}
        first_ids = [record[0].event_id for record in records]
        return [event_id in new and owner[event_id] == n for n, event_id in enumerate(first_ids)]

    async def warm(self, topics: Sequence[str]) -> None:
        """What the first relay after a start would open: the broker-topics connection (a
        first check) and the publisher's metadata of `topics`. Raises what the broker
        raises; the relay opens them itself when this could not."""
        if self._topics is not None:
            await self._topics.check(topics)
        await self._publisher.warm(topics)

    async def pending(self) -> int:
        count: int = await self._pool.fetchval(
            "SELECT count(*) FROM ingress_spool WHERE published_at IS NULL"
        )
        return count

    def start(self) -> None:
        self._task = asyncio.create_task(self._relay(), name="ingress-spool-relay")
        if self._redrive is not None:
            self._redrive_task = asyncio.create_task(
                self._redrive.run(self._wake), name="crisis-contact-redrive"
            )

    async def stop(self) -> None:
        for task in (self._task, self._redrive_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._redrive_task = None
        if self._topics is not None:
            await self._topics.close()

    async def relay_once(self) -> int:
        """Publish one batch of unpublished events in spool order; returns how many (0 also
        when another process is relaying). Raises TopicsMissingError, keeping the rows,
        when a target topic is not on the broker as expected."""
        sent, _ = await self._relay_batch()
        return sent

    async def _relay_batch(self, *, rows_expected: bool = False) -> tuple[int, bool]:
        """relay_once's batch, and whether the relay lock was another process's.

        The rows are published only if the broker's topic list holds their topics as
        expected (dispatch/ingress/broker_topics.py). When rows are expected (a record woke
        the relay, or the batch before was full), that list is asked for while the rows are
        read: one round trip less on each call's way to the broker."""
        topics = self._topics
        described = None
        if topics is not None and rows_expected:
            described = asyncio.ensure_future(topics.describe())
            described.add_done_callback(_settled)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                rows, busy = await self._waiting(conn)
                if not rows:
                    return 0, busy
                if topics is not None:
                    found = await (described if described is not None else topics.describe())
                    topics.verify(found, {r["topic"] for r in rows})
                try:  # as record() stored them: topic, key and the codec's bytes
                    await self._publisher.publish_encoded(
                        [(r["topic"], r["key"], bytes(r["value"])) for r in rows]
                    )
                except BaseException:
                    if topics is not None:
                        await topics.close()  # look at the broker afresh next time
                    raise
                await conn.execute(
                    "UPDATE ingress_spool SET published_at = $2 WHERE seq = ANY($1::bigint[])",
                    [r["seq"] for r in rows],
                    self._clock.now(),
                )
        finally:
            if described is not None:  # settled, not cancelled (that closes its connection)
                with contextlib.suppress(Exception):
                    await described
        log.info("spool_relayed", events=len(rows))
        return len(rows), False

    async def _waiting(self, conn: asyncpg.Connection) -> tuple[list[asyncpg.Record], bool]:
        """The batch's rows in spool order, locked; none, and True, when another web edge
        holds the relay.

        The rows are durable already (record() committed them); only the published mark is
        written in this transaction, and losing it in a crash only publishes them again
        (same event ids, deduplicated): its commit need not wait for the WAL flush
        (synchronous_commit off for this transaction). The setting, the lock and the rows
        come in one round trip: no rows when another web edge holds the relay (it publishes
        them) or when none is waiting."""
        rows = await conn.fetch(
            """WITH relay AS MATERIALIZED (
                 SELECT pg_try_advisory_xact_lock($1) AS held
                 FROM set_config('synchronous_commit', 'off', true)),
               waiting AS (
                 SELECT seq, topic, key, value FROM ingress_spool
                 WHERE (SELECT held FROM relay) AND published_at IS NULL
                 ORDER BY seq LIMIT $2 FOR UPDATE OF ingress_spool)
               SELECT relay.held, waiting.seq, waiting.topic, waiting.key, waiting.value
               FROM relay LEFT JOIN waiting ON true
               ORDER BY waiting.seq""",
            RELAY_LOCK,
            self._batch,
        )
        if not rows[0]["held"]:
            return [], True
        return [r for r in rows if r["seq"] is not None], False

    async def _relay(self) -> None:
        backoff = 0.2
        failures = 0
        warned_at = float("-inf")
        loop = asyncio.get_running_loop()
        sent = 0
        while True:
            expected = self._wake.is_set() or sent >= self._batch
            self._wake.clear()
            try:
                sent, busy = await self._relay_batch(rows_expected=expected)
            except Exception as exc:  # broker, topics or database away: keep the rows
                failures += 1
                if loop.time() - warned_at >= WARN_EVERY_S:
                    warned_at = loop.time()
                    event = (
                        "spool_topics_missing"
                        if isinstance(exc, TopicsMissingError)
                        else "spool_relay_failed"
                    )
                    log.warning(event, error=str(exc), failures=failures, retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if failures:
                log.info("spool_relay_recovered", failures=failures)
            backoff, failures, warned_at = 0.2, 0, float("-inf")
            if sent == 0:
                # When another web edge held the relay, its batch may have been read before
                # this edge's newest rows were committed, and it may find nothing more:
                # look again soon, not an idle poll later.
                with contextlib.suppress(TimeoutError):
                    wait_s = BUSY_RETRY_S if busy else self._idle_poll_s
                    await asyncio.wait_for(self._wake.wait(), wait_s)


def _settled(task: asyncio.Future[dict[str, int]]) -> None:
    """A topic list asked for ahead is never left with an unread failure (a relay stopped
    while it was on its way)."""
    if not task.cancelled():
        task.exception()
