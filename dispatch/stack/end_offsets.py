"""The true end offset of each partition, read the way tansu makes it right.

tansu (the embedded broker) answers ListOffsets(latest) with the base offset of the
newest record batch + 1, not the high watermark; a fetch response carries the true one.
Here without faust, so that a process that never runs faust can ask it
(dispatch/stack/kafka_compat.py applies it to faust's table recovery).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

log = structlog.get_logger(__name__)


async def true_end_offsets(
    bootstrap: str | list[str],
    partitions: Collection[Any],
    *,
    fetch_max_wait_ms: int = 10,
    timeout_s: float = 10.0,
) -> dict[TopicPartition, int]:
    """The high watermark of each partition, as a fetch response reports it.

    tansu's ListOffsets(latest) is `base offset of the newest batch + 1`; a fetch from one
    below it (that batch's base offset) returns the batch and the true high watermark.
    Against real Kafka the result equals `end_offsets`. `partitions` may hold faust TPs.
    """
    tps = [TopicPartition(tp.topic, tp.partition) for tp in partitions]
    if not tps:
        return {}
    probe = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=fetch_max_wait_ms,  # the data is there: the wait is not used
        request_timeout_ms=int(timeout_s * 1000),
    )
    await probe.start()
    try:
        probe.assign(tps)
        reported: Mapping[TopicPartition, int] = await probe.end_offsets(tps)
        earliest: Mapping[TopicPartition, int] = await probe.beginning_offsets(tps)
        ends: dict[TopicPartition, int] = {}
        for tp in tps:
            if reported[tp] <= earliest[tp]:
                ends[tp] = reported[tp]  # empty: nothing to correct
            else:
                probe.seek(tp, reported[tp] - 1)
        pending = [tp for tp in tps if tp not in ends]
        deadline = time.monotonic() + timeout_s
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no fetch response with a high watermark for {pending}")
            await probe.getmany(*pending, timeout_ms=100)
            for tp in pending:
                highwater: int | None = probe.highwater(tp)
                if highwater is not None:
                    ends[tp] = max(highwater, reported[tp])
            pending = [tp for tp in pending if tp not in ends]
    finally:
        await probe.stop()
    corrected = {f"{tp.topic}:{tp.partition}": (reported[tp], ends[tp]) for tp in tps}
    log.debug("end_offsets_probed", reported_vs_true=corrected)
    return ends
