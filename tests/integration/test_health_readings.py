"""What /health and /metrics read, on a real PostgreSQL and a real broker: unpaged crisis
contacts, the spool, worker heartbeats, archive figures, open dispatches for the auditor."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from dispatch.bus import EventPublisher
from dispatch.crisis.decide import Responder, open_dispatch
from dispatch.crisis.events import CrisisCallReceived, CrisisTextReceived, DispatchAcknowledged
from dispatch.escalation.audit import fold, is_late, redrive
from dispatch.escalation.decide import escalate, freeze_plan
from dispatch.escalation.policy import EscalationPolicy, EscalationStep
from dispatch.events import Envelope, derived_id, new_event
from dispatch.health.broker_probe import KafkaMetadataProbe
from dispatch.health.budget import Budget
from dispatch.health.report import (
    BrokerReading,
    ContactReading,
    Fullest,
    Limits,
    ProbeFailed,
    Readings,
    SpoolReading,
    WorkerBeat,
    evaluate,
)
from dispatch.ingress.spool import IngressSpool
from dispatch.paging.events import PageSent
from dispatch.paging.ledger import PageLedger
from dispatch.stack.broker import EmbeddedBroker, free_port
from dispatch.topics import topic_specs
from projections.health import PostgresHealthReadings, dispatch_of_contact, record_worker_beat
from projections.observations import ArchiveFigures, open_dispatch_histories
from projections.project import project

T = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
PRIMARY = Responder("s-1", "+15550000001")
POLICY = EscalationPolicy(steps=(EscalationStep(targets=("primary",), ack_timeout_s=60),))


class At:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def call(sid: str, at: datetime = T) -> Envelope:
    payload = CrisisCallReceived(
        call_sid=sid, caller_number="+15559990000", caller_kind="client", client_id="c-1",
        team_id="t-1", dialled_staff_id=PRIMARY.staff_id,
    )  # fmt: skip
    return new_event(payload, key="c-1", event_id=derived_id("twilio-call", sid),
                     occurred_at=at, recorded_at=at, actor="twilio")  # fmt: skip


def text(sid: str) -> Envelope:
    payload = CrisisTextReceived(
        message_sid=sid, sender_number="+15559990000", caller_kind="client", client_id="c-1",
        team_id="t-1", body="help",
    )  # fmt: skip
    return new_event(payload, key="c-1", occurred_at=T, recorded_at=T, actor="twilio")


def acknowledged(contact: Envelope) -> Envelope:
    """The dispatch the contact opened, taken by s-1."""
    dispatch_id = dispatch_of_contact(contact.event_id)
    payload = DispatchAcknowledged(dispatch_id=dispatch_id, staff_id="s-1", via="sms")
    return new_event(payload, key=str(dispatch_id), occurred_at=T, recorded_at=T, actor="s-1")


async def spool(pool: asyncpg.Pool, *events: Envelope, at: datetime = T) -> None:
    await IngressSpool(pool, EventPublisher("127.0.0.1:9"), At(at)).record(list(events))


async def project_all(pool: asyncpg.Pool, *events: Envelope) -> None:
    async with pool.acquire() as conn, conn.transaction():
        for event in events:
            await project(conn, event)


async def test_a_spooled_crisis_contact_waits_until_a_page_is_sent_or_someone_takes_it(
    pg_pool: asyncpg.Pool,
) -> None:
    """Three contacts accepted: the paged one and the acknowledged one stop waiting; the
    third (a text) is the one still waiting, since the time it was spooled."""
    paged, taken, waiting = call("CA-paged"), call("CA-taken"), text("SM-waiting")
    await spool(pg_pool, paged)
    await spool(pg_pool, taken)
    await spool(pg_pool, waiting, at=T + timedelta(seconds=3))
    readings = PostgresHealthReadings(pg_pool)
    before = await readings.unpaged_contacts(T - timedelta(hours=1))
    assert (before.unpaged, before.oldest_at) == (3, T)

    ledger = PageLedger(pg_pool)
    page_id = derived_id("page", "1")
    await ledger.claim(notification_id=page_id, dispatch_id=dispatch_of_contact(paged.event_id),
                       channel="sms", now=T)  # fmt: skip
    await ledger.mark_sent(page_id, sid="SM1", status="queued", now=T)
    opened, _ = open_dispatch(taken, responder=PRIMARY, now=T)
    await project_all(pg_pool, opened, acknowledged(taken))

    after = await readings.unpaged_contacts(T - timedelta(hours=1))
    assert (after.unpaged, after.oldest_at) == (1, T + timedelta(seconds=3))
    assert (await readings.unpaged_contacts(T + timedelta(seconds=10))).unpaged == 0


async def test_the_spool_reading_counts_unpublished_events_and_the_oldest(
    pg_pool: asyncpg.Pool,
) -> None:
    """Events the relay has not published are counted, with the time the oldest was taken."""
    readings = PostgresHealthReadings(pg_pool)
    assert (await readings.spool()).pending == 0
    await spool(pg_pool, call("CA-1"))
    await spool(pg_pool, call("CA-2"), at=T + timedelta(seconds=1))
    reading = await readings.spool()
    assert (reading.pending, reading.oldest_unpublished_at) == (2, T)
    await readings.ping()


async def test_a_worker_heartbeat_keeps_the_last_time_it_was_consuming(
    pg_pool: asyncpg.Pool,
) -> None:
    """A beat while rebalancing keeps the worker's last consuming time; newest worker first."""
    readings = PostgresHealthReadings(pg_pool)
    consuming = WorkerBeat("h:1", T, T, ("act.client-events:0",), 4)
    await record_worker_beat(pg_pool, consuming, T)
    rebalancing = WorkerBeat("h:1", T + timedelta(seconds=2), None, (), None)
    await record_worker_beat(pg_pool, rebalancing, T)
    await record_worker_beat(pg_pool, WorkerBeat("h:2", T - timedelta(days=2), None, (), None), T)
    newer = WorkerBeat("h:3", T + timedelta(seconds=1), T + timedelta(seconds=1), ("x:1",), 0)
    await record_worker_beat(pg_pool, newer, T)
    beats = await readings.worker_beats()
    assert [b.worker_id for b in beats] == ["h:1", "h:3"]  # h:2, silent for days, forgotten
    assert beats[0] == WorkerBeat("h:1", T + timedelta(seconds=2), T, (), None)


