"""The lean restore `dispatch up` uses: only what the workers need goes back into an empty
broker, each record marked as restored (docs/decisions/025)."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from dispatch.bus import EventPublisher
from dispatch.crisis.events import DispatchOpened, DispatchResolved
from dispatch.events import Envelope, derived_id, new_event
from dispatch.events.codec import decode
from dispatch.risk.followups import crisis_dispatch, open_follow_up
from dispatch.stack.restore import restore_if_empty
from dispatch.stack.restore_needs import RESTORED
from dispatch.worker.inputs import WORKER_INPUTS
from projections.projector import Projector
from tests.integration.test_restore import HISTORY, NOW, TOPICS, StartBroker, brokers

__all__ = ["brokers"]  # the fixture, shared with test_restore


def dispatch_events(name: str, *, resolved: bool) -> list[Envelope]:
    """A crisis dispatch, opened; resolved with its follow-up opened when `resolved`."""
    dispatch_id = derived_id("restore-needed", name)
    opened = new_event(
        DispatchOpened(
            dispatch_id=dispatch_id, short_code=name, team_id="aot-east", client_id="c-1",
            caller_kind="client", reason="crisis_call", risk_level="crisis",
            source_event_id=dispatch_id, assigned_staff_id="s-nurse",
        ),
        key=str(dispatch_id), occurred_at=NOW, recorded_at=NOW, actor="t",
    )  # fmt: skip
    if not resolved:
        return [opened]
    done = new_event(
        DispatchResolved(dispatch_id=dispatch_id, staff_id="s-nurse", via="sms", outcome="safe"),
        key=str(dispatch_id), occurred_at=NOW, recorded_at=NOW, actor="s-nurse",
    )  # fmt: skip
    remembered = crisis_dispatch(opened)
    assert remembered is not None
    follow_up = open_follow_up(remembered, done, within=timedelta(hours=24), now=NOW)
    return [opened, done, follow_up]


async def restored_log(bootstrap: str) -> list[tuple[str, dict[str, bytes]]]:
    """(event id, headers) of every record in the system's topics."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        parts = [
            TopicPartition(t, p) for t in TOPICS for p in consumer.partitions_for_topic(t) or ()
        ]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        found: list[tuple[str, dict[str, bytes]]] = []
        while sum(ends.values()) > len(found):
            batches = await consumer.getmany(timeout_ms=2000)
            assert batches, f"only {len(found)} of {sum(ends.values())} records"
            for records in batches.values():
                found += [(str(decode(r.value).event_id), dict(r.headers)) for r in records]
        return found
    finally:
        await consumer.stop()


async def test_only_what_the_workers_read_and_nothing_of_a_closed_dispatch_is_restored(
    pg_pool: asyncpg.Pool, brokers: StartBroker
) -> None:
    """Roster and other projector-only events stay archived; an open dispatch comes back, a
    resolved one whose follow-up was opened does not; every restored record is marked."""
    first = await brokers(2)
    open_one, closed = (
        dispatch_events("OPEN1", resolved=False),
        dispatch_events("DONE1", resolved=True),
    )
    history = [*HISTORY, *open_one, *closed]
    publisher, projector = EventPublisher(first.bootstrap_servers), None
    projector = Projector(pg_pool, first.bootstrap_servers, TOPICS)
    await projector.start()
    try:
        await publisher.publish(history)
        await projector.wait_until_caught_up(timeout=30)
    finally:
        await projector.stop()
        await publisher.stop()

    fresh = await brokers(2)
    report = await restore_if_empty(pg_pool, fresh.bootstrap_servers, needed_only=True)
    log = await restored_log(fresh.bootstrap_servers)
    restored = {event_id for event_id, _ in log}
    wanted = {str(e.event_id) for e in [*HISTORY, *open_one] if e.type in WORKER_INPUTS} | {
        str(closed[2].event_id)
    }  # the follow-up is a client event the risk agent folds
    assert restored == wanted and report.restored == len(wanted) and report.needed_only
    assert all(headers.get(RESTORED) == b"1" for _, headers in log)
    assert not any(e.type.startswith("Team") for e in HISTORY if str(e.event_id) in restored)
