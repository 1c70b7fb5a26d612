"""Compatibility fixes for the embedded tansu broker, and only for it.

`apply_embedded_broker_compat()` is called by the faust app factory when
settings.embedded_broker is true. Against real Kafka it is never called and faust runs
unpatched. Both fixes patch faust's aiokafka consumer thread
(`faust.transport.drivers.aiokafka.AIOKafkaConsumerThread`), here and nowhere else:

1. Exact table recovery. tansu 0.6.0 answers ListOffsets(latest) with the base offset of
   the newest record batch + 1 instead of the high watermark. faust reads a changelog up
   to those end offsets when it restores a table, so it stopped inside the last batch and
   a counter went backwards (2001 restored instead of 2003). Fetch responses do carry the
   true high watermark, so `_highwaters` (the end offsets faust's recovery uses) now asks
   ListOffsets, fetches the newest batch of each non-empty partition and takes the
   high watermark of that fetch response (`true_end_offsets`).
2. Fetch long-poll cap. tansu sleeps the full fetch wait on every fetch, even with data
   ready, and faust hard-codes fetch_max_wait_ms=1500 for its worker consumer (there is
   no faust setting for it). The consumer is created with the configured cap instead
   (Settings.consumer_fetch_max_wait_ms).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, server_list

log = structlog.get_logger(__name__)

_PATCH_MARK = "__dispatch_embedded_compat__"


class _Compat:
    """What the patched methods read; set by apply_embedded_broker_compat()."""

    fetch_max_wait_ms: int = 0
    probe_timeout_s: float = 10.0


async def true_end_offsets(
    bootstrap: str | list[str],
    partitions: Collection[TopicPartition],
    *,
    fetch_max_wait_ms: int = 10,
    timeout_s: float = 10.0,
) -> dict[TopicPartition, int]:
    """The high watermark of each partition, as a fetch response reports it.

    tansu's ListOffsets(latest) is `base offset of the newest batch + 1`; a fetch from one
    below that (the newest batch's base offset) returns that batch with the true high
    watermark. Against real Kafka this returns the same as `end_offsets`.
    """
    # faust passes its own TP namedtuples; aiokafka asserts on its TopicPartition type.
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
        result: dict[TopicPartition, int] = {}
        pending: set[TopicPartition] = set()
        for tp in tps:
            if reported[tp] <= earliest[tp]:
                result[tp] = reported[tp]  # empty partition: nothing to correct
            else:
                probe.seek(tp, reported[tp] - 1)
                pending.add(tp)
        deadline = time.monotonic() + timeout_s
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no fetch response with a high watermark for {pending}")
            await probe.getmany(*pending, timeout_ms=100)
            for tp in list(pending):
                highwater: int | None = probe.highwater(tp)
                if highwater is not None:
                    result[tp] = max(highwater, reported[tp])
                    pending.discard(tp)
        corrected = {f"{tp.topic}:{tp.partition}": result[tp] for tp in tps if result[tp] != reported[tp]}
        if corrected:
            log.info("end_offsets_corrected", corrected=corrected)
        return result
    finally:
        await probe.stop()


async def _highwaters(self: Any, partitions: list[TopicPartition]) -> Mapping[TopicPartition, int]:
    """Replaces AIOKafkaConsumerThread._highwaters: true high watermarks (see module doc)."""
    if self.consumer.in_transaction:  # never with tansu (no transactions); keep faust's
        return await _ORIGINAL["_highwaters"](self, partitions)  # type: ignore[no-any-return]
    transport = self.transport
    bootstrap = server_list(transport.url, transport.default_port)
    ends = await true_end_offsets(
        bootstrap,
        partitions,
        fetch_max_wait_ms=_Compat.fetch_max_wait_ms,
        timeout_s=_Compat.probe_timeout_s,
    )
    return {tp: ends[TopicPartition(tp.topic, tp.partition)] for tp in partitions}


def _create_worker_consumer(self: Any, transport: Any) -> AIOKafkaConsumer:
    """Replaces AIOKafkaConsumerThread._create_worker_consumer: capped fetch long-poll."""
    consumer = _ORIGINAL["_create_worker_consumer"](self, transport)
    if not hasattr(consumer, "_fetch_max_wait_ms"):  # read by consumer.start()
        raise RuntimeError("aiokafka changed: AIOKafkaConsumer has no _fetch_max_wait_ms")
    consumer._fetch_max_wait_ms = _Compat.fetch_max_wait_ms
    return consumer  # type: ignore[no-any-return]


_ORIGINAL: dict[str, Callable[..., Any]] = {}
_PATCHES: dict[str, Callable[..., Any]] = {
    "_highwaters": _highwaters,
    "_create_worker_consumer": _create_worker_consumer,
}


def apply_embedded_broker_compat(*, fetch_max_wait_ms: int | None = None) -> None:
    """Patch faust for tansu (idempotent). Call only when the embedded broker is in use.

    fetch_max_wait_ms defaults to Settings().consumer_fetch_max_wait_ms (the environment).
    """
    if fetch_max_wait_ms is None:
        from dispatch.settings import Settings

        fetch_max_wait_ms = Settings().consumer_fetch_max_wait_ms
    if fetch_max_wait_ms < 1:
        # Measured: tansu answers a fetch with max_wait 0 with no records at all.
        raise ValueError("with tansu, consumer fetch_max_wait_ms must be >= 1 ms")
    _Compat.fetch_max_wait_ms = fetch_max_wait_ms
    if is_applied():
        return
    for name, patch in _PATCHES.items():
        _ORIGINAL[name] = getattr(AIOKafkaConsumerThread, name)
        setattr(AIOKafkaConsumerThread, name, patch)
    setattr(AIOKafkaConsumerThread, _PATCH_MARK, True)
    log.info("embedded_broker_compat_applied", fetch_max_wait_ms=fetch_max_wait_ms)


def is_applied() -> bool:
    return bool(getattr(AIOKafkaConsumerThread, _PATCH_MARK, False))


def remove_embedded_broker_compat() -> None:
    """Undo the patches (tests use it to show what the broker does without them)."""
    if not is_applied():
        return
    for name, original in _ORIGINAL.items():
        setattr(AIOKafkaConsumerThread, name, original)
    delattr(AIOKafkaConsumerThread, _PATCH_MARK)
    _ORIGINAL.clear()
