"""One at a time per key, in the order asked; different keys side by side."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class KeyedTurns:
    """One at a time per key, in the order the turns were asked for; keys run side by side."""

    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Future[None]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        before = self._tails.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = mine
        try:
            if before is not None:
                await asyncio.shield(before)
            yield
        finally:
            mine.set_result(None)
            if self._tails.get(key) is mine:
                del self._tails[key]
