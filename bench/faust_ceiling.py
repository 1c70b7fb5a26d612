"""What faust itself allows: agents that do nothing, on the topic the risk agent reads.

A figure for bench_risk: an in-process faust app reads the same backlog with the project's
envelope codec, the `noack_take` loop the risk agent had while it read through faust's
streams, and a second agent reading the same topic one event at a time, as the worker's
crisis-contact agent does. Neither does anything with an event but ack it, so the rate is
faust's per-message delivery (consumer, decode, one channel per agent, the stream
machinery) and nothing of ours: the cap that made the risk agent read with a consumer of
its own (docs/decisions/032).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import faust

from dispatch.worker.codec import CODEC_NAME, register_codec

BATCH_MAX = 2000  # the risk agent's batches while it read through faust (before decision 032)
BATCH_WITHIN_S = 0.1

TIMEOUT_S = 300.0


async def idle_agents_rate(bootstrap: str, topic_name: str, expected: int) -> float:
    """events/s for the idle pair of agents to take `expected` events from the start."""
    register_codec()
    app = faust.App(
        f"bench-faust-ceiling-{uuid.uuid4().hex[:8]}",  # a group of its own, read from 0
        broker=f"kafka://{bootstrap}",
        store="memory://",
        web_enabled=False,
        topic_partitions=1,
        stream_wait_empty=False,
        consumer_auto_offset_reset="earliest",
    )
    topic = app.topic(topic_name, key_type=bytes, value_serializer=CODEC_NAME)
    taken = 0
    first = 0.0
    done = asyncio.Event()

    @app.agent(topic, name="idle-batches")
    async def batches(stream: Any) -> None:
        nonlocal taken, first
        async for events in stream.noack_take(BATCH_MAX, within=BATCH_WITHIN_S):
            first = first or time.perf_counter()
            taken += len(events)
            for event in events:
                await stream.ack(event)
            if taken >= expected:
                done.set()

    @app.agent(topic, name="idle-one-by-one")
    async def one_by_one(stream: Any) -> None:
        async for _event in stream.events():
            pass

    _unused: Any = (batches, one_by_one)
    await app.start()
    try:
        await asyncio.wait_for(done.wait(), TIMEOUT_S)
        return taken / (time.perf_counter() - first)
    finally:
        await app.stop()
