"""A page goes out from the worker that appended it, once, in its dispatch's order; whatever
that way cannot do is left to the page topic (dispatch/worker/pages_at_once.py).

Pure unit tests of the hand-off: the delivery is a function that records what it was given.
The whole path on real parts is tests/e2e/test_pages_at_once.py."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs

from dispatch.events import Envelope, new_event
from dispatch.paging.events import PageRequested
from dispatch.worker.batches import InFlight
from dispatch.worker.keyed_turns import KeyedTurns
from dispatch.worker.pages_at_once import DeliveredPages, PagesAtOnce

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def page(dispatch_id: uuid.UUID, n: int = 1) -> Envelope:
    return new_event(
        PageRequested(
            notification_id=uuid.uuid4(),
            dispatch_id=dispatch_id,
            step=n,
            attempt=0,
            channel="sms",
            staff_id=f"s{n}",
            to_number="+15550100001",
            body=f"page {n}",
        ),
        key=str(dispatch_id),
        occurred_at=T0,
        recorded_at=T0,
        actor="test",
    )


class Recorder:
    """A delivery that records the pages it got, waits on `gate` if set, fails on demand."""

    def __init__(self) -> None:
        self.got: list[Envelope] = []
        self.gate: asyncio.Event | None = None
        self.fail = False

    async def __call__(self, event: Envelope) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise ConnectionError("database away")
        self.got.append(event)


def pages_at_once(
    deliver: Recorder, owned: set[int] | None = None, limit: int = 8
) -> tuple[PagesAtOnce, InFlight]:
    in_flight = InFlight()
    owns = (lambda p: p in owned) if owned is not None else (lambda p: True)
    return PagesAtOnce(deliver, owns, KeyedTurns(), in_flight, limit=limit), in_flight


async def drained(in_flight: InFlight) -> None:
    assert await in_flight.idle(5.0)


async def test_an_appended_page_goes_out_at_once_and_its_copy_from_the_topic_is_skipped() -> None:
    deliver = Recorder()
    at_once, in_flight = pages_at_once(deliver)
    request = page(uuid.uuid4())
    at_once.after_append([(request, 0)])
    await asyncio.sleep(0)  # the hand-off's task starts
    await drained(in_flight)
    assert deliver.got == [request]
    await at_once.from_topic(request)  # the page topic's copy comes later
    assert deliver.got == [request]


async def test_other_events_and_pages_of_partitions_another_worker_reads_are_left() -> None:
    deliver = Recorder()
    at_once, in_flight = pages_at_once(deliver, owned={0})
    theirs, opened = page(uuid.uuid4()), page(uuid.uuid4())
    opened = opened.model_copy(update={"type": "DispatchOpened"})
    at_once.after_append([(theirs, 1), (opened, 0)])
    await asyncio.sleep(0)
    await drained(in_flight)
    assert deliver.got == []
    await at_once.from_topic(theirs)  # here only if this worker reads it after all
    assert deliver.got == [theirs]


async def test_a_failure_at_once_is_logged_and_the_topic_delivers_the_page() -> None:
    deliver = Recorder()
    deliver.fail = True
    at_once, in_flight = pages_at_once(deliver)
    request = page(uuid.uuid4())
    with capture_logs(processors=[merge_contextvars]) as logs:  # as the worker logs
        at_once.after_append([(request, 0)])
        await asyncio.sleep(0)
        await drained(in_flight)
    left = [e for e in logs if e["event"] == "page_left_to_topic"]
    assert len(left) == 1 and "database away" in left[0]["reason"]
    assert left[0]["way"] == "at_once" and left[0]["event_id"] == str(request.event_id)
    deliver.fail = False
    await at_once.from_topic(request)
    assert deliver.got == [request]


async def test_a_dispatchs_pages_go_one_at_a_time_in_the_order_they_were_appended() -> None:
    deliver = Recorder()
    deliver.gate = asyncio.Event()
    at_once, in_flight = pages_at_once(deliver)
    dispatch_id = uuid.uuid4()
    first, second = page(dispatch_id, 1), page(dispatch_id, 2)
    at_once.after_append([(first, 0)])
    await asyncio.sleep(0)
    from_topic = asyncio.create_task(at_once.from_topic(second))  # waits for its turn
    await asyncio.sleep(0.01)
    assert deliver.got == [] and not from_topic.done()
    deliver.gate.set()
    await from_topic
    await drained(in_flight)
    assert deliver.got == [first, second]


async def test_a_page_read_from_the_topic_first_is_not_sent_again_at_once() -> None:
    deliver = Recorder()
    at_once, in_flight = pages_at_once(deliver)
    request = page(uuid.uuid4())
    await at_once.from_topic(request)
    at_once.after_append([(request, 0)])
    await asyncio.sleep(0)
    await drained(in_flight)
    assert deliver.got == [request]


async def test_with_every_slot_taken_a_page_waits_for_one_and_beyond_that_is_left() -> None:
    deliver = Recorder()
    deliver.gate = asyncio.Event()
    in_flight = InFlight()
    at_once = PagesAtOnce(deliver, lambda p: True, KeyedTurns(), in_flight, limit=1, waiting_max=1)
    busy, waits, left = page(uuid.uuid4()), page(uuid.uuid4()), page(uuid.uuid4())
    at_once.after_append([(busy, 0)])
    await asyncio.sleep(0)  # the first takes the only slot
    at_once.after_append([(waits, 0), (left, 0)])  # one may wait for it, no more
    assert in_flight.count == 1  # a stopping worker waits for the page going out
    deliver.gate.set()

    async def two_out() -> None:
        while len(deliver.got) < 2:
            await asyncio.sleep(0)

    await asyncio.wait_for(two_out(), 5)
    await drained(in_flight)
    assert deliver.got == [busy, waits], "the waiting page went out once the slot was free"
    await at_once.from_topic(waits)  # its copy from the topic sends nothing
    await at_once.from_topic(left)  # the page left to the topic is delivered by it
    assert deliver.got == [busy, waits, left]


def test_the_delivered_ids_kept_are_the_newest() -> None:
    delivered = DeliveredPages(size=2)
    ids = [uuid.uuid4() for _ in range(3)]
    for event_id in ids:
        delivered.add(event_id)
    assert ids[0] not in delivered and ids[1] in delivered and ids[2] in delivered
