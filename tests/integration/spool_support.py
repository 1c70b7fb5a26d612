"""Shared builders for the spool tests: a crisis call event and what reached the topic."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer

from dispatch.crisis.events import CrisisCallReceived
from dispatch.events import Envelope, derived_id, new_event
from dispatch.topics import CLIENT_EVENTS

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def call(sid: str) -> Envelope:
    """A client's crisis call with this CallSid."""
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


async def published_sids(bootstrap: str, prefix: str, want: int) -> list[str]:
    """call_sids starting with `prefix` on the client-events topic, in log order."""
    consumer = AIOKafkaConsumer(
        CLIENT_EVENTS,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    seen: list[str] = []
    try:
        for _ in range(100):
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for r in records:
                    sid = json.loads(r.value)["payload"].get("call_sid", "")
                    if sid.startswith(prefix):
                        seen.append(sid)
            if len(seen) >= want:
                break
    finally:
        await consumer.stop()
    return seen