async def test_a_worker_heartbeat_carries_its_telephony_error_until_it_clears(
    pg_pool: asyncpg.Pool,
) -> None:
    """The beat says why the worker cannot reach the provider; the next beat without an
    error clears it."""
    readings = PostgresHealthReadings(pg_pool)
    refused = "twilio reach: HTTP 401 (code 20003): Authenticate"
    await record_worker_beat(pg_pool, WorkerBeat("h:1", T, T, ("x:0",), 0, refused), T)
    [failing] = await readings.worker_beats()
    later = T + timedelta(seconds=2)
    await record_worker_beat(pg_pool, WorkerBeat("h:1", later, later, ("x:0",), 0), T)
    [cleared] = await readings.worker_beats()

    assert (failing.telephony_error, cleared.telephony_error) == (refused, None)


async def test_the_archive_gives_first_page_latency_step_moves_and_redrives(
    pg_pool: asyncpg.Pool,
) -> None:
    """A call paged 7 s after it rang, a step moved late, a deadline re-driven by the auditor."""
    ring = call("CA-latency")
    opened, _ = open_dispatch(ring, responder=PRIMARY, now=T)
    dispatch_id = dispatch_of_contact(ring.event_id)
    sent = [
        new_event(
            PageSent(notification_id=derived_id(n), dispatch_id=dispatch_id, channel="sms",
                     provider_sid=f"SM{n}", provider_status="queued"),
            key=str(dispatch_id), occurred_at=T + timedelta(seconds=n),
            recorded_at=T + timedelta(seconds=n), actor="notifier",
        )
        for n in (7, 70)
    ]  # fmt: skip
    state = fold([opened, freeze_plan(opened, POLICY, now=T)])
    assert state is not None
    again = redrive(state, now=T + timedelta(seconds=95))
    moved = escalate(state, again, responders={"primary": [PRIMARY]}, now=again.recorded_at)
    await project_all(pg_pool, ring, opened, *sent, again, *moved)

    figures = ArchiveFigures(pg_pool)
    [first] = await figures.first_pages(T - timedelta(seconds=1))
    assert (first.dispatch_id, first.contact_type) == (dispatch_id, "CrisisCallReceived")
    assert first.paged_at - first.contact_at == timedelta(seconds=7)
    [move] = await figures.step_moves(T)
    assert move.moved_at - move.deadline_at == timedelta(seconds=35)
    assert await figures.redrives(T) == [(again.event_id, T + timedelta(seconds=60))]
    assert await figures.first_pages(T + timedelta(seconds=1)) == []


async def test_the_auditor_folds_open_dispatches_from_their_own_archived_events(
    pg_pool: asyncpg.Pool,
) -> None:
    """An open dispatch whose step is late is found; one taken by someone is not read."""
    late, taken = call("CA-late"), call("CA-done")
    late_opened, _ = open_dispatch(late, responder=PRIMARY, now=T)
    taken_opened, _ = open_dispatch(taken, responder=PRIMARY, now=T)
    await project_all(
        pg_pool, freeze_plan(late_opened, POLICY, now=T), late_opened,
        taken_opened, freeze_plan(taken_opened, POLICY, now=T), acknowledged(taken),
    )  # fmt: skip
    histories = await open_dispatch_histories(pg_pool, opened_before=T, limit=10)
    assert [[e.type for e in h] for h in histories] == [["DispatchOpened", "EscalationPlanFrozen"]]
    state = fold(histories[0])
    assert state is not None and state.dispatch_id == dispatch_of_contact(late.event_id)
    assert is_late(state, T + timedelta(seconds=91), timedelta(seconds=30))
    assert await open_dispatch_histories(pg_pool, opened_before=T - timedelta(1), limit=10) == []


