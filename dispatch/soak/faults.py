"""The faults of a soak: a reproducible plan (pure, from a seed) and the injector that runs it.

A plan places each named fault once per started two minutes of load, each occurrence at a
random moment inside its own slot of the load's 10%-80% window, so the same seed always
gives the same plan and occurrences of one kind never overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import signal
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

import structlog

log = structlog.get_logger(__name__)

FaultKind = Literal["worker", "broker", "postgres", "twilio"]
FAULT_KINDS: tuple[FaultKind, ...] = ("worker", "broker", "postgres", "twilio")
Signal = Literal["SIGKILL", "SIGTERM"]
PROCESS_KINDS: frozenset[FaultKind] = frozenset({"worker", "broker", "postgres"})

WINDOW = (0.1, 0.8)  # faults land between 10% and 80% of the load
SLOT_S = 120.0  # one occurrence of each named fault per started two minutes
TWILIO_OUTAGE_S = (30.0, 60.0)
TWILIO_STATUS = 500
OUTAGE_REQUESTS = 1_000_000  # "every create fails" until the outage is cleared


@dataclass(frozen=True)
class PlannedFault:
    """One fault at `at_s` seconds after the load starts."""

    at_s: float
    kind: FaultKind
    signal: Signal | None = None  # the process faults
    outage_s: float = 0.0  # twilio: how long REST answers 500
    in_doubt: bool = False  # twilio: the failing request was recorded first (sent, yet 500)

    def describe(self) -> str:
        if self.kind == "twilio":
            doubt = ", in doubt (recorded, then 500)" if self.in_doubt else ""
            return f"twilio REST {TWILIO_STATUS} for {self.outage_s:.0f} s{doubt}"
        return f"{self.signal} {self.kind}"


def parse_kinds(text: str) -> tuple[FaultKind, ...]:
    """`worker,broker` -> ("worker", "broker"); ValueError naming an unknown fault."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in FAULT_KINDS]
    if unknown:
        raise ValueError(f"unknown fault {unknown[0]!r}; choose from {', '.join(FAULT_KINDS)}")
    return tuple(kind for kind in FAULT_KINDS if kind in names)


def plan_faults(
    kinds: Iterable[FaultKind], duration_s: float, seed: int
) -> tuple[PlannedFault, ...]:
    """The faults of a load of `duration_s` seconds, ordered by time; the same inputs give
    the same plan whatever the order of `kinds`."""
    rng = random.Random(seed)
    wanted = set(kinds)
    per_kind = max(1, math.ceil(duration_s / SLOT_S))
    start, end = WINDOW[0] * duration_s, WINDOW[1] * duration_s
    slot = (end - start) / per_kind
    planned: list[PlannedFault] = []
    for kind in FAULT_KINDS:
        if kind not in wanted:
            continue
        for i in range(per_kind):
            lo = start + i * slot
            if kind == "twilio":
                planned.append(_twilio(rng, lo, slot, several=per_kind > 1))
                continue
            how: Signal = rng.choice(("SIGKILL", "SIGTERM")) if kind == "postgres" else "SIGKILL"
            planned.append(PlannedFault(at_s=lo + rng.uniform(0, slot), kind=kind, signal=how))
    return tuple(sorted(planned, key=lambda fault: (fault.at_s, fault.kind)))


def _twilio(rng: random.Random, lo: float, slot: float, *, several: bool) -> PlannedFault:
    """An outage that ends inside its slot when there are several (they never overlap)."""
    outage = rng.uniform(*TWILIO_OUTAGE_S)
    if several:
        outage = min(outage, slot)
    at = lo + rng.uniform(0, max(0.0, slot - outage))
    return PlannedFault(at_s=at, kind="twilio", outage_s=outage, in_doubt=rng.random() < 0.5)


@dataclass(frozen=True)
class InjectedFault:
    """What happened when a planned fault's moment came."""

    planned: PlannedFault
    at_s: float  # seconds after the load started
    detail: str  # "SIGKILL worker pid 4242", "skipped: no live worker", ...
    injected: bool


class FaultTargets(Protocol):
    """The parts a fault hits: the live PID of a process, the sandbox's REST faults."""

    def pid_of(self, kind: FaultKind) -> int | None: ...

    async def twilio_outage(self, *, in_doubt: bool) -> None: ...

    async def twilio_recovered(self) -> None: ...


async def inject_faults(
    plan: Iterable[PlannedFault],
    targets: FaultTargets,
    *,
    started: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> list[InjectedFault]:
    """Inject each planned fault at its moment (`started` is the load's start on `clock`);
    returns once every Twilio outage has been cleared again."""
    done: list[InjectedFault] = []
    outages: list[asyncio.Task[None]] = []
    try:
        for fault in plan:
            await sleep(max(0.0, started + fault.at_s - clock()))
            at_s = clock() - started
            if fault.kind == "twilio":
                await targets.twilio_outage(in_doubt=fault.in_doubt)
                ends = clock() + fault.outage_s
                outages.append(asyncio.create_task(_recover(targets, ends, clock, sleep)))
                done.append(InjectedFault(fault, at_s, fault.describe(), injected=True))
            else:
                done.append(_signal(fault, targets, at_s))
            log.warning("soak_fault_injected", kind=fault.kind, detail=done[-1].detail)
        await asyncio.gather(*outages)
    finally:
        unfinished = [task for task in outages if not task.done()]
        for task in unfinished:
            task.cancel()
        if unfinished:  # cancelled mid-outage: the sandbox answers normally again
            with contextlib.suppress(Exception):
                await targets.twilio_recovered()
    return done


async def _recover(
    targets: FaultTargets,
    ends: float,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    await sleep(max(0.0, ends - clock()))
    await targets.twilio_recovered()


def _signal(fault: PlannedFault, targets: FaultTargets, at_s: float) -> InjectedFault:
    """Send the fault's signal to the live PID of its process."""
    pid = targets.pid_of(fault.kind)
    if pid is None:
        return InjectedFault(fault, at_s, f"skipped: no live {fault.kind}", injected=False)
    try:
        os.kill(pid, getattr(signal, fault.signal or "SIGKILL"))
    except ProcessLookupError:
        return InjectedFault(fault, at_s, f"skipped: {fault.kind} pid {pid} gone", injected=False)
    return InjectedFault(fault, at_s, f"{fault.signal} {fault.kind} pid {pid}", injected=True)
