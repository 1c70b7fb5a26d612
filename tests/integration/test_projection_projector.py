"""The projector against a real Kafka-protocol broker and PostgreSQL.

Each test publishes to topics of its own (the session's broker is shared), so the counts
below are exactly what the test produced.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from structlog.testing import capture_logs

from dispatch.clients.events import ClientEnrolled
from dispatch.crisis.events import DispatchAcknowledged, DispatchOpened
from dispatch.events import Envelope, EventPayload, new_event
from dispatch.events.codec import decode, encode
from dispatch.events.registry import topic_of
from dispatch.rota.events import StaffRegistered, TeamFormed
from dispatch.stack.broker import create_topics
from dispatch.topics import ROSTER_EVENTS, topic_specs
from projections import projector as projector_module
from projections.projector import Projector

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def ev(payload: EventPayload, key: str, minutes: float) -> Envelope:
    at = T0 + timedelta(minutes=minutes)
    return new_event(payload, key=key, occurred_at=at, recorded_at=at, actor="test")


@dataclasses.dataclass
class Topics:
    """This test's copies of the event topics, and a producer that writes to them."""

    bootstrap: str
    names: dict[str, str]
    producer: AIOKafkaProducer

    async def publish(self, events: Sequence[Envelope]) -> None:
        futures = [
            await self.producer.send(self.names[topic_of(e)], encode(e), key=e.key.encode())
            for e in events
        ]
        for future in futures:
            await future

    async def publish_raw(self, event_topic: str, key: str, value: bytes) -> None:
        await (await self.producer.send(self.names[event_topic], value, key=key.encode()))

    def projector(self, pool: asyncpg.Pool) -> Projector:
        return Projector(pool, self.bootstrap, list(self.names.values()), fetch_max_wait_ms=20)


@pytest.fixture
async def topics(kafka_bootstrap: str) -> AsyncIterator[Topics]:
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    names = {spec.name: f"{prefix}.{spec.name}" for spec in topic_specs()}
    specs = [dataclasses.replace(spec, name=names[spec.name]) for spec in topic_specs()]
    await create_topics(
        kafka_bootstrap, specs, partitions=4, replication_factor=1, with_config=False
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=False, linger_ms=5
    )
    await producer.start()
    try:
        yield Topics(kafka_bootstrap, names, producer)
    finally:
        await producer.stop()


@pytest.fixture
async def running() -> AsyncIterator[list[Projector]]:
    """Projectors a test starts; every one is stopped afterwards, even on failure."""
    started: list[Projector] = []
    yield started
    for projector in started:
        await projector.stop()


async def start(projector: Projector, running: list[Projector]) -> Projector:
    running.append(projector)
    await projector.start()
    return projector


def roster(n_staff: int) -> list[Envelope]:
    events = [
        ev(
            TeamFormed(
                team_id="t-1",
                name="North",
                service_model="ACT",
                time_zone="UTC",
                fallback_number="+15550009999",
                crisis_line_number="+15550008888",
            ),
            "t-1",
            0,
        )
    ]
    for i in range(n_staff):
        payload = StaffRegistered(
            staff_id=f"s-{i}",
            team_id="t-1",
            display_name=f"Staff {i}",
            role="nurse",
            gender="unspecified",
            phone=f"+1555{i:07d}",
        )
        events.append(ev(payload, "t-1", 1 + i / 100))
    return events


def clients(n: int) -> list[Envelope]:
    return [
        ev(
            ClientEnrolled(client_id=f"c-{i}", team_id="t-1", display_name=f"C{i}", phone=None),
            f"c-{i}",
            2,
        )
        for i in range(n)
    ]


def dispatch(minutes: float) -> list[Envelope]:
    dispatch_id = uuid.uuid4()
    opened = ev(
        DispatchOpened(
            dispatch_id=dispatch_id,
            short_code="ABCDE",
            team_id="t-1",
            client_id="c-0",
            caller_kind="client",
            reason="crisis_call",
            risk_level="crisis",
            source_event_id=uuid.uuid4(),
            assigned_staff_id="s-0",
        ),
        str(dispatch_id),
        minutes,
    )
    ack = ev(
        DispatchAcknowledged(dispatch_id=dispatch_id, staff_id="s-0", via="sms"),
        str(dispatch_id),
        minutes + 1,
    )
    return [opened, ack]


