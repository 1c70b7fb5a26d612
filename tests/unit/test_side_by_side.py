"""Events handled side by side are acked strictly in the order they were read: the offset
faust commits never passes an event still in flight (a crash then redelivers it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from dispatch.events import Envelope
from dispatch.worker.batches import InFlight
from dispatch.worker.guard import AgentGuard
from dispatch.worker.side_by_side import run_side_by_side
from tests.unit.page_events import page_cancelled


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes


@dataclass(frozen=True)
class Event:
    message: Message
    value: Envelope


class Stream:
    """A faust stream as the runner uses it: noack(), events() and ack(); events() yields
    what is put and then waits, like a topic with nothing new."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.acked: list[int] = []

    def put(self, offset: int, key: str) -> Event:
        event = Event(Message("act.page-events", 0, offset, key.encode()), page_cancelled(key=key))
        self.queue.put_nowait(event)
        return event

    def noack(self) -> Stream:
        return self

    async def events(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()

    async def ack(self, event: Event) -> bool:
        self.acked.append(event.message.offset)
        return True


class NoDeadLetters:
    async def send(self, key: bytes | None, record: bytes) -> None:
        raise AssertionError("nothing here is poison")


class Handling:
    """A handler whose events finish when the test says so; it records what started."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release: dict[str, asyncio.Event] = {}

    async def __call__(self, event: Envelope) -> None:
        name = str(event.key)
        self.started.append(name)
        await self.release.setdefault(name, asyncio.Event()).wait()

    def finish(self, name: str) -> None:
        self.release.setdefault(name, asyncio.Event()).set()


async def _until(check: Any) -> None:
    async with asyncio.timeout(5):
        while not check():
            await asyncio.sleep(0)


async def _run(stream: Stream, handler: Handling, limit: int) -> asyncio.Task[None]:
    guard = AgentGuard("notifier", NoDeadLetters())
    return asyncio.create_task(run_side_by_side(stream, guard, InFlight(), handler, limit=limit))


async def test_a_slow_event_holds_back_the_acks_of_later_finished_ones() -> None:
    """Offsets 10, 11, 12 run side by side; 11 and 12 finish first but nothing is acked until
    10 is done, then all three in order."""
    stream, handler = Stream(), Handling()
    for offset, key in ((10, "d-1"), (11, "d-2"), (12, "d-3")):
        stream.put(offset, key)
    runner = await _run(stream, handler, limit=4)
    await _until(lambda: len(handler.started) == 3)  # all three in flight at once

    handler.finish("d-2")
    handler.finish("d-3")
    for _ in range(20):  # let 11 and 12 finish and the acker look at the window
        await asyncio.sleep(0)
    assert stream.acked == []  # 10 is still in flight: nothing after it may be committed

    handler.finish("d-1")
    await _until(lambda: len(stream.acked) == 3)
    assert stream.acked == [10, 11, 12]
    runner.cancel()


async def test_at_most_limit_events_are_in_flight() -> None:
    """With a limit of 2 the third event is not started until one of the first two ends."""
    stream, handler = Stream(), Handling()
    for offset in range(3):
        stream.put(offset, f"d-{offset}")
    runner = await _run(stream, handler, limit=2)
    await _until(lambda: len(handler.started) == 2)
    for _ in range(20):
        await asyncio.sleep(0)
    assert handler.started == ["d-0", "d-1"]

    handler.finish("d-0")
    await _until(lambda: len(handler.started) == 3)
    assert stream.acked == [0]
    runner.cancel()


async def test_stopping_leaves_what_is_in_flight_unacked() -> None:
    """A worker stopping (the agent cancelled) acks only what finished in order; the event in
    flight and the finished one after it stay unacked, so both are delivered again."""
    stream, handler = Stream(), Handling()
    for offset, key in ((5, "d-a"), (6, "d-b"), (7, "d-c")):
        stream.put(offset, key)
    runner = await _run(stream, handler, limit=4)
    await _until(lambda: len(handler.started) == 3)
    handler.finish("d-a")
    handler.finish("d-c")
    await _until(lambda: stream.acked == [5])

    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)

    assert stream.acked == [5]
