"""The supervisor of `dispatch up`: it watches the stack's children and restarts what died.

Watched: the embedded PostgreSQL, the embedded broker and the workers (only the parts the
stack started itself). Every `poll_s` it looks at each child's process; a dead one is
logged once (`component_died`) and recovered by its plan (dispatch/stack/recovery.py), in
this order of priority, since each needs the ones before it: postgres, broker, workers.

- A restart is logged once (`component_restarted`: component, pid, old_pid, reason,
  attempt); a failed attempt once (`component_restart_failed`) with the wait before the
  next one.
- Backoff: a first death is recovered at once; a child that dies again within `stable_s`
  of its restart, or a failed attempt, waits 1, 2, 4 ... up to `max_s` seconds.
- A plan is bounded (`plan_timeout_s`) and can run again from the start after a failure.
- `renew` runs a live child's plan as if it had died: the embedded broker's, when
  dispatch/stack/renewal.py finds a partition filling up in a quiet moment.

`status()` is what the health check reads: a `SupervisorStatus` with one
`ComponentStatus` per child (is it up, its PID, how many times it was restarted, when
last and why).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from dispatch.stack.recovery import (
    Restarted,
    Unfinished,
    recover_broker,
    recover_postgres,
    recover_worker,
)

if TYPE_CHECKING:
    from dispatch.stack.renewal import BrokerRenewal
    from dispatch.stack.runtime import Stack

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ComponentStatus:
    """One supervised child as the supervisor sees it."""

    name: str  # "postgres", "broker", "worker-0", ...
    pid: int | None  # its process now (the dead one's until it is restarted)
    up: bool  # running, and not waiting to be recovered
    restarts: int  # restarts since the stack started
    last_restart_at: datetime | None  # when it was last restarted
    last_reason: str | None  # why: "exited with SIGKILL", "broker restarted", ...
    failed_attempts: int  # restart attempts that failed since it last went down


@dataclass(frozen=True)
class SupervisorStatus:
    """What is up, what was restarted, when, and how many times."""

    supervising: bool  # False: nothing restarts what dies (the stack runs unsupervised)
    restarting: str | None  # the component whose recovery is running now
    components: tuple[ComponentStatus, ...]

    @property
    def down(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.components if not c.up)

    def component(self, name: str) -> ComponentStatus | None:
        return next((c for c in self.components if c.name == name), None)


@dataclass(frozen=True)
class Backoff:
    first_s: float = 1.0
    max_s: float = 30.0
    stable_s: float = 60.0  # up this long after a restart: the next death counts as a first

    def delay(self, streak: int) -> float:
        """Wait before the next attempt after `streak` quick deaths or failed attempts."""
        return 0.0 if streak <= 0 else min(self.first_s * 2 ** (streak - 1), self.max_s)


@dataclass
class _Record:
    restarts: int = 0
    last_restart_at: datetime | None = None
    last_reason: str | None = None
    pending: str | None = None  # why it must be recovered (None: nothing to do)
    attempts: int = 0  # attempts in the current outage
    failures: int = 0  # of which failed
    streak: int = 0  # quick deaths and failed attempts in a row
    next_try: float = 0.0
    up_since: float | None = None


def _stray(exc: BaseException) -> bool:
    """An error to survive: anything but a cancellation of the supervisor's own task (a
    library may let out the CancelledError of a task of its own)."""
    task = asyncio.current_task()
    return not (isinstance(exc, asyncio.CancelledError) and task is not None and task.cancelling())


def exit_reason(code: int | None) -> str:
    if code is None:
        return "not running"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"exited with {signal.Signals(-code).name}"
    return f"exited with {code}"


class Supervisor:
    def __init__(
        self,
        stack: Stack,
        *,
        poll_s: float = 0.25,
        backoff: Backoff | None = None,
        plan_timeout_s: float = 180.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stack = stack
        self._monotonic = monotonic
        self._poll_s = poll_s
        self._backoff = backoff or Backoff()
        self._plan_timeout_s = plan_timeout_s
        self._records: dict[str, _Record] = {}
        self._task: asyncio.Task[None] | None = None
        self._renewals: asyncio.Task[None] | None = None
        self._restarting: str | None = None

    # --- lifecycle -----------------------------------------------------------------------
    def start(self, renewal: BrokerRenewal | None = None) -> None:
        """Watch the children; with `renewal`, also renew the embedded broker when it asks
        (dispatch/stack/renewal.py)."""
        if self._task is None:
            now = self._monotonic()
            for name, _ in self._stack.supervised():
                self._records.setdefault(name, _Record()).up_since = now
            self._task = asyncio.create_task(self._watch(), name="stack-supervisor")
            if renewal is not None:
                self._renewals = asyncio.create_task(
                    self._watch_renewal(renewal), name="broker-renewal"
                )
            log.info("supervisor_started", components=[n for n, _ in self._stack.supervised()])

    async def stop(self) -> None:
        """Stop watching (a recovery in progress is cancelled: the stack stops anyway)."""
        tasks = [t for t in (self._renewals, self._task) if t is not None]
        self._task = self._renewals = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def renew(self, name: str, reason: str) -> bool:
        """Recover a live child by its plan, as if it had died (its restart logged with
        `reason`); False when a recovery is pending or running, which goes first."""
        if self._restarting is not None or any(r.pending for r in self._records.values()):
            return False
        rec = self._records.setdefault(name, _Record())
        rec.pending, rec.attempts, rec.failures = reason, 0, 0
        rec.next_try = self._monotonic()
        log.warning("component_renewal_due", component=name, reason=reason)
        return True

    # --- what the health check reads -----------------------------------------------------
    def restart_counts(self) -> dict[str, int]:
        """Restarts by part since the stack started (/metrics `dispatch_restarts`)."""
        return {name: rec.restarts for name, rec in self._records.items()}

    def status(self) -> SupervisorStatus:
        components = []
        for name, child in self._stack.supervised():
            rec = self._records.get(name) or _Record()
            components.append(
                ComponentStatus(
                    name=name,
                    pid=child.last_pid,
                    up=child.alive and rec.pending is None,
                    restarts=rec.restarts,
                    last_restart_at=rec.last_restart_at,
                    last_reason=rec.last_reason,
                    failed_attempts=rec.failures,
                )
            )
        return SupervisorStatus(
            supervising=self._task is not None and not self._task.done(),
            restarting=self._restarting,
            components=tuple(components),
        )

    # --- the loop ------------------------------------------------------------------------
    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._poll_s)
            try:
                await self.check()
            except (Exception, asyncio.CancelledError) as exc:  # the watcher never stops
                if not _stray(exc):
                    raise
                log.error("supervisor_check_failed", error=repr(exc))

    async def _watch_renewal(self, renewal: BrokerRenewal) -> None:
        """Ask every `every_s`. A run of failed readings (PostgreSQL or the broker down:
        their own alarms say so) is one warning, and one line when the readings work again."""
        failures = 0
        while True:
            await asyncio.sleep(renewal.every_s)
            try:
                reason = await renewal.reason(self._stack.clock.now())
            except (Exception, asyncio.CancelledError) as exc:  # asked again next time
                if not _stray(exc):
                    raise
                failures += 1
                if failures == 1:
                    log.warning("broker_renewal_not_checked", error=repr(exc)[:300])
                continue
            if failures:
                log.info("broker_renewal_checked_again", failed_readings=failures)
                failures = 0
            if reason is not None:
                self.renew("broker", reason)

    async def check(self) -> None:
        """One look at every child; recover the first (by priority) that needs it."""
        now = self._monotonic()
        order = []
        for name, child in self._stack.supervised():
            order.append(name)
            rec = self._records.setdefault(name, _Record(up_since=now))
            if rec.pending is None and not child.alive:
                quick = rec.up_since is not None and now - rec.up_since < self._backoff.stable_s
                rec.streak = rec.streak + 1 if quick and rec.restarts else 0
                reason = exit_reason(child.exit_code)
                if getattr(child, "shutting_down", False):
                    reason = "shutting down (asked by another process)"
                rec.pending, rec.attempts, rec.failures = reason, 0, 0
                rec.next_try = now + self._backoff.delay(rec.streak)
                log.warning(
                    "component_died",
                    component=name,
                    pid=child.last_pid,
                    reason=rec.pending,
                    restart_in_s=round(rec.next_try - now, 1),
                )
        for name in order:
            rec = self._records[name]
            if rec.pending is not None:
                if now >= rec.next_try:
                    await self._recover(name, rec)
                return  # what comes later depends on this one

    async def _recover(self, name: str, rec: _Record) -> None:
        assert rec.pending is not None
        rec.attempts += 1
        self._restarting = name
        began = self._monotonic()
        try:
            plan = self._plan(name, rec.pending)
            restarted = await asyncio.wait_for(plan(), timeout=self._plan_timeout_s)
        except Unfinished as exc:
            self._unfinished(name, exc)
            return
        except (Exception, asyncio.CancelledError) as exc:
            if not _stray(exc):
                raise
            rec.streak += 1
            rec.failures += 1
            delay = self._backoff.delay(rec.streak)
            rec.next_try = self._monotonic() + delay
            log.error(
                "component_restart_failed",
                component=name,
                attempt=rec.attempts,
                error=repr(exc)[:500],
                retry_in_s=delay,
            )
            return
        finally:
            self._restarting = None
        elapsed_ms = round((self._monotonic() - began) * 1000)
        attempt = rec.attempts
        for done in restarted:
            self._restarted(done)
            first = done.component == name
            log.warning(
                "component_restarted",
                **asdict(done),
                attempt=attempt if first else 1,
                elapsed_ms=elapsed_ms,
            )
        self._stack.record_children()

    def _unfinished(self, name: str, exc: Unfinished) -> None:
        """The plan's own child is back, its workers are not: those wait their turn (after
        whatever else died meanwhile, in the order of priority)."""
        self._restarting = None
        for done in exc.done:
            self._restarted(done)
            log.warning("component_restarted", **asdict(done), attempt=1)
        now = self._monotonic()
        for worker in exc.pending:
            rec = self._records.setdefault(worker, _Record())
            rec.pending, rec.attempts, rec.failures = exc.reason, 0, 0
            rec.streak += 1
            rec.next_try = now + self._backoff.delay(rec.streak)
            log.error(
                "component_restart_failed",
                component=worker,
                after=name,
                error=str(exc),
                retry_in_s=round(rec.next_try - now, 1),
            )
        self._stack.record_children()

    def _restarted(self, done: Restarted) -> None:
        rec = self._records.setdefault(done.component, _Record())
        rec.restarts += 1
        rec.last_restart_at = self._stack.clock.now()
        rec.last_reason = done.reason
        rec.pending = None
        rec.attempts = rec.failures = 0
        rec.up_since = self._monotonic()

    def _plan(self, name: str, reason: str) -> Callable[[], Awaitable[list[Restarted]]]:
        if name == "postgres":
            return lambda: recover_postgres(self._stack, reason)
        if name == "broker":
            return lambda: recover_broker(self._stack, reason)
        return lambda: recover_worker(self._stack, name, reason)
