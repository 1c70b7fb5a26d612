"""What a soak saw: pages as the sandbox's phones got them, dispatches as the read model
holds them, restarts as the Stack's supervisor (if it has one) counts them.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, get_args

from dispatch.vocabulary import RiskLevel

# A page SMS opens "ACT <RISK LEVEL> <CODE>:" (dispatch/crisis/page_text.py page_sms).
_PAGE_SMS = re.compile(
    r"^ACT (?:" + "|".join(level.upper() for level in get_args(RiskLevel)) + r") (\w{5}):"
)


@dataclass(frozen=True)
class SeenPage:
    """A page that reached a phone in the sandbox."""

    code: str
    to: str
    channel: Literal["sms", "voice"]
    arrived_at: float  # the sandbox's clock (epoch seconds)


def pages_in(
    messages: Iterable[Mapping[str, Any]],
    calls: Iterable[Mapping[str, Any]],
    codes: Collection[str],
) -> list[SeenPage]:
    """The sandbox's outbound SMS and calls that page one of `codes`: an SMS page names the
    code, a voice page spells it ("K, 7, M, 2, Q")."""
    seen: list[SeenPage] = []
    for sms in messages:
        match = _PAGE_SMS.match(str(sms.get("body") or ""))
        if match and match.group(1) in codes:
            seen.append(SeenPage(match.group(1), sms["to"], "sms", _epoch(sms["created_at"])))
    spelled = {", ".join(code): code for code in codes}
    for call in calls:
        twiml = str(call.get("twiml") or "")
        for words, code in spelled.items():
            if words in twiml:
                seen.append(SeenPage(code, call["to"], "voice", _epoch(call["created_at"])))
    return seen


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def supervisor_restarts(stack: object) -> tuple[str, ...] | None:
    """What the Stack's supervisor restarted, one entry per part with its count; None when
    nothing supervises the stack."""
    supervisor = getattr(stack, "supervisor", None)
    if supervisor is None or not supervisor.status().supervising:
        return None
    counts: Mapping[str, int] = supervisor.restart_counts()
    return tuple(f"{part} x{count}" for part, count in counts.items() if count)


class Phones(Protocol):
    async def messages(self, to: str | None = None, after: int = 0) -> list[dict[str, Any]]: ...

    async def calls(self, to: str | None = None, after: int = 0) -> list[dict[str, Any]]: ...


class Dispatches(Protocol):
    async def open_dispatches(self, team_id: str) -> list[Any]: ...


@dataclass(frozen=True)
class Observation:
    pages: tuple[SeenPage, ...]
    dispatch_codes: frozenset[str] | None  # None: the read model could not be read
    read_model_error: str | None
    observed_at: float

    def complete(self, codes: Collection[str]) -> bool:
        """Every code has its dispatch and at least one page."""
        paged = {page.code for page in self.pages}
        known = self.dispatch_codes or frozenset()
        return all(code in paged and code in known for code in codes)


class Observer:
    """Reads the sandbox incrementally (by index) and the team's dispatches each time."""

    def __init__(self, phones: Phones, dispatches: Dispatches, team_id: str) -> None:
        self._phones, self._dispatches, self._team_id = phones, dispatches, team_id
        self._messages: list[dict[str, Any]] = []
        self._calls: list[dict[str, Any]] = []

    async def observe(self, codes: Collection[str]) -> Observation:
        self._messages += await self._phones.messages(after=_last(self._messages))
        self._calls += await self._phones.calls(after=_last(self._calls))
        try:
            async with asyncio.timeout(10):
                rows = await self._dispatches.open_dispatches(self._team_id)
            found: frozenset[str] | None = frozenset(r.short_code for r in rows) & set(codes)
            error = None
        except Exception as exc:  # PostgreSQL down is one of the faults a soak injects
            found, error = None, f"{type(exc).__name__}: {exc}"[:200]
        pages = tuple(pages_in(self._messages, self._calls, codes))
        return Observation(pages, found, error, time.time())

    async def settle(
        self, codes: Collection[str], *, timeout_s: float, grace_s: float = 5.0
    ) -> Observation:
        """Observe until every call has its dispatch and page (then once more after
        `grace_s`, for late duplicates) or `timeout_s` has passed."""
        deadline = time.monotonic() + timeout_s
        seen = await self.observe(codes)
        while not seen.complete(codes) and time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            seen = await self.observe(codes)
        if seen.complete(codes):
            await asyncio.sleep(grace_s)
            seen = await self.observe(codes)
        return seen


def _last(items: list[dict[str, Any]]) -> int:
    return int(items[-1]["index"]) if items else 0