async def table_counts(pool: asyncpg.Pool) -> dict[str, int]:
    row = await pool.fetchrow(
        """SELECT (SELECT count(*) FROM event_archive) AS event_archive,
                  (SELECT count(*) FROM teams) AS teams,
                  (SELECT count(*) FROM staff) AS staff,
                  (SELECT count(*) FROM clients) AS clients,
                  (SELECT count(*) FROM dispatches) AS dispatches,
                  (SELECT count(*) FROM dead_letters) AS dead_letters"""
    )
    return dict(row)


async def stored_total(pool: asyncpg.Pool) -> int:
    total: int = await pool.fetchval("SELECT coalesce(sum(next_offset), 0) FROM projection_offsets")
    return total


async def test_projects_published_events(
    topics: Topics, pg_pool: asyncpg.Pool, running: list[Projector]
) -> None:
    """Published events end up archived and in the read models, with offsets stored beside them."""
    events = roster(60) + clients(20) + dispatch(5) + dispatch(6)
    # Many records per producer batch: tansu's ListOffsets would report a short end here.
    await topics.publish(events)
    projector = await start(topics.projector(pg_pool), running)
    await projector.wait_until_caught_up(timeout=20)
    assert await table_counts(pg_pool) == {
        "event_archive": len(events),
        "teams": 1,
        "staff": 60,
        "clients": 20,
        "dispatches": 2,
        "dead_letters": 0,
    }
    assert await stored_total(pg_pool) == len(events)
    assert set(projector.lag().values()) == {0}
    statuses = await pg_pool.fetch("SELECT DISTINCT status FROM dispatches")
    assert [r["status"] for r in statuses] == ["acknowledged"]
    positions = await pg_pool.fetchval(
        "SELECT count(*) FROM event_archive WHERE topic LIKE 'test-%' AND \"offset\" IS NOT NULL"
    )
    assert positions == len(events)

    # Events published while it runs are projected too.
    later = dispatch(30)
    await topics.publish(later)
    await projector.wait_until_caught_up(timeout=20)
    assert await pg_pool.fetchval("SELECT count(*) FROM dispatches") == 3


async def test_reset_projector_replays_to_the_same_rows(
    topics: Topics, pg_pool: asyncpg.Pool, running: list[Projector]
) -> None:
    """A new projector with its offsets deleted replays everything and changes no row."""
    events = roster(5) + clients(5) + dispatch(5)
    await topics.publish(events)
    first = await start(topics.projector(pg_pool), running)
    await first.wait_until_caught_up(timeout=20)
    await first.stop()
    before = await table_counts(pg_pool)
    rows_before = await pg_pool.fetch("SELECT * FROM dispatches ORDER BY dispatch_id")

    await pg_pool.execute("DELETE FROM projection_offsets")
    second = await start(topics.projector(pg_pool), running)
    await second.wait_until_caught_up(timeout=20)
    assert await table_counts(pg_pool) == before
    assert await pg_pool.fetch("SELECT * FROM dispatches ORDER BY dispatch_id") == rows_before
    assert await stored_total(pg_pool) == len(events)


async def test_duplicates_and_restart_write_each_row_once(
    topics: Topics, pg_pool: asyncpg.Pool, running: list[Projector]
) -> None:
    """Events delivered twice, across a restart from stored offsets, write each row once."""
    events = roster(10) + clients(5) + dispatch(5)
    await topics.publish(events)
    await topics.publish_raw(ROSTER_EVENTS, "t-1", b"marker: not an event")
    first = await start(topics.projector(pg_pool), running)
    await first.wait_until_caught_up(timeout=20)
    await first.stop()
    assert await pg_pool.fetchval("SELECT count(*) FROM dead_letters") == 1
    await pg_pool.execute("DELETE FROM dead_letters")

    await topics.publish(events)  # the same event ids again, at new offsets
    second = await start(topics.projector(pg_pool), running)
    await second.wait_until_caught_up(timeout=20)
    counts = await table_counts(pg_pool)
    assert counts == {
        "event_archive": len(events),
        "teams": 1,
        "staff": 10,
        "clients": 5,
        "dispatches": 1,
        # The restart resumed after the marker: it was not read (nor dead-lettered) again.
        "dead_letters": 0,
    }
    assert await stored_total(pg_pool) == 2 * len(events) + 1


