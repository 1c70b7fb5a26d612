"""The web edge's memory of the rota: who answers each line when PostgreSQL cannot be asked.

The webhooks ask their questions (whose line is this, who calls from this number, who is on
duty) through one port, `EdgeFacts`. ReadModels answers it from PostgreSQL; an EdgeSnapshot
answers it from memory. RotaCache answers from its snapshot while the snapshot is current:
PostgreSQL's notices of changes are being heard (projections/fact_changes.py) and none
came since the snapshot's read began (docs/decisions/034): a ring then costs no round trip for its
routing. Otherwise it asks PostgreSQL, within `db_timeout_s`; when PostgreSQL does not
answer, the snapshot answers anyway (its age logged) until a refresh succeeds again. A
notice wakes a new read (at most one per `RELOAD_GAP_S`); the snapshot is also re-read
every `refresh_s` seconds (every second while the database is down). The call tree
(dispatch/crisis/calltree.py) is fed the same facts either way and stays pure.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol, TypeVar

import asyncpg
import structlog

from dispatch.clock import Clock
from dispatch.crisis.preferences import ClientPreferences
from dispatch.ingress.outage_spool import DATABASE_DOWN
from dispatch.settings import Settings
from dispatch.tasks import cancel_and_wait
from projections.edge_snapshot import EdgeSnapshot, load_edge_snapshot
from projections.fact_changes import RotaChanges, listener
from projections.models import Caller, OnDuty, StaffMember, Team

log = structlog.get_logger(__name__)
T = TypeVar("T")
DOWN_RETRY_S = 1.0
RELOAD_GAP_S = 0.5  # a stream of changes (an import) costs two snapshot reads a second


class EdgeFacts(Protocol):
    """What the crisis line's webhooks ask to route a call or a text."""

    async def team(self, team_id: str) -> Team | None: ...
    async def team_for_line(self, number: str) -> str | None: ...
    async def on_duty(self, team_id: str, at: datetime) -> OnDuty: ...
    async def staff_by_phone(self, phone: str) -> StaffMember | None: ...
    async def caller_by_phone(self, phone: str) -> Caller: ...
    async def client_preferences(self, client_id: str) -> ClientPreferences: ...


class RotaUnavailableError(RuntimeError):
    """PostgreSQL cannot be reached and no snapshot was ever taken."""


