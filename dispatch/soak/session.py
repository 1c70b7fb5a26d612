"""One soak against a started Stack: seed the demo team, place the calls while the faults
are injected, wait for the system to settle, and return what was recorded.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from dispatch.demo.scenario import seed
from dispatch.demo.seed import CARERS, CLIENT_PHONES, TEAM_ID
from dispatch.escalation.events import EscalationPolicySet
from dispatch.escalation.policy import EscalationPolicy, EscalationStep
from dispatch.events import new_event
from dispatch.soak.faults import (
    OUTAGE_REQUESTS,
    TWILIO_OUTAGE_S,
    TWILIO_STATUS,
    FaultKind,
    inject_faults,
    plan_faults,
)
from dispatch.soak.load import Caller, CallerBook, LoadPlan, run_load
from dispatch.soak.observe import Observer, supervisor_restarts
from dispatch.soak.report import SoakFacts
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox_phones import SandboxPhones

# One first step longer than any soak: every page a soak sees is a first page (step 0).
LONGEST_STEP_S = 3600
SOAK_POLICY = EscalationPolicy(
    steps=(EscalationStep(targets=("primary",), ack_timeout_s=LONGEST_STEP_S),),
    rounds=1,
    exhausted_repeat_s=LONGEST_STEP_S,
)


@dataclass(frozen=True)
class SoakOptions:
    minutes: float
    rate: float
    faults: tuple[FaultKind, ...] = ()
    seed: int = 1
    settle_s: float = 120.0


async def prepare(stack: Stack) -> None:
    """The demo team, with a policy whose first step outlasts the soak."""
    now = stack.clock.now()
    await seed(stack, now)
    policy = EscalationPolicySet(team_id=TEAM_ID, policy=SOAK_POLICY)
    await stack.publisher.publish(
        [new_event(policy, key=TEAM_ID, occurred_at=now, recorded_at=now, actor="soak")]
    )
    await stack.projector.wait_until_caught_up(timeout=30)


class StackTargets:
    """The Stack's live processes by PID, and the sandbox's REST faults."""

    def __init__(self, stack: Stack, phones: SandboxPhones) -> None:
        self._stack, self._phones = stack, phones

    def pid_of(self, kind: FaultKind) -> int | None:
        return live_pid(self._stack, kind)

    async def twilio_outage(self, *, in_doubt: bool) -> None:
        await self._phones.inject_fault(TWILIO_STATUS, count=OUTAGE_REQUESTS, record=in_doubt)

    async def twilio_recovered(self) -> None:
        await self._phones.clear_faults()


def live_pid(stack: Stack, kind: FaultKind) -> int | None:
    """The PID of the stack's live worker (the newest), broker or PostgreSQL, else None."""
    if kind == "worker":
        live = [w.pid for w in getattr(stack, "workers", []) if _alive(w.pid)]
        return live[-1] if live else None
    try:
        found: int = getattr(stack, kind).pid  # stack.broker / stack.postgres, when embedded
    except Exception:  # not embedded, or not running
        return None
    return found if _alive(found) else None


def stack_pids(stack: Stack) -> list[int]:
    """Every live child process of the stack (to kill them if the Stack cannot stop)."""
    found = [live_pid(stack, "broker"), live_pid(stack, "postgres")]
    found += [w.pid for w in getattr(stack, "workers", []) if _alive(w.pid)]
    return [pid for pid in found if pid is not None]


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


async def run_soak(stack: Stack, options: SoakOptions, say: Callable[[str], None]) -> SoakFacts:
    """Place the calls, inject the faults, settle; the facts the report is made of."""
    s = stack.settings
    phones = SandboxPhones(s.twilio_api_base_url)
    plan = LoadPlan(rate=options.rate, duration_s=options.minutes * 60, seed=options.seed)
    faults = plan_faults(options.faults, plan.duration_s, options.seed)
    say(f"Placing {plan.total} calls in {plan.duration_s:.0f} s, {plan.rate:g}/s, seed {plan.seed}")
    for fault in faults:
        say(f"  fault planned at {fault.at_s:5.1f} s: {fault.describe()}")
    callers = CallerBook(
        list(CLIENT_PHONES.values()),
        [phone for phone, _ in CARERS.values()],
        random.Random(options.seed + 1),
    )

    async def ring(caller: Caller, call_sid: str) -> tuple[int, str]:
        return await phones.place_call(caller.number, s.crisis_line_number, call_sid=call_sid)

    injector = asyncio.create_task(
        inject_faults(faults, StackTargets(stack, phones), started=time.monotonic())
    )
    try:
        calls = await run_load(plan, ring, callers)
        say(f"{len(calls)} calls placed; waiting up to {options.settle_s:.0f} s to settle")
        async with asyncio.timeout(TWILIO_OUTAGE_S[1] + 30):
            injected = await injector
        observer = Observer(phones, stack.read_models, TEAM_ID)
        seen = await observer.settle([c.code for c in calls], timeout_s=options.settle_s)
    finally:
        injector.cancel()  # a no-op once it has finished; else it clears any outage first
        await asyncio.gather(injector, return_exceptions=True)
        await phones.close()
    return SoakFacts(
        calls=tuple(calls),
        dispatch_codes=seen.dispatch_codes,
        read_model_error=seen.read_model_error,
        pages=seen.pages,
        observed_at=seen.observed_at,
        restarts=supervisor_restarts(stack),
        faults=tuple(injected),
    )
