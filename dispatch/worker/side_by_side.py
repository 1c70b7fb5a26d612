"""Several events of one agent handled side by side, acked strictly in the order read.

faust's own `concurrency=N` lets an agent's actors ack events out of order, and its
consumer then commits past an event still being handled: with offsets 10 (in flight) and
11 (acked) after a commit at 10, it commits 12, so a crash before 10 is finished loses it
(faust/transport/consumer.py `_new_offset` lets one missing offset at the head through,
and any number when nothing was committed yet in this process). A page or a crisis call
must never be lost that way. So an agent that needs to wait on slow I/O for several events
at once reads them in one actor, hands each to a task (at most `limit` at a time) and acks
an event only when it and every event read before it are handled: the committed offset
never passes an event in flight, and a crash redelivers it (decision 031).

Order per key is the handler's to keep (KeyedTurns): the tasks start in the order the
events were read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

from dispatch.worker.batches import InFlight
from dispatch.worker.guard import AgentGuard, Delivery, Handler


class OrderedAcks:
    """Events in the order they were read, each acked once it and all before it are done."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._window: deque[tuple[Any, asyncio.Future[None]]] = deque()
        self._ready = asyncio.Event()

    def add(self, event: Any, done: asyncio.Future[None]) -> None:
        self._window.append((event, done))
        done.add_done_callback(lambda _: self._ready.set())

    async def ack_done(self) -> None:
        """Ack the finished events at the head of the window, in order."""
        while self._window and self._window[0][1].done():
            event, done = self._window.popleft()
            if done.cancelled() or done.exception() is not None:
                raise RuntimeError("an event's handling did not finish: it is not acked")
            await self._stream.ack(event)

    async def run(self) -> None:
        """Ack finished events as they finish (until cancelled)."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            await self.ack_done()


async def run_side_by_side(
    stream: Any, guard: AgentGuard, in_flight: InFlight, handler: Handler, *, limit: int
) -> None:
    """An agent's loop: up to `limit` events handled at once under the guard, acked in the
    order they were read. On cancellation (the worker stops, or a rebalance), what is in
    flight is cancelled and left unacked: it is delivered again."""
    slots = asyncio.Semaphore(limit)
    acks = OrderedAcks(stream)
    tasks: set[asyncio.Task[None]] = set()

    async def handle(event: Any) -> None:
        try:
            async with in_flight.busy():
                await guard.handle(Delivery.of(event), handler)
        finally:
            slots.release()

    acker = asyncio.create_task(acks.run())
    try:
        async for event in stream.noack().events():
            await slots.acquire()
            task = asyncio.create_task(handle(event))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            acks.add(event, task)
            if acker.done():
                acker.result()  # the acker failed: stop here rather than read on unacked
    finally:
        for task in (*tasks, acker):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, RuntimeError):
            await asyncio.gather(*tasks, acker, return_exceptions=True)
