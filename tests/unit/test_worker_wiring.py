"""The worker's wiring: one clock, given to the composition root, reaches every timer."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch.settings import Settings
from dispatch.worker.app import create_app


class CountingClock:
    """A fixed instant that counts how often it is read."""

    def __init__(self) -> None:
        self.reads = 0

    def now(self) -> datetime:
        self.reads += 1
        return datetime(2031, 1, 1, tzinfo=UTC)


async def test_an_injected_clock_reaches_every_timer() -> None:
    """Each timer of the worker reads the clock it was given, never the system clock."""
    clock = CountingClock()
    settings = Settings(kafka_bootstrap_servers="127.0.0.1:9", database_url="postgresql://unused")
    worker = create_app(settings, clock=clock)
    assert set(worker.timers.ticks) == {
        "escalation-deadlines",
        "voice-redials",
        "risk-targets-gaps-reviews",
        "escalation-audit",
        "worker-heartbeat",
    }
    for name, tick in worker.timers.ticks.items():
        before = clock.reads
        await tick()
        assert clock.reads == before + 1, f"timer {name} did not read the injected clock"


async def test_bootstrap_refuses_to_guess_a_database() -> None:
    """With no DATABASE_URL and no pool, bootstrap refuses instead of letting asyncpg connect
    to whatever local database libpq's defaults name."""
    import pytest

    from dispatch.bootstrap import bootstrap

    with pytest.raises(ValueError, match="DATABASE_URL is empty"):
        await bootstrap(Settings(database_url=""))
