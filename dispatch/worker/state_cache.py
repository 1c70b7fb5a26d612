"""The decoded states of the keys a reader handled last, so that a busy key is not decoded
from its bytes in every batch. Bounded: the oldest entries go first (a worker holds the
states of 100,000 clients as compact bytes; only the latest few thousand are decoded)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

State = TypeVar("State")
CACHE_MAX = 4096  # decoded states held at most


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
