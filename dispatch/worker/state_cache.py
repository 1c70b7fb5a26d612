"""The decoded states of the keys a reader handled last, so that a busy key is not decoded
from its bytes in every batch. Bounded: the oldest entries go first (a worker holds the
states of 100,000 clients as compact bytes; only the latest few thousand are decoded).
`newest_states` reads every key's state with the ones changed since the last write first
(decision 051); `newest_states_in_slices` does so while other work runs between slices, for
the risk timer's index after a restore (decision 055)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Generic, TypeVar

State = TypeVar("State")
CACHE_MAX = 4096  # decoded states held at most
# States decoded between two hand-backs of the event loop in a scan: about 4 ms of decoding.
SLICE = 100


class StateCache(Generic[State]):
    def __init__(
        self, decode: Callable[[bytes | None, str], State], *, size: int = CACHE_MAX
    ) -> None:
        self._decode = decode
        self._size = size
        self._held: dict[str, State] = {}

    def get(self, key: str, raw: Callable[[], bytes | None]) -> State:
        """The key's state: held, else decoded from `raw()` (bytes, or None when new)."""
        held = self._held.get(key)
        return held if held is not None else self._decode(raw(), key)

    def put_many(self, states: Mapping[str, State]) -> None:
        """Hold these (newest last); forget the oldest beyond the bound."""
        for key, state in states.items():
            self._held.pop(key, None)
            self._held[key] = state
        excess = len(self._held) - self._size
        if excess > 0:
            for key in list(self._held)[:excess]:
                del self._held[key]

    def clear(self) -> None:
        self._held.clear()

    def __len__(self) -> int:
        return len(self._held)


def newest_states(
    saved: Iterable[tuple[str, bytes]],
    unsaved: Mapping[str, tuple[int, State]],
    decode: Callable[[bytes | None, str], State],
) -> Iterator[State]:
    """Every key's newest state, one at a time: the one changed but not written yet where
    there is one (a client new since the last write included), else the written bytes
    decoded. `unsaved` is read once, at the start."""
    pending = dict(unsaved)
    for key, raw in saved:
        held = pending.pop(key, None)
        yield held[1] if held is not None else decode(raw, key)
    for _, state in pending.values():
        yield state


async def newest_states_in_slices(
    saved: Iterable[tuple[str, bytes]],
    unsaved: Mapping[str, tuple[int, State]],
    decode: Callable[[bytes | None, str], State],
    *,
    slice_size: int = SLICE,
) -> AsyncIterator[State]:
    """`newest_states` of a snapshot of `saved` and `unsaved` taken at the start, handing
    the event loop back after every `slice_size` states. The risk timer decodes every
    client's state after a restore, to index them (decision 055): in one go, 2,000 clients
    held the worker's loop for about 100 ms, and a crisis call fetched meanwhile waited for
    it (at 100,000 clients, seconds); in slices it waits for one slice at most."""
    for count, state in enumerate(newest_states(list(saved), unsaved, decode), 1):
        yield state
        if count % slice_size == 0:
            await asyncio.sleep(0)
