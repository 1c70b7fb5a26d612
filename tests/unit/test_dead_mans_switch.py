"""The dead-man's switch against a small HTTP receiver on 127.0.0.1: posts while green, is
silent while red, logs each change once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from structlog.testing import capture_logs

from dispatch.health.heartbeat import DeadMansSwitch
from dispatch.health.report import WorkerBeat
from tests.fixtures.heartbeat_receiver import Receiver, receiving
from tests.unit.health_fakes import NOW, FakeHealth


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    async with receiving() as (rec, url):
        yield rec, url


async def test_beats_only_while_health_is_green(receiver: tuple[Receiver, str]) -> None:
    """Green: each beat reaches the monitor. Red: nothing is sent, and one error says why."""
    rec, url = receiver
    health = FakeHealth()
    switch = DeadMansSwitch(health.monitor, health.clock, url=url, interval_s=60)
    with capture_logs() as logs:
        async with aiohttp.ClientSession() as session:
            assert await switch.beat(session) is True
            health.readings.beats = [WorkerBeat("h:1", NOW, NOW - timedelta(minutes=2), (), None)]
            assert await switch.beat(session) is False
            assert await switch.beat(session) is False
            health.readings.beats = [WorkerBeat("h:1", NOW, NOW, ("t:0",), 0)]
            assert await switch.beat(session) is True
    assert rec.beats == [{"status": "ok", "at": NOW.isoformat()}] * 2
    withheld = [e for e in logs if e["event"].startswith("heartbeat_")]
    assert [e["event"] for e in withheld] == ["heartbeat_withheld", "heartbeat_resumed"]
    assert withheld[0]["reasons"] == ["worker: no worker consuming for 120 s"]


async def test_a_refusing_monitor_is_logged_once_without_the_secret_url(
    receiver: tuple[Receiver, str],
) -> None:
    """The monitor answering 500 three times is one error naming its host, never the URL."""
    rec, url = receiver
    rec.status = 500
    health = FakeHealth()
    switch = DeadMansSwitch(health.monitor, health.clock, url=url, interval_s=60)
    with capture_logs() as logs:
        async with aiohttp.ClientSession() as session:
            for _ in range(3):
                assert await switch.beat(session) is False
            rec.status = 200
            assert await switch.beat(session) is True
    sent = [e for e in logs if e["event"].startswith("heartbeat_send")]
    assert [e["event"] for e in sent] == ["heartbeat_send_failed", "heartbeat_send_recovered"]
    assert sent[0]["host"] == "127.0.0.1" and sent[0]["error"] == "HTTP 500"
    assert "secret-token" not in str(sent)


async def test_the_running_switch_posts_on_its_own(receiver: tuple[Receiver, str]) -> None:
    """Started, the switch posts at once and keeps going until stopped."""
    rec, url = receiver
    health = FakeHealth()
    switch = DeadMansSwitch(health.monitor, health.clock, url=url, interval_s=0.05)
    switch.start()
    try:
        await asyncio.wait_for(rec.arrived.wait(), timeout=5)
        while len(rec.beats) < 3:
            rec.arrived.clear()
            await asyncio.wait_for(rec.arrived.wait(), timeout=5)
    finally:
        await switch.stop()
    assert len(rec.beats) >= 3
