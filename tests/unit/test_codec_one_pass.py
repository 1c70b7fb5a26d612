"""The codec's one-pass decoding of its own bytes gives the same events, and the same errors,
as parsing the JSON and validating it step by step; and the batch reader skips the types it
does not want by their head alone."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import orjson
import pytest

from dispatch.events.codec import EventDecodeError, decode, decode_obj, encode, type_at_head
from dispatch.events.envelope import Envelope
from dispatch.worker.batch_reader import deliveries
from dispatch.worker.guard import Undecodable
from tests.integration.replay_history import Shape, history

Record = namedtuple("Record", "topic partition offset key value")


def _history() -> list[Envelope]:
    events = history(Shape(seed=5, incidents=30, episodes=90))
    assert len({e.type for e in events}) > 50
    return events


def test_every_event_type_decodes_to_the_event_that_was_encoded() -> None:
    for event in _history():
        raw = encode(event)
        assert type_at_head(raw) == event.type
        fast = decode(raw)
        assert type(fast) is Envelope
        assert fast == event
        assert fast == decode_obj(orjson.loads(raw))
        assert encode(fast) == raw


def _compact(event: Envelope, **changes: Any) -> bytes:
    """The event's bytes in the codec's own layout, with some fields changed."""
    data = orjson.loads(encode(event))
    payload = changes.pop("payload", {})
    data.update(changes)
    data["payload"].update(payload)
    raw = orjson.dumps(data)
    assert type_at_head(raw) == data["type"]  # still the layout the one pass reads
    return raw


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"payload": {"diagnosis": "x"}}, "diagnosis"),
        ({"schema_version": 99}, "newer"),
        ({"schema_version": 0}, "no upcaster"),
        ({"type": "CrisisCallTeleported"}, "CrisisCallTeleported"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"event_id": "not-a-uuid-but-36-characters-long!!!"}, "event_id"),
    ],
)
def test_bad_bytes_in_the_codec_layout_get_the_general_path_s_error(
    changes: dict[str, Any], message: str
) -> None:
    event = _history()[0]
    with pytest.raises(EventDecodeError, match=message):
        decode(_compact(event, **changes))


def test_other_layouts_are_read_by_parsing() -> None:
    event = _history()[0]
    spaced = orjson.dumps(orjson.loads(encode(event)), option=orjson.OPT_INDENT_2)
    reordered = orjson.dumps({"type": event.type, **orjson.loads(encode(event))})
    for raw in (spaced, reordered):
        assert type_at_head(raw) is None
        assert decode(raw) == event


def test_the_reader_skips_unwanted_types_and_still_dead_letters_garbage() -> None:
    events = _history()[:400]
    wanted = {"ContactRecorded", "RelapseSignalObserved", "ClientEnrolled"}
    records = [Record("t", 0, i, e.key.encode(), encode(e)) for i, e in enumerate(events)]
    records.append(Record("t", 0, len(events), b"k", b"\x00garbage"))
    records.append(Record("t", 0, len(events) + 1, b"k", None))
    got = deliveries(records, wanted)
    decoded = [d.value for d in got if isinstance(d.value, Envelope)]
    assert decoded == [e for e in events if e.type in wanted]
    assert decoded, "the history has events of the wanted types"
    assert [d.offset for d in got if isinstance(d.value, Undecodable)] == [
        len(events),
        len(events) + 1,
    ]
