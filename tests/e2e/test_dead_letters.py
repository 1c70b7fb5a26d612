"""A message the agents cannot read is set aside on act.dead-letters, and paging goes on."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from dispatch.demo.seed import CLIENT_PHONES
from dispatch.stack.runtime import Stack
from dispatch.topics import DEAD_LETTERS, PAGE_EVENTS
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e.helpers import last_index, next_page, on_duty_primary


async def dead_letters(bootstrap: str, key: bytes, want: int) -> list[dict[str, Any]]:
    """The dead-letter records with this key (at least `want` of them, or what came)."""
    consumer = AIOKafkaConsumer(
        DEAD_LETTERS,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        for _ in range(150):
            batch = await consumer.getmany(timeout_ms=200)
            found += [json.loads(r.value) for rs in batch.values() for r in rs if r.key == key]
            if len(found) >= want:
                break
    finally:
        await consumer.stop()
    return found


async def test_garbage_on_the_page_topic_is_dead_lettered_and_pages_still_go_out(
    stack: Stack, phones: SandboxPhones
) -> None:
    """Bytes that are no event reach the dead-letter topic once per agent that read them,
    with the bytes and the reason; the next crisis call is paged as usual."""
    key = f"poison-{uuid.uuid4().hex[:8]}".encode()
    garbage = b"\xff\xfe this is not an event"
    producer = AIOKafkaProducer(
        bootstrap_servers=stack.settings.kafka_bootstrap_servers, enable_idempotence=False
    )
    await producer.start()
    try:
        await producer.send_and_wait(PAGE_EVENTS, garbage, key=key)
    finally:
        await producer.stop()
    primary = await on_duty_primary(stack)
    after = last_index(stack)
    await phones.place_call(CLIENT_PHONES["c-09"], stack.settings.crisis_line_number)
    await next_page(phones, primary.phone, after=after, timeout=30)
    records = await dead_letters(stack.settings.kafka_bootstrap_servers, key, 2)
    assert sorted(r["agent"] for r in records) == ["notifier", "paging-failover"]
    for record in records:
        assert record["reason"] == "undecodable" and record["topic"] == PAGE_EVENTS
        assert base64.b64decode(record["raw_base64"]) == garbage
