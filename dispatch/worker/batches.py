"""Batches of events under an agent's guard, and what a stopping worker waits for.

A reader that takes its events in batches (the risk agent, dispatch/worker/batch_reader.py)
folds a batch in memory, appends the batch's outputs and waits for the broker to ack them
all, and only then commits the batch's offsets. Nothing is committed before it is handled,
so a crash at any point redelivers the batch; its outputs carry ids derived from their
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
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import structlog

from dispatch.settings import Settings
from dispatch.worker.guard import (
    AgentGuard,
    Delivery,
    Handler,
    RetryWaits,
    Undecodable,
    classify,
)

log = structlog.get_logger(__name__)
BatchHandler = Callable[[Sequence[Delivery]], Awaitable[None]]
DRAIN_S = 5.0  # a stopping worker (or a revoked reader) waits this long at most for its batches
SingleHandler = Callable[[Delivery], Handler]  # the per-event handler for one delivery


def drain_time(settings: Settings) -> float:
    """How long to wait for the batches in hand: DRAIN_S, and within a rebalance (the group
    gives up on a member after its session timeout)."""
    return min(DRAIN_S, settings.broker_session_timeout_s * 0.8)


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
        return await set_within(self._idle, timeout_s)


async def set_within(event: asyncio.Event, timeout_s: float) -> bool:
    """Is `event` set, or set within `timeout_s`?"""
    try:
        await asyncio.wait_for(event.wait(), timeout_s)
    except TimeoutError:
        return False
    return True


async def retried(
    guard: AgentGuard, attempt: Callable[[], Awaitable[None]], *, what: str, events: int
) -> None:
    """Run `attempt` until it succeeds: a transient failure is retried after the guard's
    backoff (one warning per `log_every_s`); any other failure is raised."""
    waits = RetryWaits(guard, "agent_retrying", work=what, events=events)
    while True:
        try:
            await attempt()
        except Exception as exc:
            if classify(exc) != "transient":
                raise
            await waits.after(exc)
            continue
        if waits.attempts:
            log.info("agent_recovered", agent=guard.agent, work=what, attempts=waits.attempts)
        return


async def handle_batch(
    guard: AgentGuard,
    deliveries: Sequence[Delivery],
    batch: BatchHandler,
    single: SingleHandler,
) -> None:
    """Handle a batch in one go; retry it while the failure is transient; otherwise let the
    guard handle its events one by one (and dead-letter a poison event alone)."""
    if not deliveries:
        return
    if not any(isinstance(d.value, Undecodable) for d in deliveries):
        try:
            await retried(guard, lambda: batch(deliveries), what="batch", events=len(deliveries))
            return
        except Exception as exc:
            log.warning(
                "agent_batch_split",
                agent=guard.agent,
                events=len(deliveries),
                error=repr(exc)[:500],
            )
    for delivery in deliveries:  # one at a time: the guard's per-event rules
        await guard.handle(delivery, single(delivery))


async def run_events(stream: Any, guard: AgentGuard, in_flight: InFlight, handler: Handler) -> None:
    """An agent's loop one event at a time (faust acks an event when the next is asked for,
    right after its handler returned)."""
    async for message in stream.events():
        async with in_flight.busy():
            await guard.handle(Delivery.of(message), handler)
