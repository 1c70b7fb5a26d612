"""Each key's next due time, kept as its state is written, so that a timer decodes only the
states due by its tick instead of every state in every tick (decision 055).

The writer notes each state it writes (`note`); after a restore, when the held values were
read back from a changelog, the index is stale and is built again from every state
(`rebuild`, or `replace` where the values are few enough to read at once). A state noted
while a rebuild reads its snapshot is newer than the snapshot's, and wins. The index holds
a float per key that is due some time: about 70 bytes per client.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable
from datetime import datetime
from typing import Generic, TypeVar

State = TypeVar("State")


class DueIndex(Generic[State]):
    def __init__(self, due_at: Callable[[State], datetime | None]) -> None:
        self._due_at = due_at
        self._due: dict[str, float] = {}  # key -> due time (POSIX seconds)
        self._generation = 0  # bumped by `invalidate`: a rebuild begun before it is stale
        self._built_generation = -1  # nothing read yet: the first tick rebuilds
        self._noted_while_building: dict[str, float | None] | None = None

    @property
    def stale(self) -> bool:
        return self._built_generation != self._generation

    def invalidate(self) -> None:
        """The held values were replaced (a restore): the next tick rebuilds."""
        self._generation += 1

    def note(self, key: str, state: State | None) -> None:
        """`state` (None: gone) is now the key's: index its due time, if any."""
        due_at = self._due_at(state) if state is not None else None
        due = None if due_at is None else due_at.timestamp()
        if due is None:
            self._due.pop(key, None)
        else:
            self._due[key] = due
        if self._noted_while_building is not None:
            self._noted_while_building[key] = due

    def due(self, now: datetime) -> list[str]:
        """The keys due at or before `now`, the earliest first."""
        at = now.timestamp()
        found = [(due, key) for key, due in self._due.items() if due <= at]
        return [key for _, key in sorted(found)]

    def __len__(self) -> int:
        return len(self._due)

    def replace(self, states: Iterable[tuple[str, State]]) -> None:
        """Index exactly these (key, state) pairs, read at once."""
        generation = self._generation
        built: dict[str, float] = {}
        for key, state in states:
            self._put(built, key, state)
        self._due = built
        self._built_generation = generation

    async def rebuild(self, states: AsyncIterable[tuple[str, State]]) -> None:
        """Index every (key, state) of a snapshot that hands the event loop back as it is
        read, while the writer goes on noting states: the notes made meanwhile are newer
        than the snapshot's states and are kept over them."""
        generation = self._generation
        noted: dict[str, float | None] = {}
        self._noted_while_building = noted
        built: dict[str, float] = {}
        try:
            async for key, state in states:
                self._put(built, key, state)
        finally:
            self._noted_while_building = None
        for key, due in noted.items():
            if due is None:
                built.pop(key, None)
            else:
                built[key] = due
        self._due = built
        self._built_generation = generation

    def _put(self, index: dict[str, float], key: str, state: State) -> None:
        due_at = self._due_at(state)
        if due_at is not None:
            index[key] = due_at.timestamp()
