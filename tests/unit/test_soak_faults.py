"""The soak's fault plan is reproducible from its seed, and the injector hits what it names."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
from collections.abc import Iterator

import pytest

from dispatch.soak.faults import (
    FAULT_KINDS,
    FaultKind,
    PlannedFault,
    inject_faults,
    parse_kinds,
    plan_faults,
)
from tests.unit.soak_clock import FakeClock


def test_the_same_seed_gives_the_same_plan_whatever_the_order() -> None:
    """--seed replays a run: same faults at the same moments; another seed moves them."""
    one = plan_faults(("twilio", "worker", "postgres"), 300.0, seed=7)
    assert one == plan_faults(("postgres", "worker", "twilio"), 300.0, seed=7)
    assert one != plan_faults(("twilio", "worker", "postgres"), 300.0, seed=8)


@pytest.mark.parametrize(("duration_s", "each"), [(15.0, 1), (120.0, 1), (121.0, 2), (300.0, 3)])
def test_each_named_fault_once_per_started_two_minutes_inside_the_window(
    duration_s: float, each: int
) -> None:
    """Every named fault, and only those, lands between 10% and 80% of the load."""
    plan = plan_faults(FAULT_KINDS, duration_s, seed=3)
    for kind in FAULT_KINDS:
        assert sum(1 for f in plan if f.kind == kind) == each
    assert all(0.1 * duration_s <= f.at_s <= 0.8 * duration_s for f in plan)
    assert [f.at_s for f in plan] == sorted(f.at_s for f in plan)
    assert {f.kind for f in plan_faults(("broker",), duration_s, seed=3)} == {"broker"}


@pytest.mark.parametrize("seed", range(20))
def test_twilio_outages_last_30_to_60_s_and_never_overlap(seed: int) -> None:
    """Each outage answers 500 for 30-60 s; the next one starts after it ended."""
    outages = [f for f in plan_faults(("twilio",), 300.0, seed) if f.kind == "twilio"]
    assert all(30.0 <= f.outage_s <= 60.0 for f in outages)
    for before, after in itertools.pairwise(outages):
        assert before.at_s + before.outage_s <= after.at_s


def test_processes_are_killed_and_postgres_is_killed_or_terminated() -> None:
    """Worker and broker get SIGKILL; PostgreSQL SIGKILL or SIGTERM, both over some seeds."""
    plans = [plan_faults(FAULT_KINDS, 600.0, seed) for seed in range(10)]
    signals = {(f.kind, f.signal) for plan in plans for f in plan if f.kind != "twilio"}
    assert signals == {
        ("worker", "SIGKILL"),
        ("broker", "SIGKILL"),
        ("postgres", "SIGKILL"),
        ("postgres", "SIGTERM"),
    }


def test_fault_names_are_checked() -> None:
    """A misspelt fault is refused by name; the list is read in a fixed order."""
    assert parse_kinds("twilio, worker") == ("worker", "twilio")
    assert parse_kinds("") == ()
    with pytest.raises(ValueError, match="'kafka'"):
        parse_kinds("worker,kafka")


class Targets:
    """A real child process to kill, and a record of the sandbox outages."""

    def __init__(self, clock: FakeClock, pids: dict[FaultKind, int]) -> None:
        self.clock, self.pids = clock, pids
        self.outages: list[tuple[str, float]] = []

    def pid_of(self, kind: FaultKind) -> int | None:
        return self.pids.get(kind)

    async def twilio_outage(self, *, in_doubt: bool) -> None:
        self.outages.append(("500 in doubt" if in_doubt else "500", self.clock.now))

    async def twilio_recovered(self) -> None:
        self.outages.append(("recovered", self.clock.now))


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    """A process of this test's own, stopped by PID afterwards."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


async def test_the_injector_kills_by_pid_and_clears_outages_after_their_length(
    child: subprocess.Popen[bytes],
) -> None:
    """SIGKILL reaches the named process; a missing one is skipped; an outage is cleared."""
    clock = FakeClock()
    targets = Targets(clock, {"worker": child.pid})
    plan = (
        PlannedFault(at_s=5.0, kind="worker", signal="SIGKILL"),
        PlannedFault(at_s=6.0, kind="twilio", outage_s=40.0, in_doubt=True),
        PlannedFault(at_s=9.0, kind="broker", signal="SIGKILL"),
    )
    done = await inject_faults(plan, targets, started=100.0, clock=clock, sleep=clock.sleep)
    assert await asyncio.to_thread(child.wait, 10) == -9
    assert [(d.detail, d.injected) for d in done] == [
        (f"SIGKILL worker pid {child.pid}", True),
        ("twilio REST 500 for 40 s, in doubt (recorded, then 500)", True),
        ("skipped: no live broker", False),
    ]
    assert [round(d.at_s, 3) for d in done] == [5.0, 6.0, 9.0]
    assert targets.outages[0] == ("500 in doubt", 106.0)
    assert targets.outages[1:] == [("recovered", 146.0)]
