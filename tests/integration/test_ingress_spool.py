"""The ingress spool: events accepted while Kafka is down are published when it is back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaConnectionError

from dispatch.bus import EventPublisher
from dispatch.clock import SystemClock
from dispatch.crisis.events import CrisisCallReceived
from dispatch.events import derived_id, new_event
from dispatch.ingress.spool import IngressSpool
from dispatch.stack.broker import free_port
from dispatch.topics import CLIENT_EVENTS

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def call(sid: str):  # type: ignore[no-untyped-def]
    return new_event(
        CrisisCallReceived(
            call_sid=sid,
            caller_number="+15550200001",
            caller_kind="client",
            client_id="c-01",
            team_id="act-north",
            dialled_staff_id=None,
        ),
        key="c-01",
        event_id=derived_id("twilio-call", sid),
        occurred_at=T0,
        recorded_at=T0,
        actor="test",
    )


async def test_calls_spooled_while_kafka_down_are_published_later(
    pg_pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    """With no broker reachable, calls are kept; a relay with a broker publishes all, in order."""
    down = EventPublisher(f"127.0.0.1:{free_port()}", request_timeout_ms=1000)
    offline = IngressSpool(pg_pool, down, SystemClock())
    sids = [f"CA-spool-{i}" for i in range(3)]
    for sid in sids:
        assert await offline.record([call(sid)]) is True
    assert await offline.record([call(sids[0])]) is False  # a Twilio retry is not spooled twice
    with pytest.raises(KafkaConnectionError):
        await offline.relay_once()
    assert await offline.pending() == 3
    await down.stop()

    up = EventPublisher(kafka_bootstrap)
    try:
        assert await IngressSpool(pg_pool, up, SystemClock()).relay_once() == 3
    finally:
        await up.stop()
    assert await offline.pending() == 0

    consumer = AIOKafkaConsumer(
        CLIENT_EVENTS,
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    try:
        seen: list[str] = []
        for _ in range(50):
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for r in records:
                    payload = json.loads(r.value)["payload"]
                    if payload.get("call_sid", "").startswith("CA-spool-"):
                        seen.append(payload["call_sid"])
            if len(seen) >= 3:
                break
    finally:
        await consumer.stop()
    assert seen == sids