async def test_the_broker_probe_sees_the_topics_and_a_missing_one(kafka_bootstrap: str) -> None:
    """On the real broker every event topic is there; a topic it lacks is named."""
    names = [spec.name for spec in topic_specs()]
    assert (await KafkaMetadataProbe(kafka_bootstrap, names).read()).topics_missing == ()
    lacking = await KafkaMetadataProbe(kafka_bootstrap, [*names, "act.not-there"]).read()
    assert lacking.topics_missing == ("act.not-there",)


async def test_the_probe_counts_what_an_embedded_broker_partition_took(tmp_path: Path) -> None:
    """A broker of its own: what it held at the first look is left out (a restore's large
    batches), records taken one request at a time are counted on their partition, probes
    report the latest reading and the check turns red at the limit, and a broker restarted
    empty starts the count again."""
    broker = EmbeddedBroker(tmp_path, partitions=2)
    await broker.start()
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=0)
    await producer.start()
    names = [spec.name for spec in topic_specs()]
    probe = KafkaMetadataProbe(broker.bootstrap_servers, names, history_every_s=3600.0)
    try:
        restored = producer.create_batch()
        for _ in range(100):
            restored.append(key=None, value=b"restored", timestamp=None)
        restored.close()
        await (await producer.send_batch(restored, "act.page-events", partition=1))

        first = await probe.read_history()
        assert first is not None and first.records == 0
        for _ in range(30):
            await producer.send_and_wait("act.page-events", b"live", partition=1)
        await producer.send_and_wait("act.dispatch-events", b"live", partition=0)
        assert (await probe.read_history()) == Fullest("act.page-events", 1, 30)
        reading = await probe.read()  # the latest history, read again only an hour later
        assert reading.fullest == Fullest("act.page-events", 1, 30)

        health = evaluate(_readings(reading), _limits(partition_records=30), datetime.now(UTC))
        assert not health.checks["broker"].ok
        assert "act.page-events[1] took 30 records" in (health.checks["broker"].reason or "")
        calm = evaluate(_readings(reading), _limits(partition_records=31), datetime.now(UTC))
        assert calm.checks["broker"].ok

        await producer.stop()
        await broker.restart()  # empty again (memory storage), same port
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=0)
        await producer.start()
        for _ in range(3):  # what a restore would put back
            await producer.send_and_wait("act.page-events", b"restored", partition=1)
        probe.forget()  # as the stack does once it restored its broker
        assert (await probe.read()).fullest is None  # nothing known until the next look
        after_restart = await probe.read_history()
        assert after_restart is not None and after_restart.records == 0
        for _ in range(20):
            await producer.send_and_wait("act.page-events", b"live", partition=1)
        assert (await probe.read_history()) == Fullest("act.page-events", 1, 20)

        await producer.stop()
        await broker.restart()  # restarted behind the probe's back: an end went down
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=0)
        await producer.start()
        for _ in range(4):
            await producer.send_and_wait("act.page-events", b"live", partition=1)
        unseen = await probe.read_history()
        assert unseen is not None and unseen.records == 0  # the new first look
        await producer.send_and_wait("act.page-events", b"live", partition=0)
        assert (await probe.read_history()) == Fullest("act.page-events", 0, 1)
    finally:
        await probe.close()
        await producer.stop()
        await broker.stop()


def _readings(broker: BrokerReading) -> Readings:
    return Readings(
        postgres=None,
        broker=broker,
        workers=[],
        spool=SpoolReading(pending=0, oldest_unpublished_at=None),
        contacts=ContactReading(unpaged=0, oldest_at=None),
    )


def _limits(*, partition_records: int) -> Limits:
    return Limits(
        worker_stale_s=15, spool_stale_s=30, page_wait_s=30, partition_records=partition_records
    )


async def test_a_broker_that_is_down_is_refused_at_once() -> None:
    """Nothing listening on the broker's port: the probe fails fast with the refusal."""
    probe = KafkaMetadataProbe(f"127.0.0.1:{free_port()}", ["act.client-events"])
    started = time.monotonic()
    with pytest.raises(ConnectionError, match=r"127\.0\.0\.1"):
        await probe.read()
    assert time.monotonic() - started < 1.0


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers (a hung broker)."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"127.0.0.1:{port}"
    for writer in held:
        writer.close()
    server.close()
    with contextlib.suppress(Exception):
        await server.wait_closed()


async def test_a_hung_broker_is_red_within_the_budget(silent_server: str) -> None:
    """A broker that accepts and never answers is reported within the budget, not after the
    client's own timeout."""
    budget = Budget(0.5)
    started = time.monotonic()
    got = await budget.run(KafkaMetadataProbe(silent_server, ["act.client-events"]).read())
    assert isinstance(got, ProbeFailed) and got.error == "no answer within 0.5 s"
    assert time.monotonic() - started < 1.0
    await budget.close()