def phone_clash(staff: Envelope) -> Envelope:
    """A second staff member registered with `staff`'s phone: the roster refuses it."""
    return ev(
        StaffRegistered(
            staff_id="s-other",
            team_id="t-1",
            display_name="Same phone",
            role="nurse",
            gender="female",
            phone=staff.payload.phone,  # type: ignore[attr-defined]
        ),
        "t-1",
        3,
    )


async def test_malformed_message_is_dead_lettered_and_projection_goes_on(
    topics: Topics, pg_pool: asyncpg.Pool, running: list[Projector]
) -> None:
    """Undecodable bytes and a refused event land in dead_letters; the next event is projected."""
    team, staff_a = roster(1)
    clash = phone_clash(staff_a)
    after = roster(3)[3]  # s-2, on the same partition (key t-1)
    await topics.publish([team, staff_a])
    await topics.publish_raw(ROSTER_EVENTS, "t-1", b"{not json")
    await topics.publish_raw(
        ROSTER_EVENTS, "t-1", b'{"type": "TeamDisbanded", "schema_version": 1}'
    )
    await topics.publish([clash, after])
    projector = await start(topics.projector(pg_pool), running)
    await projector.wait_until_caught_up(timeout=20)

    letters = await pg_pool.fetch(
        'SELECT stage, raw, event_id, error FROM dead_letters ORDER BY "offset"'
    )
    assert [(r["stage"], r["event_id"]) for r in letters] == [
        ("decode", None),
        ("decode", None),
        ("project", clash.event_id),
    ]
    assert bytes(letters[0]["raw"]) == b"{not json"
    assert "unknown event type 'TeamDisbanded'" in letters[1]["error"]
    assert "UniqueViolation" in letters[2]["error"]
    staff = await pg_pool.fetch("SELECT staff_id FROM staff ORDER BY staff_id")
    assert [r["staff_id"] for r in staff] == ["s-0", "s-2"]
    # The refused event is still in the archive: the durable copy misses nothing valid.
    assert (
        await pg_pool.fetchval(
            "SELECT count(*) FROM event_archive WHERE event_id = $1", clash.event_id
        )
        == 1
    )
    assert await stored_total(pg_pool) == 6


async def test_database_failure_is_retried_not_skipped(
    topics: Topics, pg_pool: asyncpg.Pool, running: list[Projector]
) -> None:
    """While the database refuses a batch the projector retries it; nothing is skipped."""
    await pg_pool.execute("ALTER TABLE staff RENAME TO staff_away")
    projector = await start(topics.projector(pg_pool), running)
    with capture_logs() as logs:
        await topics.publish(roster(3))

        async def failed_once() -> bool:
            return any(entry["event"] == "projection_batch_failed" for entry in logs)

        await until(failed_once)
        with pytest.raises(TimeoutError, match="not caught up"):
            await projector.wait_until_caught_up(timeout=0.5)
        await pg_pool.execute("ALTER TABLE staff_away RENAME TO staff")
        await projector.wait_until_caught_up(timeout=20)
    failure = next(e for e in logs if e["event"] == "projection_batch_failed")
    assert failure["log_level"] == "error" and "staff" in failure["error"]
    counts = await table_counts(pg_pool)
    assert (counts["teams"], counts["staff"], counts["dead_letters"]) == (1, 3, 0)
    assert await stored_total(pg_pool) == 4


async def until(predicate: Callable[[], Awaitable[bool]], within_s: float = 10.0) -> None:
    """Poll a condition with a bounded timeout."""
    deadline = asyncio.get_running_loop().time() + within_s
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.01)


async def test_offsets_ahead_of_a_restarted_log_are_rewound(
    topics: Topics, pg_pool: asyncpg.Pool, running: list[Projector]
) -> None:
    """Stored offsets beyond the log (a broker that restarted empty) restart it from the start."""
    await pg_pool.executemany(
        "INSERT INTO projection_offsets VALUES ('read-models', $1, $2, 1000)",
        [(name, p) for name in topics.names.values() for p in range(4)],
    )
    await topics.publish_raw(ROSTER_EVENTS, "t-1", b"not an event")
    events = roster(3)
    await topics.publish(events)
    with capture_logs() as logs:
        projector = await start(topics.projector(pg_pool), running)
        await projector.wait_until_caught_up(timeout=20)
    assert any(e["event"] == "projection_log_rewound" for e in logs)
    counts = await table_counts(pg_pool)
    assert (counts["staff"], counts["dead_letters"]) == (3, 1)
    assert await stored_total(pg_pool) == len(events) + 1


