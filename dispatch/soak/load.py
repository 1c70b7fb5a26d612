"""The load of a soak: crisis calls at a steady rate until a deadline, never more in flight
than a bound, each call waited for no longer than Twilio waits for a webhook's answer.

Each call gets its own CallSid from a seeded generator, so a run is reproducible and the
dispatch code a call must produce is known before it rings (`expected_code`).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from dispatch.crisis.codes import short_code
from dispatch.events import derived_id
from dispatch.vocabulary import CallerKind

ANSWER_TIMEOUT_S = 15.0  # what Twilio waits for a voice webhook before giving up
MAX_IN_FLIGHT = 64


class Caller(NamedTuple):
    """Who rings the crisis line: a number and what the team knows it as."""

    number: str
    kind: CallerKind


class Answer(NamedTuple):
    """The voice webhook's answer as the caller's phone got it."""

    status: int | None  # HTTP status; None when no answer came (error or timeout)
    body: str  # the TwiML, or what went wrong


@dataclass(frozen=True)
class PlacedCall:
    call_sid: str
    code: str  # the dispatch code this call must produce
    caller: Caller
    placed_at: float  # wall clock (epoch seconds) just before the ring
    answer: Answer


@dataclass(frozen=True)
class LoadPlan:
    rate: float  # calls per second
    duration_s: float
    seed: int
    max_in_flight: int = MAX_IN_FLIGHT
    answer_timeout_s: float = ANSWER_TIMEOUT_S

    @property
    def total(self) -> int:
        """How many calls the load places: one every 1/rate seconds before the deadline."""
        return math.ceil(self.duration_s * self.rate - 1e-9)


def expected_code(call_sid: str) -> str:
    """The code of the dispatch a call opens: the webhook derives the event id from the
    CallSid (dispatch/web/calls.py), the dispatch agent the dispatch id from that event
    id (dispatch/crisis/decide.py), and the code comes from the dispatch id."""
    return short_code(derived_id("dispatch", derived_id("twilio-call", call_sid)))


class CallerBook:
    """Who calls: a client or a carer of the seeded team, or a number nobody knows."""

    def __init__(self, clients: Sequence[str], carers: Sequence[str], rng: random.Random):
        self._choices = [
            *(Caller(n, "client") for n in clients),
            *(Caller(n, "carer") for n in carers),
        ]
        self._rng = rng

    def next(self) -> Caller:
        if self._rng.random() < 0.2:
            return Caller(f"+1555090{self._rng.randrange(10_000):04d}", "unknown")
        return self._rng.choice(self._choices)


Ring = Callable[[Caller, str], Awaitable[tuple[int, str]]]
"""Place one call: (caller, CallSid) -> the webhook's (HTTP status, body)."""


async def run_load(
    plan: LoadPlan,
    ring: Ring,
    callers: CallerBook,
    *,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> list[PlacedCall]:
    """Place `plan.total` calls, call i at i/rate seconds after the start; returns them all
    once the last one is answered (or timed out)."""
    rng = random.Random(plan.seed)
    in_flight = asyncio.Semaphore(plan.max_in_flight)
    started = clock()
    tasks: list[asyncio.Task[PlacedCall]] = []
    try:
        for i in range(plan.total):
            await sleep(max(0.0, started + i / plan.rate - clock()))
            await in_flight.acquire()
            sid = f"CA{rng.getrandbits(128):032x}"
            task = asyncio.create_task(_call(plan, ring, callers.next(), sid, wall))
            task.add_done_callback(lambda _: in_flight.release())
            tasks.append(task)
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()


async def _call(
    plan: LoadPlan, ring: Ring, caller: Caller, sid: str, wall: Callable[[], float]
) -> PlacedCall:
    placed_at = wall()
    try:
        async with asyncio.timeout(plan.answer_timeout_s):
            status, body = await ring(caller, sid)
        answer = Answer(status, body)
    except TimeoutError:
        answer = Answer(None, f"TimeoutError: no answer within {plan.answer_timeout_s:g} s")
    except Exception as exc:  # the caller's phone sees a failed call, whatever the cause
        answer = Answer(None, f"{type(exc).__name__}: {exc}"[:200])
    return PlacedCall(sid, expected_code(sid), caller, placed_at, answer)
