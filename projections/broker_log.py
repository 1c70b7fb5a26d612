"""The event topics read from offset 0 to the end offsets found at the start, for a replay.

A consumer of no group is assigned every partition of the topics, sought to the beginning
and read up to the end offsets taken when it started (`true_end_offsets`: the high
watermark, also on the embedded broker, whose ListOffsets(latest) can fall short of it);
what is published meanwhile is left to the replay's catch-up from the archive.

Order (docs/decisions/023, addendum): each partition's records come in log order, as the
projector applies them; partitions are merged by the events' (recorded_at, occurred_at), a
record being taken only from the heads of the partitions, so a partition's own order is never
changed even where its times are not monotonic. A record this code cannot decode keeps its
place in its partition and is passed on as None.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from dispatch.events import Envelope
from dispatch.events.codec import EventDecodeError, decode

log = structlog.get_logger(__name__)

_FIRST = (float("-inf"), float("-inf"))  # an undecodable record goes once it is a head


class BrokerLogError(RuntimeError):
    """The broker's log cannot give a whole replay (retention cut it, no progress...)."""


@dataclass(frozen=True)
class Record:
    tp: TopicPartition
    offset: int
    event: Envelope | None  # None: not an event this code can decode

    @property
    def order(self) -> tuple[float, float]:
        if self.event is None:
            return _FIRST
        return (self.event.recorded_at.timestamp(), self.event.occurred_at.timestamp())


class BrokerLog:
    """`async with BrokerLog(servers, topics) as source:`, then `source.batches(n)`."""

    def __init__(self, bootstrap: str, topics: Sequence[str], *, stall_s: float = 30.0) -> None:
        self._bootstrap = bootstrap
        self._topics = tuple(topics)
        self._stall_s = stall_s
        self._consumer: AIOKafkaConsumer | None = None
        self.ends: dict[TopicPartition, int] = {}
        self.total = 0  # records between offset 0 and the end offsets

    async def __aenter__(self) -> BrokerLog:
        from dispatch.stack.end_offsets import true_end_offsets

        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=50,
            client_id="dispatch-replay",
        )
        await consumer.start()
        self._consumer = consumer
        try:
            parts = await self._partitions(consumer)
            consumer.assign(parts)
            begins = await consumer.beginning_offsets(parts)
            cut = {f"{tp.topic}[{tp.partition}]": o for tp, o in begins.items() if o > 0}
            if cut:
                raise BrokerLogError(
                    f"the broker no longer holds the start of {cut} (offsets below those were "
                    "deleted): replay from the archive (dispatch replay without --from-broker)"
                )
            self.ends = await true_end_offsets(self._bootstrap, parts)
            await consumer.seek_to_beginning(*parts)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        self.total = sum(self.ends.values())
        log.info("broker_log_opened", partitions=len(parts), records=self.total)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        missing = [t for t in self._topics if not consumer.partitions_for_topic(t)]
        if missing:
            await consumer.topics()  # a metadata refresh
            missing = [t for t in self._topics if not consumer.partitions_for_topic(t)]
        if missing:
            raise BrokerLogError(f"topics {missing} do not exist on {self._bootstrap}")
        return [
            TopicPartition(t, p)
            for t in self._topics
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]

    async def batches(self, size: int) -> AsyncIterator[list[Record]]:
        """Every record up to the end offsets, merged (see the module's doc), `size` at a time."""
        consumer = self._consumer
        assert consumer is not None
        heads: dict[TopicPartition, deque[Record]] = {
            tp: deque() for tp, end in sorted(self.ends.items()) if end > 0
        }
        after = dict.fromkeys(heads, 0)  # the next offset expected per partition
        consumer.pause(*[tp for tp in self.ends if tp not in heads])
        progress = time.monotonic()
        out: list[Record] = []
        while heads:
            needy = [tp for tp, queue in heads.items() if not queue]
            if needy:
                got = await consumer.getmany(*needy, timeout_ms=500, max_records=size)
                for tp, records in got.items():
                    for r in records:
                        if r.offset < self.ends[tp]:
                            heads[tp].append(Record(tp, r.offset, _decoded(r.value)))
                        after[tp] = r.offset + 1
                    progress = time.monotonic()
                for tp in needy:
                    if not heads[tp] and after[tp] >= self.ends[tp]:
                        del heads[tp]
                        consumer.pause(tp)
                if any(not queue for queue in heads.values()):
                    if time.monotonic() - progress > self._stall_s:
                        raise BrokerLogError(f"no records from the broker for {self._stall_s} s")
                    continue
            while heads and all(heads.values()):
                tp = min(heads, key=lambda t: heads[t][0].order)
                out.append(heads[tp].popleft())
                if not heads[tp] and after[tp] >= self.ends[tp]:
                    del heads[tp]
                    consumer.pause(tp)
                if len(out) >= size:
                    yield out
                    out = []
        if out:
            yield out


def _decoded(value: bytes | None) -> Envelope | None:
    if value is None:
        return None
    try:
        return decode(value)
    except EventDecodeError as exc:
        log.warning("replay_record_not_understood", error=str(exc)[:200])
        return None
