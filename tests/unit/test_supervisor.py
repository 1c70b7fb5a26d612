"""The supervisor's decisions: what it restarts, in which order, how often, and what it logs.

The children here are stand-ins whose death the test decides; the real processes are in
tests/e2e/test_supervisor_faults.py.
"""

from __future__ import annotations

from structlog.testing import capture_logs

from dispatch.clock import SystemClock
from dispatch.stack.supervisor import Backoff, Supervisor


class Child:
    """A child process the test kills and the plans restart."""

    def __init__(self, name: str, pid: int, steps: list[str]) -> None:
        self.name, self.pid, self.steps = name, pid, steps
        self.alive, self.exit_code = True, None
        self.failures = 0  # restarts that fail before one works

    @property
    def last_pid(self) -> int:
        return self.pid

    def die(self, code: int = -9) -> None:
        self.alive, self.exit_code = False, code

    async def restart(self) -> None:
        self.steps.append(f"restart {self.name}")
        if self.failures:
            self.failures -= 1
            raise RuntimeError(f"{self.name} would not start")
        self.pid += 100
        self.alive, self.exit_code = True, None


class Stack:
    """The surface of dispatch.stack.runtime.Stack the recovery plans use."""

    def __init__(self) -> None:
        self.clock = SystemClock()
        self.steps: list[str] = []
        self.postgres = Child("postgres", 10, self.steps)
        self.broker = Child("broker", 20, self.steps)
        self.workers = [Child("worker-0", 30, self.steps)]

    def supervised(self) -> list[tuple[str, Child]]:
        return [("postgres", self.postgres), ("broker", self.broker)] + [
            (w.name, w) for w in self.workers
        ]

    async def park_clients(self) -> None:
        self.steps.append("park clients")

    async def restore_broker(self) -> None:
        self.steps.append("restore archive")

    async def start_projector(self) -> None:
        self.steps.append("start projector")

    def resume_producers(self) -> None:
        self.steps.append("resume producers")

    async def replace_workers(self, *, only: str | None = None) -> list[tuple[str, int, int]]:
        out = []
        for worker in self.workers:
            if only in (None, worker.name):
                old = worker.pid
                await worker.restart()
                out.append((worker.name, old, worker.pid))
        return out

    def record_children(self) -> None:
        self.steps.append("record children")


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def supervisor(stack: Stack, clock: Clock) -> Supervisor:
    return Supervisor(
        stack, backoff=Backoff(first_s=1.0, max_s=8.0, stable_s=60.0), monotonic=clock
    )


async def test_a_dead_worker_is_restarted_once_and_logged_once() -> None:
    """A killed worker comes back with a new PID; its death and its restart are one line each."""
    stack, clock = Stack(), Clock()
    sup = supervisor(stack, clock)
    stack.workers[0].die()
    with capture_logs() as logs:
        await sup.check()
        await sup.check()  # nothing more to do
    assert [(e["event"], e["component"]) for e in logs] == [
        ("component_died", "worker-0"),
        ("component_restarted", "worker-0"),
    ]
    restarted = logs[1]
    assert {k: restarted[k] for k in ("pid", "old_pid", "reason", "attempt")} == {
        "pid": 130,
        "old_pid": 30,
        "reason": "exited with SIGKILL",
        "attempt": 1,
    }
    status = sup.status().component("worker-0")
    assert status is not None and status.up and status.restarts == 1 and status.pid == 130
    assert status.last_reason == "exited with SIGKILL" and status.last_restart_at is not None


async def test_a_dead_broker_is_recovered_in_the_order_its_clients_need() -> None:
    """Clients parked, broker restarted, archive restored, projector, workers, then producers."""
    stack, clock = Stack(), Clock()
    sup = supervisor(stack, clock)
    stack.broker.die()
    with capture_logs() as logs:
        await sup.check()
    assert stack.steps == [
        "park clients",
        "restart broker",
        "restore archive",
        "start projector",
        "restart worker-0",
        "resume producers",
        "record children",
    ]
    assert [(e["component"], e["reason"]) for e in logs if e["event"] == "component_restarted"] == [
        ("broker", "exited with SIGKILL"),
        ("worker-0", "broker restarted"),
    ]


async def test_postgres_comes_back_before_anything_that_needs_it() -> None:
    """With PostgreSQL and a worker both dead, PostgreSQL is restarted first, then the workers."""
    stack, clock = Stack(), Clock()
    sup = supervisor(stack, clock)
    stack.workers[0].die()
    stack.postgres.die(code=1)
    await sup.check()
    assert stack.steps[:2] == ["restart postgres", "restart worker-0"]
    status = sup.status()
    assert status.down == ()
    worker = status.component("worker-0")
    assert (
        worker is not None and worker.restarts == 1 and worker.last_reason == "postgres restarted"
    )


