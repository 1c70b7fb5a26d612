"""The spool relay publishes only into topics that exist, once per row across web edges,
and crisis contacts with no dispatch are published again (re-drive)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from dispatch.bus import EventPublisher
from dispatch.clock import SystemClock
from dispatch.crisis.decide import Responder, open_dispatch
from dispatch.events import Envelope
from dispatch.ingress.broker_topics import BrokerTopics, TopicsMissingError
from dispatch.ingress.redrive import Redrive, unpaged_contacts
from dispatch.ingress.spool import RELAY_LOCK, IngressSpool
from dispatch.settings import Settings
from dispatch.topics import CLIENT_EVENTS
from projections.pool import connect
from projections.project import archive, project
from tests.integration.spool_support import call, published_sids

PARTITIONS = Settings().topic_partitions  # what the session's broker created


async def test_rows_stay_unpublished_while_their_topic_is_not_as_expected(
    pg_pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    """A topic with other partitions than expected (as one a broker auto-created would be)
    keeps the rows in the spool; with the topics right they are published."""
    prefix = f"CA-topics-{uuid.uuid4().hex[:6]}-"
    publisher = EventPublisher(kafka_bootstrap)
    wrong = IngressSpool(
        pg_pool,
        publisher,
        SystemClock(),
        topics=BrokerTopics(kafka_bootstrap, partitions=PARTITIONS + 3),
    )
    right = IngressSpool(
        pg_pool,
        publisher,
        SystemClock(),
        topics=BrokerTopics(kafka_bootstrap, partitions=PARTITIONS),
    )
    try:
        await wrong.record([call(prefix + "0")])
        with pytest.raises(TopicsMissingError, match="expected"):
            await wrong.relay_once()
        assert await wrong.pending() == 1
        assert await right.relay_once() == 1
    finally:
        await wrong.stop()
        await right.stop()
        await publisher.stop()
    assert await published_sids(kafka_bootstrap, prefix, 1) == [prefix + "0"]


async def test_checking_a_missing_topic_does_not_create_it(kafka_bootstrap: str) -> None:
    """The check names the missing topic and leaves the broker as it was."""
    topics = BrokerTopics(kafka_bootstrap, partitions=None)
    missing = f"act.never-{uuid.uuid4().hex[:6]}"
    try:
        with pytest.raises(TopicsMissingError) as caught:
            await topics.check([CLIENT_EVENTS, missing])
    finally:
        await topics.close()
    assert caught.value.problems == {missing: "missing"}
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        assert missing not in await admin.list_topics()
    finally:
        await admin.close()


async def test_two_web_edges_relay_each_row_once_in_spool_order(
    pg_pool: asyncpg.Pool, pg_url: str, kafka_bootstrap: str
) -> None:
    """Two relays on one database at once: every row is published once, in spool order."""
    prefix = f"CA-edges-{uuid.uuid4().hex[:6]}-"
    sids = [f"{prefix}{i:03d}" for i in range(60)]
    other_pool = await connect(pg_url)
    publishers = [EventPublisher(kafka_bootstrap), EventPublisher(kafka_bootstrap)]
    edges = [
        IngressSpool(pool, pub, SystemClock(), batch_size=7)
        for pool, pub in zip((pg_pool, other_pool), publishers, strict=True)
    ]
    try:
        for sid in sids:
            await edges[0].record([call(sid)])

        async def drain(edge: IngressSpool) -> None:
            while await edge.pending():
                await edge.relay_once()

        await asyncio.gather(*(drain(edge) for edge in edges))
    finally:
        for pub in publishers:
            await pub.stop()
        await other_pool.close()
    assert await published_sids(kafka_bootstrap, prefix, len(sids)) == sids


async def test_a_crisis_contact_with_no_dispatch_is_published_again(
    pg_pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    """A published crisis call whose dispatch never appeared goes out again after the wait;
    one whose dispatch is in the read model is left alone, and so is one the archive holds
    (it is in the log, waiting behind others)."""
    prefix = f"CA-redrive-{uuid.uuid4().hex[:6]}-"
    lost, paged, behind = call(prefix + "lost"), call(prefix + "paged"), call(prefix + "behind")
    publisher = EventPublisher(kafka_bootstrap)
    spool = IngressSpool(pg_pool, publisher, SystemClock())
    try:
        for contact in (lost, paged, behind):
            await spool.record([contact])
        assert await spool.relay_once() == 3
    finally:
        await publisher.stop()
    opened: Envelope = open_dispatch(
        paged, responder=Responder("s-1", "+15550100001"), now=paged.occurred_at
    )[0]
    async with pg_pool.acquire() as conn:
        await project(conn, opened)
        await archive(conn, behind, None)
    clock = SystemClock()
    [unpaged] = await unpaged_contacts(pg_pool, timedelta(0), now=clock.now())
    assert unpaged.event_id == lost.event_id and unpaged.event_type == "CrisisCallReceived"

    redrive = Redrive(pg_pool, clock, after=timedelta(seconds=30))
    assert [c.event_id for c in await redrive.redrive_once()] == []  # not 30 s old yet
    eager = Redrive(pg_pool, clock, after=timedelta(0))
    assert [c.event_id for c in await eager.redrive_once()] == [lost.event_id]
    assert await spool.pending() == 1 and eager.redriven == 1


class _Refusing(IngressSpool):
    """An edge that says when its running relay kept a batch back for its topics."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.kept_back = asyncio.Event()
        self.looked_ahead: list[bool] = []

    async def _relay_batch(self, *, rows_expected: bool = False) -> tuple[int, bool]:
        self.looked_ahead.append(rows_expected)
        try:
            return await super()._relay_batch(rows_expected=rows_expected)
        except TopicsMissingError:
            self.kept_back.set()
            raise


