"""What reached the event archive since the last look, each thing once: first pages of crisis
contacts, steps moved on a deadline, deadlines the auditor re-drove.

It looks from this process's start (at most `lookback_s` back) and remembers what it has
reported until that falls out of the window, so each figure is observed exactly once per
process, however often /metrics is scraped and however late the archive receives it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.clock import Clock
from dispatch.health.ports import ArchiveObservations, FirstPage, StepMove


@dataclass(frozen=True)
class NewFigures:
    first_pages: list[FirstPage]
    step_moves: list[StepMove]
    redrives: int


class ArchiveWatch:
    def __init__(self, archive: ArchiveObservations, clock: Clock, *, lookback_s: float) -> None:
        self._archive = archive
        self._clock = clock
        self._started = clock.now()
        self._lookback = timedelta(seconds=lookback_s)
        self._seen: dict[uuid.UUID, datetime] = {}  # id -> the time the window is judged by

    def _first_time(self, key: uuid.UUID, at: datetime) -> bool:
        if key in self._seen:
            return False
        self._seen[key] = at
        return True

    async def poll(self) -> NewFigures:
        since = max(self._started, self._clock.now() - self._lookback)
        pages = await self._archive.first_pages(since)
        moves = await self._archive.step_moves(since)
        redrives = await self._archive.redrives(since)
        new = NewFigures(
            first_pages=[p for p in pages if self._first_time(p.dispatch_id, p.contact_at)],
            step_moves=[m for m in moves if self._first_time(m.event_id, m.deadline_at)],
            redrives=sum(1 for event_id, at in redrives if self._first_time(event_id, at)),
        )
        for key, at in list(self._seen.items()):
            if at < since:
                del self._seen[key]  # out of the window: the archive will not return it again
        return new
