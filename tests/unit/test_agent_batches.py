"""Batches under the agents' guard: an outage retries the batch in place; anything else hands
the batch to the guard one event at a time, so a poison event is dead-lettered alone."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka.errors import KafkaConnectionError

from dispatch.events import Envelope
from dispatch.events.codec import EventDecodeError
from dispatch.worker.batches import InFlight, handle_batch
from dispatch.worker.guard import Delivery, Handler, Undecodable
from tests.unit.test_agent_guard import Clock, DeadLetters, envelope, guard


def deliveries(n: int) -> list[Delivery]:
    return [Delivery("act.client-events", 0, i, b"c-1", envelope()) for i in range(n)]


class Agent:
    """A batch handler that fails as told, and a per-event handler that refuses poison."""

    def __init__(self, batch_errors: list[Exception], poison_offsets: set[int]) -> None:
        self.batch_errors = batch_errors
        self.poison = poison_offsets
        self.batches: list[int] = []
        self.singles: list[int] = []

    async def batch(self, ds: Sequence[Delivery]) -> None:
        if self.batch_errors:
            raise self.batch_errors.pop(0)
        self.batches.append(len(ds))

    def single(self, d: Delivery) -> Handler:
        async def handle(event: Envelope) -> None:
            if d.offset in self.poison:
                raise EventDecodeError("poison")
            self.singles.append(d.offset)

        return handle


async def test_an_outage_retries_the_whole_batch_in_place() -> None:
    sink, clock = DeadLetters(), Clock()
    agent = Agent([KafkaConnectionError("down") for _ in range(5)], set())
    await handle_batch(guard(sink, clock), deliveries(10), agent.batch, agent.single)
    assert agent.batches == [10] and agent.singles == [] and sink.records == []
    assert len(clock.waits) == 5


async def test_a_poison_event_in_a_batch_is_dead_lettered_alone() -> None:
    sink, clock = DeadLetters(), Clock()
    agent = Agent([ValueError("a bad event somewhere")], {4})
    await handle_batch(guard(sink, clock), deliveries(10), agent.batch, agent.single)
    assert agent.singles == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    assert [r["offset"] for r in sink.records] == [4]


async def test_an_undecodable_message_sends_the_batch_one_by_one() -> None:
    sink, clock = DeadLetters(), Clock()
    agent = Agent([], set())
    batch = [*deliveries(3), Delivery("act.client-events", 0, 3, None, Undecodable(b"x", "bad"))]
    await handle_batch(guard(sink, clock), batch, agent.batch, agent.single)
    assert agent.batches == [] and agent.singles == [0, 1, 2]
    assert [r["reason"] for r in sink.records] == ["undecodable"]


async def test_in_flight_is_idle_only_when_nothing_is_handled() -> None:
    in_flight = InFlight()
    assert await in_flight.idle(0.01)
    async with in_flight.busy():
        assert not await in_flight.idle(0.01)
    assert await in_flight.idle(0.01)
