"""The web edge's rota cache: PostgreSQL while it answers, else memory, never silence."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest
from structlog.testing import capture_logs

from dispatch.crisis.preferences import NO_PREFERENCE, ClientPreferences
from dispatch.rota.events import ShiftAssigned
from dispatch.rota.state import Entry, TeamRota
from dispatch.web.rota_cache import RotaCache, RotaUnavailableError
from projections.edge_snapshot import EdgeSnapshot
from projections.models import Caller, OnDuty, StaffMember, Team

TAKEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
LINE = "+15005550001"
SAM = StaffMember("s-sam", "t-1", "Sam", "nurse", "female", "+15550100001", ("en",))
CLIENT_PHONE = "+15550200001"


class Clock:
    def __init__(self) -> None:
        self.at = TAKEN + timedelta(seconds=42)

    def now(self) -> datetime:
        return self.at


def snapshot() -> EdgeSnapshot:
    shift = ShiftAssigned(
        team_id="t-1", staff_id=SAM.staff_id, layer="primary",
        starts_at=TAKEN - timedelta(hours=1), ends_at=TAKEN + timedelta(hours=8),
    )  # fmt: skip
    rota = TeamRota("t-1", shifts=MappingProxyType({"sh-1": Entry((TAKEN, "e-1"), shift)}))
    return EdgeSnapshot(
        taken_at=TAKEN,
        until=TAKEN + timedelta(hours=12),
        teams={"t-1": Team("t-1", "North", "ACT", "UTC", "+15550009999", LINE)},
        lines={LINE: "t-1"},
        staff={SAM.staff_id: SAM},
        staff_phones={SAM.phone: SAM.staff_id},
        callers={CLIENT_PHONE: Caller("client", "c-1", "t-1")},
        preferences={"c-1": ClientPreferences(gender="female")},
        rotas={"t-1": rota},
    )


class Database:
    """The read models as PostgreSQL would answer them: up, refusing, or hanging."""

    def __init__(self) -> None:
        self.state = "up"
        self.asked = 0
        self.hang = asyncio.Event()

    async def _answer(self, value: Any) -> Any:
        self.asked += 1
        if self.state == "refusing":
            raise ConnectionRefusedError(111, "Connect call failed")
        if self.state == "hanging":
            await self.hang.wait()
        return value

    async def team(self, team_id: str) -> Team | None:
        return await self._answer(None)

    async def team_for_line(self, number: str) -> str | None:
        return await self._answer("t-from-postgres")

    async def on_duty(self, team_id: str, at: datetime) -> OnDuty:
        return await self._answer(OnDuty(primary=None, backup=None))

    async def staff_by_phone(self, phone: str) -> StaffMember | None:
        return await self._answer(None)

    async def caller_by_phone(self, phone: str) -> Caller:
        return await self._answer(Caller("unknown", None, None))

    async def client_preferences(self, client_id: str) -> ClientPreferences:
        return await self._answer(NO_PREFERENCE)

    async def load(self, at: datetime) -> EdgeSnapshot:
        await self._answer(None)
        return snapshot()


@pytest.fixture
async def cache() -> AsyncIterator[tuple[RotaCache, Database, Clock]]:
    db, clock = Database(), Clock()
    rota_cache = RotaCache(db, db.load, clock, refresh_s=3600, db_timeout_s=0.05)
    await rota_cache.start()
    yield rota_cache, db, clock
    await rota_cache.stop()


async def test_postgres_answers_while_it_is_up(cache: Any) -> None:
    """With PostgreSQL up, the webhooks get PostgreSQL's answer, not the memory's."""
    rota_cache, db, _ = cache
    assert await rota_cache.team_for_line(LINE) == "t-from-postgres"
    assert db.asked == 2  # the first snapshot, then the question


async def test_a_refused_connection_is_answered_from_memory_with_its_age(cache: Any) -> None:
    """PostgreSQL refusing connections: the on-duty worker still comes from memory, and the
    line says how old that memory is."""
    rota_cache, db, _ = cache
    db.state = "refusing"
    with capture_logs() as logs:
        assert await rota_cache.team_for_line(LINE) == "t-1"
        on_duty = await rota_cache.on_duty("t-1", TAKEN + timedelta(hours=2))
    assert on_duty.primary == SAM
    assert {"event": "rota_database_unreachable", "question": "team_for_line",
            "error": "ConnectionRefusedError", "log_level": "error"} in logs  # fmt: skip
    used = next(line for line in logs if line["event"] == "rota_cache_used")
    assert used["age_s"] == 42.0 and used["beyond_horizon"] is False


async def test_a_hanging_database_costs_one_timeout_then_memory_answers_at_once(
    cache: Any,
) -> None:
    """A database that does not answer is waited for once (EDGE_DB_TIMEOUT_S); later
    questions go straight to memory until a refresh succeeds again."""
    rota_cache, db, _ = cache
    db.state = "hanging"
    assert await rota_cache.caller_by_phone(CLIENT_PHONE) == Caller("client", "c-1", "t-1")
    asked = db.asked
    assert await rota_cache.client_preferences("c-1") == ClientPreferences(gender="female")
    assert db.asked == asked, "PostgreSQL was not asked again while known to be down"
    db.state = "up"
    await rota_cache.refresh()
    assert await rota_cache.team_for_line(LINE) == "t-from-postgres"


async def test_without_any_snapshot_a_dead_database_is_an_error_not_a_guess() -> None:
    """Never loaded and PostgreSQL down: the question fails loudly (the webhook's safety net
    puts the caller through to the default crisis number)."""
    db = Database()
    db.state = "refusing"
    rota_cache = RotaCache(db, db.load, Clock(), refresh_s=3600, db_timeout_s=0.05)
    await rota_cache.start()
    try:
        with pytest.raises(RotaUnavailableError):
            await rota_cache.on_duty("t-1", TAKEN)
        assert rota_cache.age_s() is None
    finally:
        await rota_cache.stop()


async def test_the_snapshot_answers_like_the_read_models() -> None:
    """Memory knows lines, callers, staff phones and preferences; unknown numbers are unknown."""
    snap = snapshot()
    assert await snap.caller_by_phone("+15550000000") == Caller("unknown", None, None)
    assert await snap.staff_by_phone(SAM.phone) == SAM
    assert await snap.team_for_line("+15550000000") is None
    assert await snap.client_preferences("c-unknown") == NO_PREFERENCE
    after_shift = await snap.on_duty("t-1", TAKEN + timedelta(hours=9))
    assert after_shift.primary is None and after_shift.covered


async def test_a_broken_snapshot_does_not_take_a_healthy_database_out_of_use() -> None:
    """Taking the snapshot fails for another reason than an outage: PostgreSQL still
    answers the webhooks, and the failure is logged as an error."""
    db = Database()

    async def broken(at: datetime) -> EdgeSnapshot:
        raise KeyError("a column the snapshot expects")

    rota_cache = RotaCache(db, broken, Clock(), refresh_s=3600, db_timeout_s=0.05)
    with capture_logs() as logs:
        await rota_cache.start()
    try:
        assert await rota_cache.team_for_line(LINE) == "t-from-postgres"
        assert not rota_cache.database_down
        assert [line["event"] for line in logs] == ["rota_cache_refresh_broken"]
    finally:
        await rota_cache.stop()
