"""The live board's change feed: one poller per watched team, however many screens.

While at least one browser follows a team's board, a task reads the board's fingerprint
(one short query over the read models, projections/console_board.py) every POLL_S and
wakes every follower when it changes. Followers re-render and push the rows themselves
(server-sent events, board.py). The projector is not touched: no LISTEN/NOTIFY channel
is needed, and a poll of 0.25 s keeps the board within a second of the event.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger(__name__)
POLL_S = 0.25
Fingerprint = Callable[[str], Awaitable[str]]


@dataclass
class _Watch:
    version: str = ""
    followers: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    task: asyncio.Task[None] | None = None


class BoardFeed:
    def __init__(self, fingerprint: Fingerprint, *, poll_s: float = POLL_S) -> None:
        self._fingerprint = fingerprint
        self._poll_s = poll_s
        self._watches: dict[str, _Watch] = {}
        self._closed = asyncio.Event()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def _poll(self, team_id: str, watch: _Watch) -> None:
        while not self._closed.is_set():
            try:
                version = await self._fingerprint(team_id)
            except Exception as exc:  # the database is away: keep the last board, try again
                log.warning("console_feed_poll_failed", team_id=team_id, error=type(exc).__name__)
                version = watch.version
            if version != watch.version:
                async with watch.changed:
                    watch.version = version
                    watch.changed.notify_all()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), self._poll_s)
        async with watch.changed:
            watch.changed.notify_all()

    @contextlib.asynccontextmanager
    async def follow(self, team_id: str) -> AsyncIterator[_Watch]:
        """Follow a team's board while the block runs; the poller stops with the last one."""
        watch = self._watches.setdefault(team_id, _Watch())
        watch.followers += 1
        if watch.task is None:
            watch.version = await self._fingerprint(team_id)
            watch.task = asyncio.create_task(self._poll(team_id, watch))
        try:
            yield watch
        finally:
            watch.followers -= 1
            if watch.followers == 0:
                self._watches.pop(team_id, None)
                if watch.task is not None:
                    watch.task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watch.task

    async def next_version(self, watch: _Watch, seen: str, timeout_s: float) -> str:
        """The board's version once it differs from `seen`, or the same after `timeout_s`
        (or at shutdown): the caller sends a keep-alive and checks the session again."""
        async with watch.changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    watch.changed.wait_for(lambda: watch.version != seen or self.closed),
                    timeout_s,
                )
            return watch.version

    def close(self) -> None:
        """The app is shutting down: each poller wakes its followers one last time and
        every stream ends."""
        self._closed.set()
