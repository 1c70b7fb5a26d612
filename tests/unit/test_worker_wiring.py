"""The worker's wiring: one clock, given to the composition root, reaches every timer."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from dispatch.logs import configure_logging
from dispatch.settings import Settings
from dispatch.worker.app import create_app, faust_worker


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


def test_the_worker_logs_library_warnings_as_json_and_builds_no_debug_record(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """faust's Worker sets the root logger to DEBUG for its terminal spinner and mode puts
    a text handler of its own on it; the worker keeps neither: the libraries' debug calls
    stay cheap no-ops and their warnings come out as the rest of its log does (JSON)."""
    root = logging.getLogger()
    saved = (root.level, root.handlers[:])
    settings = Settings(kafka_bootstrap_servers="127.0.0.1:9", database_url="postgresql://unused")
    try:
        configure_logging(fmt="json", level="info")  # as `dispatch worker` does first
        runner = faust_worker(create_app(settings).app)
        runner._setup_logging()  # what execute_from_commandline does first
        assert root.level == logging.WARNING
        assert not logging.getLogger("aiokafka.conn").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("faust.topics").isEnabledFor(logging.INFO)
        logging.getLogger("aiokafka.conn").warning("broker away: %s", "connection refused")
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert json.loads(line)["event"] == "broker away: connection refused"
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
