"""stop_consumer: aiokafka's stop, bounded. A consumer whose group coordinator waits for a
broker that is gone must not hold up the supervisor, which restarts that broker only once
the consumer stopped (the killed-broker recovery waited on it until the test gave up)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from structlog.testing import capture_logs

from projections import projector
from projections.projector import stop_consumer


class Part:
    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


class StuckConsumer:
    """What aiokafka's consumer does when its coordinator looks for a coordinator forever."""

    def __init__(self) -> None:
        self._fetcher, self._client = Part(), Part()

    async def stop(self) -> None:
        await asyncio.Event().wait()


async def test_a_consumer_stuck_in_its_stop_is_closed_anyway_and_it_is_logged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(projector, "CONSUMER_STOP_S", 0.05)
    consumer = StuckConsumer()
    with capture_logs() as logs:
        await stop_consumer(cast(Any, consumer), name="read-models")

    assert consumer._fetcher.closed and consumer._client.closed
    assert [e["event"] for e in logs] == ["consumer_stop_abandoned"]


async def test_a_cancelled_stop_is_still_cancelled() -> None:
    task = asyncio.create_task(stop_consumer(cast(Any, StuckConsumer()), name="read-models"))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
