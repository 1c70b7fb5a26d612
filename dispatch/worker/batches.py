"""Batches of events under the agents' guard, acked only once their outputs are acked.

The client-events topic is read by one agent, in batches that never wait to fill
(`ready_batches`): each batch goes to the crisis-contact step (one event at a time, at
once) and to the risk step, which folds the batch in memory, appends its outputs and waits
for the broker to ack them all; only then are the batch's events acked, which lets faust
commit their offsets (decisions 022, 029). Nothing is acked before it is handled, so a
crash at any point redelivers the batch; its outputs carry ids derived from their
triggers, so re-appended outputs are deduplicated downstream.

Failures keep AgentGuard's rules: a transient failure retries the whole batch in place
(with the guard's backoff); any other failure, or an undecodable message in the batch,
hands the batch to the guard one event at a time, which dead-letters the poison event
alone and handles the rest in order.

`InFlight` counts the batches and events being handled, so that a stopping worker can
wait for them to finish (and be acked) before it commits its offsets (decision 022).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any

import structlog
from faust.streams import _current_event

from dispatch.worker.guard import AgentGuard, Delivery, Handler, Undecodable, classify

log = structlog.get_logger(__name__)
BatchHandler = Callable[[Sequence[Delivery]], Awaitable[None]]
SingleHandler = Callable[[Delivery], Handler]  # the per-event handler for one delivery
BATCH_MAX = 1000  # events of one batch at most (a crisis contact behind a full batch waits for it)


@contextlib.contextmanager
def handling(event: Any) -> Iterator[None]:
    """Make `event` faust's current event (a table write goes to its partition's changelog)
    while a batch writes the state that event left; a batch has no current event of its
    own."""
    token = _current_event.set(weakref.ref(event) if event is not None else None)
    try:
        yield
    finally:
        _current_event.reset(token)


class InFlight:
    """Counts what the agents are handling now; `idle()` waits until nothing is."""

    def __init__(self) -> None:
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.asynccontextmanager
    async def busy(self) -> AsyncIterator[None]:
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()

    @property
    def count(self) -> int:
        return self._busy

    async def idle(self, timeout_s: float) -> bool:
        """True when nothing was in flight within timeout_s."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            return False
        return True


async def handle_batch(
    guard: AgentGuard,
    deliveries: Sequence[Delivery],
    batch: BatchHandler,
    single: SingleHandler,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Handle a batch in one go; retry it while the failure is transient; otherwise let the
    guard handle its events one by one (and dead-letter a poison event alone)."""
    if not deliveries:
        return
    if not any(isinstance(d.value, Undecodable) for d in deliveries):
        attempt = 0
        last_log = float("-inf")
        while True:
            try:
                await batch(deliveries)
                if attempt:
                    log.info("agent_batch_recovered", agent=guard.agent, attempts=attempt)
                return
            except Exception as exc:
                if classify(exc) != "transient":
                    log.warning(
                        "agent_batch_split",
                        agent=guard.agent,
                        events=len(deliveries),
                        error=repr(exc)[:500],
                    )
                    break
                attempt += 1
                wait = guard.backoff(attempt)
                if time.monotonic() - last_log >= guard.log_every_s:
                    last_log = time.monotonic()
                    log.warning(
                        "agent_batch_retrying",
                        agent=guard.agent,
                        events=len(deliveries),
                        attempts=attempt,
                        error=repr(exc)[:500],
                        retry_in_s=round(wait, 3),
                    )
                await sleep(wait)
    for delivery in deliveries:  # one at a time: the guard's per-event rules
        await guard.handle(delivery, single(delivery))


Step = Callable[[Sequence[Delivery]], Awaitable[None]]  # one reader's part of a batch


async def ready_batches(stream: Any, size: int = BATCH_MAX) -> AsyncIterator[list[Any]]:
    """The stream's events in batches that never wait to fill: the first event is handed
    over at once, and whatever arrived while a batch was being handled (at most `size`)
    is the next batch. Nothing is acked here (faust's `noack_take` pattern, without its
    timer: a crisis contact must not wait for a batch to fill)."""
    buffer: list[Any] = []
    ready = asyncio.Event()
    room = asyncio.Event()
    room.set()

    async def add(value: Any) -> Any:  # runs in the stream's passive drainer, in order
        while len(buffer) >= size:
            room.clear()
            await room.wait()
        buffer.append(stream.current_event)
        ready.set()
        return value

    stream.enable_acks = False  # acked by the caller, after the batch is handled
    stream.add_processor(add)
    stream._enable_passive(aiter(stream.channel))
    while not stream.should_stop:
        await stream.wait_for_stopped(ready)
        if buffer:
            batch = list(buffer)
            buffer.clear()
            ready.clear()
            room.set()
            yield batch


async def run_steps(stream: Any, in_flight: InFlight, steps: Sequence[Step]) -> None:
    """One agent per topic: a single stream reads the topic once and hands each batch to
    every reader's step in turn (the crisis contacts first, then the risk fold); the
    batch's events are acked when every step is done. Several agents on one topic each
    had their own stream, and faust acks a message only when every stream has: the
    slowest one paced the others (decision 029)."""
    async for events in ready_batches(stream):
        async with in_flight.busy():
            deliveries = [Delivery.of(e) for e in events]
            for step in steps:
                await step(deliveries)
            for event in events:
                await stream.ack(event)


async def run_events(stream: Any, guard: AgentGuard, in_flight: InFlight, handler: Handler) -> None:
    """An agent's loop one event at a time (faust acks an event when the next is asked for,
    right after its handler returned)."""
    async for message in stream.events():
        async with in_flight.busy():
            await guard.handle(Delivery.of(message), handler)
