"""The soak's load: calls at the asked rate until the deadline, bounded, each one answered."""

from __future__ import annotations

import asyncio
import random

from dispatch.soak.load import Caller, CallerBook, LoadPlan, expected_code, run_load
from tests.unit.soak_clock import FakeClock

CLIENTS = ("+15550200001", "+15550200002")
CARERS = ("+15550300003",)


def book(seed: int = 1) -> CallerBook:
    return CallerBook(CLIENTS, CARERS, random.Random(seed))


def test_the_number_of_calls_is_the_rate_times_the_duration() -> None:
    """15 s at 2/s is 30 calls; 1 s at 2.5/s is 3 (at 0, 0.4 and 0.8 s)."""
    assert LoadPlan(rate=2, duration_s=15, seed=1).total == 30
    assert LoadPlan(rate=2.5, duration_s=1, seed=1).total == 3
    assert LoadPlan(rate=0.1, duration_s=3, seed=1).total == 1


async def test_calls_ring_at_a_steady_rate_and_each_knows_its_dispatch_code() -> None:
    """Call i rings i/rate seconds after the start, with a CallSid of its own."""
    clock = FakeClock()
    rang: list[tuple[float, str]] = []

    async def ring(caller: Caller, sid: str) -> tuple[int, str]:
        rang.append((clock.now, sid))
        return 200, "<Response><Dial>+15550100001</Dial></Response>"

    plan = LoadPlan(rate=4, duration_s=2, seed=5)
    calls = await run_load(plan, ring, book(), clock=clock, wall=clock, sleep=clock.sleep)
    assert [round(at - 100.0, 3) for at, _ in rang] == [i / 4 for i in range(8)]
    assert [c.placed_at for c in calls] == [at for at, _ in rang]
    assert len({c.call_sid for c in calls}) == 8
    assert all(c.code == expected_code(c.call_sid) and c.answer.status == 200 for c in calls)
    again = await run_load(plan, ring, book(), clock=clock, wall=clock, sleep=clock.sleep)
    assert [c.call_sid for c in again] == [c.call_sid for c in calls]  # --seed replays


async def test_failed_and_unanswered_calls_are_recorded_not_raised() -> None:
    """A ring that fails or never answers is a call with no answer, and the load goes on."""

    async def ring(caller: Caller, sid: str) -> tuple[int, str]:
        if caller.kind == "unknown":
            raise ConnectionRefusedError("connection refused")
        await asyncio.Event().wait()  # never answers
        raise AssertionError("unreachable")

    plan = LoadPlan(rate=200, duration_s=0.1, seed=1, answer_timeout_s=0.05)
    calls = await run_load(plan, ring, book(2))
    assert len(calls) == 20
    reasons = {c.answer.body.split(":")[0] for c in calls}
    assert reasons == {"ConnectionRefusedError", "TimeoutError"}
    assert all(c.answer.status is None for c in calls)


async def test_no_more_calls_in_flight_than_the_bound() -> None:
    """Slow answers hold back new rings rather than piling up without limit."""
    in_flight, most = 0, 0

    async def ring(caller: Caller, sid: str) -> tuple[int, str]:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return 200, "<Dial>"

    plan = LoadPlan(rate=500, duration_s=0.04, seed=1, max_in_flight=3)
    calls = await run_load(plan, ring, book())
    assert len(calls) == 20 and most == 3


def test_callers_are_clients_carers_and_unknown_numbers() -> None:
    """About one call in five comes from a number nobody knows; the rest from the team's."""
    callers = _many(book(3), 500)
    kinds = {c.kind for c in callers}
    unknown = sum(1 for c in callers if c.kind == "unknown")
    assert kinds == {"client", "carer", "unknown"}
    assert 50 < unknown < 150
    known = {c.number for c in callers if c.kind != "unknown"}
    assert known == set(CLIENTS) | set(CARERS)


def _many(callers: CallerBook, n: int) -> list[Caller]:
    return [callers.next() for _ in range(n)]