async def test_a_failing_restart_is_retried_with_growing_waits() -> None:
    """Each failed attempt is logged once with its wait; nothing is tried before the wait ends."""
    stack, clock = Stack(), Clock()
    sup = supervisor(stack, clock)
    stack.postgres.failures = 2
    stack.postgres.die()
    with capture_logs() as logs:
        await sup.check()  # attempt 1 fails: wait 1 s
        await sup.check()  # too early: nothing
        clock.t += 1.0
        await sup.check()  # attempt 2 fails: wait 2 s
        clock.t += 1.0
        await sup.check()  # too early
        assert sup.status().component("postgres").failed_attempts == 2
        assert sup.status().down == ("postgres",)
        clock.t += 1.0
        await sup.check()  # attempt 3 works
    failed = [
        (e["attempt"], e["retry_in_s"]) for e in logs if e["event"] == "component_restart_failed"
    ]
    assert failed == [(1, 1.0), (2, 2.0)]
    assert stack.steps.count("restart postgres") == 3
    assert [e["attempt"] for e in logs if e["event"] == "component_restarted"] == [3, 1]


async def test_a_child_dying_again_soon_after_its_restart_waits_before_the_next() -> None:
    """A crash loop backs off (1 s, 2 s, ...); a child that stayed up a while restarts at once."""
    stack, clock = Stack(), Clock()
    sup = supervisor(stack, clock)
    worker = stack.workers[0]
    worker.die()
    await sup.check()
    assert worker.alive
    clock.t += 5.0  # dies again 5 s after its restart
    worker.die()
    await sup.check()
    assert not worker.alive, "restarted without waiting"
    clock.t += 1.0
    await sup.check()
    assert worker.alive
    clock.t += 120.0  # up for two minutes: the next death is a first one again
    worker.die()
    await sup.check()
    assert worker.alive


def test_backoff_doubles_up_to_its_ceiling() -> None:
    """Waits between attempts: none first, then 1, 2, 4 ... seconds, never above the ceiling."""
    backoff = Backoff(first_s=1.0, max_s=30.0)
    assert [backoff.delay(n) for n in range(8)] == [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


async def test_a_plan_that_failed_half_way_is_finished_without_redoing_its_start() -> None:
    """PostgreSQL came back but its workers did not: PostgreSQL counts as up, the next
    attempt restarts only the workers, and both end up up, each restarted once."""
    stack, clock = Stack(), Clock()
    sup = supervisor(stack, clock)
    stack.workers[0].failures = 1
    stack.postgres.die()
    await sup.check()
    assert sup.status().down == ("worker-0",)
    clock.t += 1.0
    await sup.check()
    assert stack.steps.count("restart postgres") == 1
    assert stack.steps.count("restart worker-0") == 2
    status = sup.status()
    assert status.down == ()
    assert [(c.name, c.restarts) for c in status.components] == [
        ("postgres", 1),
        ("broker", 0),
        ("worker-0", 1),
    ]


async def test_a_broker_that_dies_while_postgres_recovers_is_recovered_before_the_workers() -> None:
    """PostgreSQL is back, but the broker died before its workers could start (they need it):
    the broker is recovered next (its plan starts the workers), not PostgreSQL's plan again
    and again."""
    stack, clock = Stack(), Clock()
    sup = supervisor(stack, clock)
    stack.postgres.die()
    stack.workers[0].failures = 1

    async def broker_dies_meanwhile(*, only: str | None = None) -> list[tuple[str, int, int]]:
        stack.broker.die()
        return await Stack.replace_workers(stack, only=only)

    stack.replace_workers = broker_dies_meanwhile  # type: ignore[method-assign]
    await sup.check()
    stack.replace_workers = lambda **kw: Stack.replace_workers(stack, **kw)  # type: ignore[method-assign]
    assert sup.status().down == ("broker", "worker-0")
    clock.t += 1.0
    await sup.check()
    assert stack.steps.count("restart postgres") == 1
    assert stack.steps.count("restart broker") == 1 and stack.broker.alive
    assert sup.status().down == ()
    assert [(c.name, c.restarts) for c in sup.status().components] == [
        ("postgres", 1),
        ("broker", 1),
        ("worker-0", 1),
    ]
