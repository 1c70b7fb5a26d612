"""What the supervisor does when a child died: one plan per kind of child, each safe to run
again from the start when an attempt failed half-way.

- postgres: what is left of the dead server's process group goes; it starts again on the
  same port and data directory (PostgreSQL recovers from its write-ahead log); then every
  worker is restarted, so that no agent stays stuck on a refused connection (at-least-once
  replays are absorbed by the idempotent handlers and the page ledger). This process's
  pools reconnect by themselves: asyncpg replaces a closed connection on acquire.
- broker: the embedded broker comes back empty (memory storage), so the clients that talk
  to it are parked first (spool relay, publisher, projector, workers), then the broker
  starts on the same port with every topic created, the archive is restored into it
  (dispatch/stack/restore.py), and the projector, the workers and the relay resume, in
  that order. An attempt always starts from an empty broker: a restore is never resumed
  half-way.
- a worker: it is stopped if still there, started again and awaited until ready.

When a plan's own child is back but its workers could not be started (the broker died in
the meantime, say), the plan raises Unfinished: the child counts as restarted and the
workers as still to recover, so the supervisor goes on in its order of priority (a dead
broker before the workers that need it) instead of retrying a plan that cannot succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import structlog

if TYPE_CHECKING:
    from dispatch.stack.runtime import Stack

log = structlog.get_logger(__name__)


class Child(Protocol):
    """A supervised child process (EmbeddedPostgres, EmbeddedBroker, WorkerProcess)."""

    @property
    def alive(self) -> bool: ...

    @property
    def exit_code(self) -> int | None: ...

    @property
    def pid(self) -> int: ...

    @property
    def last_pid(self) -> int | None: ...


@dataclass(frozen=True)
class Restarted:
    component: str
    pid: int
    old_pid: int | None
    reason: str


class Unfinished(Exception):
    """A plan restarted its own child (`done`) but not the workers named in `pending`."""

    def __init__(self, done: list[Restarted], pending: list[str], reason: str, cause: str):
        super().__init__(cause)
        self.done, self.pending, self.reason = done, pending, reason


async def recover_postgres(stack: Stack, reason: str) -> list[Restarted]:
    postgres = stack.postgres
    assert postgres is not None, "only an embedded PostgreSQL is supervised"
    old_pid = postgres.last_pid
    if not postgres.alive:  # else an attempt that failed later on has started it already
        await postgres.restart()
    done = [Restarted("postgres", postgres.pid, old_pid, reason)]
    return done + await _then_workers(stack, done, "postgres restarted")


async def recover_broker(stack: Stack, reason: str) -> list[Restarted]:
    broker = stack.broker
    assert broker is not None, "only an embedded broker is supervised"
    old_pid = broker.last_pid
    await stack.park_clients()
    await broker.restart()  # empty, on the same port, every topic created
    await stack.restore_broker()
    done = [Restarted("broker", broker.pid, old_pid, reason)]
    await stack.start_projector()
    try:
        done += await _then_workers(stack, done, "broker restarted")
    finally:
        stack.resume_producers()  # calls are published again even when a worker is not up
    return done


async def recover_worker(stack: Stack, name: str, reason: str) -> list[Restarted]:
    return await _replace_workers(stack, reason, only=name)


async def _replace_workers(
    stack: Stack, reason: str, *, only: str | None = None
) -> list[Restarted]:
    replaced = await stack.replace_workers(only=only)
    return [Restarted(name, pid, old_pid, reason) for name, old_pid, pid in replaced]


async def _then_workers(stack: Stack, done: list[Restarted], reason: str) -> list[Restarted]:
    """Every worker replaced after `done`; Unfinished when they could not be."""
    try:
        return await _replace_workers(stack, reason)
    except Exception as exc:
        names = [name for name, _ in stack.supervised() if name.startswith("worker")]
        raise Unfinished(done, names, reason, repr(exc)[:300]) from exc