async def test_two_projectors_share_the_partitions_and_apply_each_event_once(
    topics: Topics, pg_pool: asyncpg.Pool, running: list[Projector]
) -> None:
    """Two projectors on one database split the partitions: every event is applied once
    and each dispatch ends in its last state (its order kept)."""
    events = roster(10) + clients(10) + [e for m in range(8) for e in dispatch(m)]
    # A name of their own: another stack's projector may log in this process (the
    # end-to-end tests' session stack), and only these two projectors' batches count.
    name = f"shared-{uuid.uuid4().hex[:8]}"

    def projector() -> Projector:
        return Projector(pg_pool, topics.bootstrap, list(topics.names.values()), name)

    with capture_logs() as logs:
        first = await start(projector(), running)
        await topics.publish(events[: len(events) // 2])
        second = await start(projector(), running)  # a rebalance moves some
        await topics.publish(events[len(events) // 2 :])
        for p in (first, second):
            await p.wait_until_caught_up(timeout=30)
    applied = sum(
        e["records"]
        for e in logs
        if e["event"] == "projection_batch_applied" and e.get("projection") == name
    )
    assert applied == len(events)
    counts = await table_counts(pg_pool)
    assert (counts["event_archive"], counts["dispatches"], counts["clients"]) == (
        len(events),
        8,
        10,
    )
    assert await stored_total(pg_pool) == len(events)
    statuses = await pg_pool.fetch("SELECT DISTINCT status FROM dispatches")
    assert [r["status"] for r in statuses] == ["acknowledged"]
    mine, theirs = set(first.lag()), set(second.lag())
    assert mine and theirs and not mine & theirs  # each partition has one projector
    assert len(mine | theirs) == 4 * len(topics.names)


async def test_each_record_is_decoded_once_also_when_its_batch_is_applied_again(
    topics: Topics, pg_pool: asyncpg.Pool, running: list[Projector], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poll whose events a handler refuses is rolled back and applied one by one; its
    records are not decoded a second time for that."""
    team, staff_a = roster(1)
    clash = phone_clash(staff_a)
    events = [team, staff_a, clash, *roster(4)[2:]]
    ours = {event.event_id for event in events}
    decoded: list[uuid.UUID] = []  # this test's records only: another stack's projector
    # may run in this process (the end-to-end tests' session stack) and decode its own

    def counting(raw: bytes | str) -> Envelope:
        event = decode(raw)
        if event.event_id in ours:
            decoded.append(event.event_id)
        return event

    monkeypatch.setattr(projector_module, "decode", counting)
    await topics.publish(events)
    projector = await start(topics.projector(pg_pool), running)
    await projector.wait_until_caught_up(timeout=20)
    letters = await pg_pool.fetch("SELECT stage, event_id FROM dead_letters")
    assert [(r["stage"], r["event_id"]) for r in letters] == [("project", clash.event_id)]
    staff = await pg_pool.fetch("SELECT staff_id FROM staff ORDER BY staff_id")
    assert [r["staff_id"] for r in staff] == ["s-0", "s-1", "s-2", "s-3"]
    assert await pg_pool.fetchval("SELECT count(*) FROM event_archive") == len(events)
    assert len(decoded) == len(events)


async def test_records_coming_fast_are_gathered_into_fewer_transactions(
    topics: Topics, pg_pool: asyncpg.Pool, running: list[Projector]
) -> None:
    """Once records keep coming (here: three transactions within a second) the projector
    waits its pace between transactions and applies together what gathered meanwhile;
    every record is still applied once."""
    paced = Projector(
        pg_pool, topics.bootstrap, list(topics.names.values()), "paced",
        fetch_max_wait_ms=20, pace_s=2.0, busy_transactions=3,
    )  # fmt: skip
    events = roster(12)
    with capture_logs() as logs:
        await start(paced, running)
        for event in events:  # one request each, as a busy stack's appends come
            await topics.publish([event])
        await paced.wait_until_caught_up(timeout=30)
    batches = [
        e["records"]
        for e in logs
        if e["event"] == "projection_batch_applied" and e.get("projection") == "paced"
    ]
    assert sum(batches) == len(events)
    assert len(batches) <= 5  # three at once, then what gathered during each pace
    assert (await table_counts(pg_pool))["staff"] == 12
