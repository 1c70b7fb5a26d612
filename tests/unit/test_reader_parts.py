"""The pure parts of a reader outside faust's streams: which records it hands its agent,
and the bounded cache of decoded states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dispatch.clients.events import ContactRecorded
from dispatch.crisis.events import CrisisCallReceived
from dispatch.events import Envelope, new_event
from dispatch.events.codec import encode
from dispatch.worker.batch_reader import deliveries
from dispatch.worker.guard import Undecodable
from dispatch.worker.state_cache import StateCache

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


@dataclass(frozen=True)
class Record:  # the fields of an aiokafka ConsumerRecord a reader reads
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


def contact() -> Envelope:
    payload = ContactRecorded(client_id="c1", staff_id="s1", kind="phone")
    return new_event(payload, key="c1", occurred_at=T0, recorded_at=T0, actor="test")


def call() -> Envelope:
    payload = CrisisCallReceived(
        call_sid="CA" + "0" * 32,
        caller_number="+15550100001",
        caller_kind="client",
        client_id="c1",
        team_id="t1",
        dialled_staff_id=None,
    )
    return new_event(payload, key="c1", occurred_at=T0, recorded_at=T0, actor="test")


def test_only_wanted_events_and_what_is_no_event_reach_the_agent() -> None:
    wanted, other = contact(), call()
    records = [
        Record("t", 0, 0, b"c1", encode(other)),
        Record("t", 0, 1, b"c1", encode(wanted)),
        Record("t", 0, 2, b"c1", b"{not json"),
        Record("t", 0, 3, b"c1", b'{"type": "ContactRecorded", "schema_version": 1}'),
    ]
    out = deliveries(records, {"ContactRecorded"})
    assert [d.offset for d in out] == [1, 2, 3]
    assert out[0].value == wanted
    assert isinstance(out[1].value, Undecodable) and out[1].value.raw == b"{not json"
    assert isinstance(out[2].value, Undecodable)  # a wanted type that does not validate
    assert out[0].event is records[1]  # the record itself: its headers are read later


def test_the_cache_keeps_the_newest_states_and_decodes_the_rest() -> None:
    decoded: list[str] = []

    def decode(raw: bytes | None, key: str) -> str:
        decoded.append(key)
        return f"{key}:{raw!r}"

    cache: StateCache[str] = StateCache(decode, size=2)
    cache.put_many({"a": "A", "b": "B"})
    cache.put_many({"c": "C"})  # "a" is the oldest: it goes
    assert cache.get("b", lambda: b"x") == "B" and cache.get("c", lambda: b"x") == "C"
    assert cache.get("a", lambda: b"raw") == "a:b'raw'"
    assert decoded == ["a"] and len(cache) == 2
    cache.put_many({"b": "B2"})  # "b" is the newest now: "c" goes next
    cache.put_many({"d": "D"})
    assert cache.get("b", lambda: None) == "B2" and cache.get("c", lambda: None) == "c:None"
