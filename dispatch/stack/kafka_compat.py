"""Compatibility fixes for the embedded tansu broker (0.6.0), and only for it.

`apply_embedded_broker_compat()` is called by the faust app factory when
settings.embedded_broker is true. Against real Kafka it is never called and faust and
aiokafka run unpatched. Every patch is listed in `_PATCHES`, and nowhere else:

1. Exact table recovery (faust AIOKafkaConsumerThread._highwaters). tansu answers
   ListOffsets(latest) with the base offset of the newest record batch + 1, not the high
   watermark. faust restores a table by reading its changelog up to those end offsets, so
   it stopped inside the last batch and a counter went backwards (2001 restored instead
   of 2003). Fetch responses do carry the true high watermark: the end offsets faust's
   recovery uses now come from `true_end_offsets`, which fetches the newest batch of each
   non-empty partition and reads the high watermark of that fetch response.
2. Fetch long-poll cap (faust AIOKafkaConsumerThread._create_worker_consumer). A fetch
   that finds no data is held for its full max wait, even when records arrive meanwhile,
   and faust hard-codes fetch_max_wait_ms=1500 for its worker consumer (no faust setting
   exists): a record could wait up to 1.5 s per hop (measured on an idle consumer: ~450 ms
   per record at 1500 ms, ~3 ms at 20 ms). The consumer gets
   Settings.agents_fetch_max_wait_ms instead (decision 062: no first page waits on faust's
   agents; a longer wait makes each fetch at a high rate take more records, and the
   broker's cost is per fetch, decision 040).
3. Leaving the group (aiokafka GroupCoordinator._maybe_leave_group). tansu numbers a
   new group's first generation 0; aiokafka sends LeaveGroup only when generation > 0, so
   a member of generation 0 left silently and the next member waited for its session to
   expire (a worker restart took ~12 s instead of ~4 s). Generation 0 now leaves too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.consumer.group_coordinator import GroupCoordinator
from aiokafka.errors import KafkaError
from aiokafka.protocol.group import LeaveGroupRequest
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, server_list

from dispatch.stack.end_offsets import true_end_offsets

log = structlog.get_logger(__name__)


class _Compat:
    """What the patched methods read; set by apply_embedded_broker_compat()."""

    fetch_max_wait_ms: int = 20  # the end-offset probes
    agents_fetch_max_wait_ms: int = 20  # faust's worker consumer
    probe_timeout_s: float = 10.0
    originals: dict[tuple[type, str], Callable[..., Any]] = {}


def _original(cls: type, name: str) -> Callable[..., Any]:
    return _Compat.originals[(cls, name)]


async def _highwaters(self: Any, partitions: list[Any]) -> Mapping[Any, int]:
    """AIOKafkaConsumerThread._highwaters with true high watermarks (fix 1)."""
    if self.consumer.in_transaction:  # never with tansu (no transactions): faust's own
        result: Mapping[Any, int] = await _original(AIOKafkaConsumerThread, "_highwaters")(
            self, partitions
        )
        return result
    transport = self.transport
    ends = await true_end_offsets(
        server_list(transport.url, transport.default_port),
        partitions,
        fetch_max_wait_ms=_Compat.fetch_max_wait_ms,
        timeout_s=_Compat.probe_timeout_s,
    )
    return {tp: ends[TopicPartition(tp.topic, tp.partition)] for tp in partitions}


def _create_worker_consumer(self: Any, transport: Any) -> AIOKafkaConsumer:
    """AIOKafkaConsumerThread._create_worker_consumer with the capped fetch wait (fix 2)."""
    consumer: AIOKafkaConsumer = _original(AIOKafkaConsumerThread, "_create_worker_consumer")(
        self, transport
    )
    if not hasattr(consumer, "_fetch_max_wait_ms"):  # handed to the Fetcher by start()
        raise RuntimeError("aiokafka changed: AIOKafkaConsumer has no _fetch_max_wait_ms")
    consumer._fetch_max_wait_ms = _Compat.agents_fetch_max_wait_ms
    return consumer


async def _maybe_leave_group(self: Any) -> None:
    """GroupCoordinator._maybe_leave_group that also leaves generation 0 (fix 3)."""
    if self.generation == 0 and self._group_instance_id is None:
        try:
            await self._send_req(LeaveGroupRequest(self.group_id, self.member_id))
        except KafkaError as exc:
            log.warning("leave_group_failed", group=self.group_id, error=repr(exc))
        else:
            log.info("left_group", group=self.group_id, generation=0)
        self.reset_generation()
        return
    await _original(GroupCoordinator, "_maybe_leave_group")(self)


_PATCHES: tuple[tuple[type, str, Callable[..., Any]], ...] = (
    (AIOKafkaConsumerThread, "_highwaters", _highwaters),
    (AIOKafkaConsumerThread, "_create_worker_consumer", _create_worker_consumer),
    (GroupCoordinator, "_maybe_leave_group", _maybe_leave_group),
)


def apply_embedded_broker_compat(
    *, fetch_max_wait_ms: int | None = None, agents_fetch_max_wait_ms: int | None = None
) -> None:
    """Patch faust/aiokafka for tansu (idempotent). Only when the embedded broker is used.

    fetch_max_wait_ms (the end-offset probes) defaults to
    Settings().consumer_fetch_max_wait_ms (the environment), agents_fetch_max_wait_ms
    (faust's worker consumer) to fetch_max_wait_ms; a later call only updates them.
    """
    if fetch_max_wait_ms is None:
        from dispatch.settings import Settings

        fetch_max_wait_ms = Settings().consumer_fetch_max_wait_ms
    if agents_fetch_max_wait_ms is None:
        agents_fetch_max_wait_ms = fetch_max_wait_ms
    if min(fetch_max_wait_ms, agents_fetch_max_wait_ms) < 1:
        # Measured: tansu answers a fetch whose max wait is 0 with no records at all.
        raise ValueError("with tansu, the consumer fetch_max_wait_ms must be >= 1 ms")
    _Compat.fetch_max_wait_ms = fetch_max_wait_ms
    _Compat.agents_fetch_max_wait_ms = agents_fetch_max_wait_ms
    if is_applied():
        return
    for cls, name, patch in _PATCHES:
        _Compat.originals[(cls, name)] = getattr(cls, name)
        setattr(cls, name, patch)
    log.info(
        "embedded_broker_compat_applied",
        fetch_max_wait_ms=fetch_max_wait_ms,
        agents_fetch_max_wait_ms=agents_fetch_max_wait_ms,
    )


def is_applied() -> bool:
    return bool(_Compat.originals)


def remove_embedded_broker_compat() -> None:
    """Undo every patch (for tests that show what happens without them)."""
    for (cls, name), original in _Compat.originals.items():
        setattr(cls, name, original)
    _Compat.originals.clear()