async def test_a_woken_relay_asks_for_the_topics_alongside_and_still_keeps_the_rows(
    pg_pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    """The running relay, woken by a record, asks for the broker's topics while it reads
    the rows; a topic not as expected still keeps them in the spool, unpublished."""
    sid = f"CA-ahead-{uuid.uuid4().hex[:6]}-0"
    publisher = EventPublisher(kafka_bootstrap)
    wrong = _Refusing(
        pg_pool,
        publisher,
        SystemClock(),
        idle_poll_s=3600,
        topics=BrokerTopics(kafka_bootstrap, partitions=PARTITIONS + 3),
    )
    right = IngressSpool(
        pg_pool, publisher, SystemClock(), topics=BrokerTopics(kafka_bootstrap, partitions=None)
    )
    try:
        wrong.start()
        await wrong.record([call(sid)])
        await asyncio.wait_for(wrong.kept_back.wait(), 10)
        await wrong.stop()
        assert True in wrong.looked_ahead  # the woken batch asked while it read
        assert await wrong.pending() >= 1
        assert await right.relay_once() >= 1
    finally:
        await wrong.stop()
        await right.stop()
        await publisher.stop()
    assert await published_sids(kafka_bootstrap, sid, 1) == [sid]


async def test_a_topic_created_again_with_other_partitions_is_not_published_to(
    kafka_bootstrap: str,
) -> None:
    """A topic first seen with 2 partitions and then found with 3 (deleted and created
    afresh, as a restarted broker's defaults would) holds the rows back."""
    name = f"act.recreated-{uuid.uuid4().hex[:6]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    topics = BrokerTopics(kafka_bootstrap, partitions=None)
    try:
        await admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])
        await topics.check([name])  # first seen: 2 partitions
        await admin.delete_topics([name])
        await admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])
        with pytest.raises(TopicsMissingError) as caught:
            await topics.check([name])
    finally:
        await topics.close()
        await admin.close()
    assert caught.value.problems == {name: "3 partitions, expected 2"}


class _Watched(IngressSpool):
    """An edge that says when its relay found the lock another edge's."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.found_busy = asyncio.Event()

    async def _relay_batch(self, *, rows_expected: bool = False) -> tuple[int, bool]:
        sent, busy = await super()._relay_batch(rows_expected=rows_expected)
        if busy:
            self.found_busy.set()
        return sent, busy


async def test_an_edge_that_found_another_relaying_publishes_its_row_when_it_is_done(
    pg_pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    """A row spooled while another web edge holds the relay is published once that edge is
    done, not an idle poll later (an hour here): the edge looks again soon."""
    sid = f"CA-busy-{uuid.uuid4().hex[:6]}-0"
    publisher = EventPublisher(kafka_bootstrap)
    edge = _Watched(pg_pool, publisher, SystemClock(), idle_poll_s=3600)
    try:
        async with pg_pool.acquire() as other, other.transaction():
            await other.execute("SELECT pg_advisory_xact_lock($1)", RELAY_LOCK)  # relaying
            await edge.record([call(sid)])
            edge.start()  # its first look finds the relay taken; nothing wakes it after
            await asyncio.wait_for(edge.found_busy.wait(), 10)
        assert await published_sids(kafka_bootstrap, sid, 1) == [sid]
    finally:
        await edge.stop()
        await publisher.stop()
