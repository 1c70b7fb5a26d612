"""Run a read within a time budget, and never wait past it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from dispatch.health.report import ProbeFailed

T = TypeVar("T")


def why(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Budget:
    """Reads that do not finish in time are cancelled and left to unwind in the background
    (a hung connection may take its time to give up), so the caller is not held up."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._abandoned: set[asyncio.Task[Any]] = set()

    async def run(self, step: Awaitable[T]) -> T | ProbeFailed:
        """`step`'s result, or why it failed or did not finish within the budget."""
        task = asyncio.ensure_future(step)
        done, _ = await asyncio.wait({task}, timeout=self.timeout_s)
        if not done:
            task.cancel()
            self._abandoned.add(task)
            task.add_done_callback(self._abandoned.discard)
            return ProbeFailed(f"no answer within {self.timeout_s:g} s")
        exc = task.exception()
        return ProbeFailed(why(exc)) if exc is not None else task.result()

    async def close(self) -> None:
        """Give abandoned reads one more budget to unwind."""
        for task in list(self._abandoned):
            task.cancel()
        if self._abandoned:
            await asyncio.wait(self._abandoned, timeout=self.timeout_s)
