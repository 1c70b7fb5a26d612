"""The broker replay's reading order: each partition in log order, partitions merged by
recorded time from their heads only, nothing past the end offsets, undecodable records kept
in place as None. A stand-in consumer hands out the records (pure unit test)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from aiokafka import AIOKafkaConsumer, TopicPartition

from dispatch.events import Envelope
from dispatch.events.codec import encode
from projections.broker_log import BrokerLog, Record
from tests.unit.page_events import page_cancelled

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
A, B = TopicPartition("act.page-events", 0), TopicPartition("act.page-events", 1)


def event(minute: int) -> Envelope:
    return page_cancelled(at=T0 + timedelta(minutes=minute))


@dataclass
class Message:
    offset: int
    value: bytes | None


class StandIn:
    """Gives at most `chunk` records of each partition asked for per getmany."""

    def __init__(self, logs: dict[TopicPartition, list[bytes | None]], chunk: int) -> None:
        self._logs = logs
        self._next = dict.fromkeys(logs, 0)
        self._chunk = chunk
        self.paused: set[TopicPartition] = set()

    async def getmany(
        self, *tps: TopicPartition, timeout_ms: int, max_records: int
    ) -> dict[TopicPartition, list[Message]]:
        out = {}
        for tp in tps:
            start = self._next[tp]
            values = self._logs[tp][start : start + self._chunk]
            self._next[tp] = start + len(values)
            if values:
                out[tp] = [Message(start + i, v) for i, v in enumerate(values)]
        return out

    def pause(self, *tps: TopicPartition) -> None:
        self.paused.update(tps)


async def read(logs: dict[TopicPartition, list[bytes | None]], ends: dict[TopicPartition, int],
               *, chunk: int, size: int) -> list[Record]:  # fmt: skip
    source = BrokerLog("unused:9092", ["act.page-events"])
    source._consumer = cast(AIOKafkaConsumer, StandIn(logs, chunk))
    source.ends = ends
    return [r async for batch in source.batches(size) for r in batch]


def minutes(records: Sequence[Record]) -> list[int | None]:
    return [
        None if r.event is None else int((r.event.recorded_at - T0).total_seconds() // 60)
        for r in records
    ]


async def test_partitions_are_merged_by_recorded_time_each_in_its_own_order() -> None:
    """Minute 9 comes before 4 in partition A (a late event): A's order is kept, B's events
    are placed between by their times; a record past the end offsets is not read."""
    logs: dict[TopicPartition, list[bytes | None]] = {
        A: [encode(event(m)) for m in (1, 5, 9, 4, 10, 99)],
        B: [encode(event(m)) for m in (2, 3, 6, 7, 8)],
    }
    for chunk in (1, 2, 10):
        got = await read(logs, {A: 5, B: 5}, chunk=chunk, size=3)
        assert minutes(got) == [1, 2, 3, 5, 6, 7, 8, 9, 4, 10]
        assert [r.offset for r in got if r.tp == A] == [0, 1, 2, 3, 4]


async def test_an_undecodable_record_keeps_its_place_and_an_empty_log_is_skipped() -> None:
    logs: dict[TopicPartition, list[bytes | None]] = {
        A: [encode(event(1)), b"not json", encode(event(5))],
        B: [],
    }
    got = await read(logs, {A: 3, B: 0}, chunk=1, size=100)
    assert minutes(got) == [1, None, 5]
