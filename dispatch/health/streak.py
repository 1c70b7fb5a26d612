"""Log a run of failures once: its first failure loudly, and once more when it ends."""

from __future__ import annotations

from typing import Any


class FailureStreak:
    def __init__(self, log: Any, *, failed: str, recovered: str) -> None:
        self._log = log
        self._failed = failed
        self._recovered = recovered
        self.failing = False

    def failure(self, exc: BaseException, **context: object) -> None:
        if not self.failing:
            self._log.error(self._failed, error=str(exc) or type(exc).__name__, **context)
        self.failing = True

    def success(self, **context: object) -> None:
        if self.failing:
            self._log.warning(self._recovered, **context)
        self.failing = False
