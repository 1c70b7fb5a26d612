"""Answers the worker asks for every crisis call, kept while PostgreSQL says nothing changed.

Deciding a call reads the dialled staff member (or the client's preferences) and the team's
escalation policy: two round trips for rows that change a few times a week. A `ReadMemo`
keeps each answer it read while a connection of its own LISTENs on `edge_facts` (every table
these answers come from notifies it: migrations 020 and 021) and no notice came since the
answer's read began. Any notice forgets every answer; so does losing the listener, and
while nobody listens every question goes to PostgreSQL (docs/decisions/044). An answer kept
is at most as old as the time a committed change takes to reach the listener, on top of
the projector's own lag that every read already has.

Without `start()` (a CLI command, the web app's tests) it remembers nothing: each question
is asked of PostgreSQL, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar, cast

import asyncpg
import structlog

from dispatch.tasks import cancel_and_wait
from projections.fact_changes import RotaChanges

log = structlog.get_logger(__name__)
T = TypeVar("T")
RELISTEN_S = 1.0  # how soon a lost listener is made again (meanwhile PostgreSQL answers)


class ReadMemo:
    """Answers by key, from memory while they are known to be current, else from PostgreSQL."""

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]] | None) -> None:
        self._answers: dict[Hashable, object] = {}
        self._changes = RotaChanges(connect, self._answers.clear) if connect else None
        self._task: asyncio.Task[None] | None = None

    @property
    def remembering(self) -> bool:
        """True while answers are kept: started and hearing every change."""
        return self._task is not None and self._changes is not None and self._changes.listening

    async def start(self) -> None:
        """Listen (a failure is logged once; questions then go to PostgreSQL) and keep
        listening: a lost listener is made again every RELISTEN_S. Never raises."""
        if self._changes is None or self._task is not None:
            return
        await self._changes.listen()
        self._task = asyncio.create_task(self._keep_listening(), name="read-memo-listen")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        if self._changes is not None:
            await self._changes.close()
        self._answers.clear()

    async def ask(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        """The answer kept for `key`, else `read()`'s, kept if nothing changed meanwhile."""
        if not self.remembering:
            return await read()
        if key in self._answers:
            return cast(T, self._answers[key])
        assert self._changes is not None
        began = self._changes.seen
        answer = await read()
        if self.remembering and self._changes.seen == began:
            self._answers[key] = answer
        return answer

    async def _keep_listening(self) -> None:
        assert self._changes is not None
        while True:
            await asyncio.sleep(RELISTEN_S)
            if not self._changes.listening:
                with contextlib.suppress(Exception):  # listen() logs its own failure once
                    await self._changes.listen()