class RotaCache:
    """EdgeFacts from PostgreSQL, else from memory. `start()` keeps the memory fresh."""

    def __init__(
        self,
        primary: EdgeFacts,
        load: Callable[[datetime], Awaitable[EdgeSnapshot]],
        clock: Clock,
        *,
        refresh_s: float,
        db_timeout_s: float,
        listen: Callable[[], Awaitable[asyncpg.Connection]] | None = None,
    ) -> None:
        self._primary = primary
        self._load = load
        self._clock = clock
        self._refresh_s = refresh_s
        self._db_timeout_s = db_timeout_s
        self.snapshot: EdgeSnapshot | None = None
        self.database_down = False
        self._task: asyncio.Task[None] | None = None
        self._uses = 0
        self._last_use_log = float("-inf")
        self._kick = asyncio.Event()
        self._changes = RotaChanges(listen, self._kick.set) if listen is not None else None
        self._read_at_change: int | None = None  # changes.seen when the snapshot's read began

    @classmethod
    def from_settings(
        cls, settings: Settings, read_models: EdgeFacts, pool: asyncpg.Pool, clock: Clock
    ) -> RotaCache:
        """PostgreSQL's read models, else snapshots of them covering ROTA_CACHE_HORIZON_H."""
        horizon = timedelta(hours=settings.rota_cache_horizon_h)
        return cls(
            read_models,
            partial(load_edge_snapshot, pool, horizon=horizon),
            clock,
            refresh_s=settings.rota_cache_refresh_s,
            db_timeout_s=settings.edge_db_timeout_s,
            listen=listener(settings),
        )

    def age_s(self) -> float | None:
        """Seconds since the snapshot was taken (None: never)."""
        if self.snapshot is None:
            return None
        return (self._clock.now() - self.snapshot.taken_at).total_seconds()

    def current(self) -> bool:
        """True while memory answers as PostgreSQL would: notices are heard, none came since
        the snapshot's read began, and its rotas still cover the present."""
        return (
            self._changes is not None
            and self._changes.listening
            and self.snapshot is not None
            and self._read_at_change == self._changes.seen
            and self._clock.now() < self.snapshot.until
        )

    async def refresh(self) -> EdgeSnapshot:
        """Take a new snapshot; a success also means PostgreSQL answers again."""
        began = self._changes.seen if self._changes is not None else None
        async with asyncio.timeout(max(self._db_timeout_s * 5, 5.0)):
            snapshot = await self._load(self._clock.now())
        self.snapshot, self._read_at_change = snapshot, began
        if self.database_down:
            log.info("rota_database_reachable_again", teams=len(snapshot.teams))
        self.database_down = False
        return snapshot

    async def start(self) -> None:
        """Listen for changes, take a first snapshot (bounded: the edge starts even when
        either fails), then the loop."""
        if self._changes is not None:
            await self._changes.listen()
        await self._refresh_or_log(failing=False)
        self._task = asyncio.create_task(self._keep_fresh(), name="rota-cache-refresh")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        if self._changes is not None:
            await self._changes.close()

    async def _keep_fresh(self) -> None:
        failing = False
        while True:
            deaf = self._changes is not None and not self._changes.listening
            wait = DOWN_RETRY_S if self.database_down or deaf else self._refresh_s
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._kick.wait()
            self._kick.clear()
            if self._changes is not None:
                await self._changes.listen()
            failing = await self._refresh_or_log(failing=failing)
            if self._changes is not None and self._changes.listening and not self.current():
                await asyncio.sleep(RELOAD_GAP_S)  # more notices: meanwhile PostgreSQL answers

    async def _refresh_or_log(self, *, failing: bool) -> bool:
        """Refresh, keeping the last snapshot on failure; True while refreshes fail (the
        first failure of a run is logged, not the following ones)."""
        try:
            await self.refresh()
            return False
        except DATABASE_DOWN as exc:
            self.database_down = True
            if not failing:
                log.warning("rota_cache_refresh_failed", error=type(exc).__name__,
                            age_s=self.age_s())  # fmt: skip
        except Exception as exc:  # not an outage: PostgreSQL keeps answering the webhooks
            if not failing:
                log.error("rota_cache_refresh_broken", error=repr(exc)[:300], age_s=self.age_s())
        return True

    # --- the port ------------------------------------------------------------------------
    async def team(self, team_id: str) -> Team | None:
        return await self._ask("team", lambda facts: facts.team(team_id))

    async def team_for_line(self, number: str) -> str | None:
        return await self._ask("team_for_line", lambda facts: facts.team_for_line(number))

    async def on_duty(self, team_id: str, at: datetime) -> OnDuty:
        return await self._ask("on_duty", lambda facts: facts.on_duty(team_id, at))

    async def staff_by_phone(self, phone: str) -> StaffMember | None:
        return await self._ask("staff_by_phone", lambda facts: facts.staff_by_phone(phone))

    async def caller_by_phone(self, phone: str) -> Caller:
        return await self._ask("caller_by_phone", lambda facts: facts.caller_by_phone(phone))

    async def client_preferences(self, client_id: str) -> ClientPreferences:
        return await self._ask(
            "client_preferences", lambda facts: facts.client_preferences(client_id)
        )

    async def _ask(self, question: str, ask: Callable[[EdgeFacts], Awaitable[T]]) -> T:
        if self.current():
            assert self.snapshot is not None
            return await ask(self.snapshot)
        if not self.database_down or self._task is None:  # no refresh loop: always ask
            try:
                async with asyncio.timeout(self._db_timeout_s):
                    return await ask(self._primary)
            except DATABASE_DOWN as exc:
                self.database_down = True
                log.error("rota_database_unreachable", question=question, error=type(exc).__name__)
        if self.snapshot is None:
            raise RotaUnavailableError("PostgreSQL cannot be reached and the rota cache is empty")
        self._note_use(question)
        return await ask(self.snapshot)

    def _note_use(self, question: str) -> None:
        """Log that memory answered, with its age: at most one line a second."""
        self._uses += 1
        now = time.monotonic()
        if now - self._last_use_log < 1.0:
            return
        assert self.snapshot is not None
        log.warning(
            "rota_cache_used",
            question=question,
            age_s=round(self.age_s() or 0.0, 1),
            beyond_horizon=self._clock.now() >= self.snapshot.until,
            answers_since_last_line=self._uses,
        )
        self._uses, self._last_use_log = 0, now
