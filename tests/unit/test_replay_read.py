"""The replay's reading of the archive: the same events as the codec, and the sequence numbers
it lacks; the waves its handlers' statements are sent in."""

from __future__ import annotations

import json
from typing import Any

from dispatch.events.codec import decode_obj
from projections.replay_read import Seen, envelope_of
from projections.statements import rounds
from tests.integration.replay_history import Shape, history


def archived(event: Any, seq: int) -> dict[str, Any]:
    """The row `dispatch replay` reads for an event (payload as jsonb's text gives it)."""
    return {
        "archived_seq": seq, "event_id": event.event_id, "type": event.type,
        "schema_version": event.schema_version, "key": event.key,
        "occurred_at": event.occurred_at, "recorded_at": event.recorded_at,
        "correlation_id": event.correlation_id, "causation_id": event.causation_id,
        "actor": event.actor, "payload": json.dumps(json.loads(event.payload.model_dump_json())),
    }  # fmt: skip


def test_rows_decode_to_the_events_the_codec_gives() -> None:
    """Every event type of a generated history: the replay's decoding equals the codec's."""
    events = history(Shape(seed=3, incidents=40, episodes=120))
    assert len({e.type for e in events}) > 50
    for seq, event in enumerate(events, start=1):
        row = archived(event, seq)
        fast = envelope_of(row)
        envelope = {k: v for k, v in row.items() if k != "archived_seq"}
        slow = decode_obj({**envelope, "payload": json.loads(row["payload"])})
        assert fast == slow == event
        assert fast is not None and fast.model_dump() == slow.model_dump()


def test_rows_this_code_cannot_read_are_none() -> None:
    event = history(Shape(seed=4))[0]
    newer = {**archived(event, 1), "schema_version": 99}
    unknown = {**archived(event, 1), "type": "NoSuchEvent"}
    broken = {**archived(event, 1), "payload": '{"team_id": 3}'}
    assert envelope_of(newer) is None
    assert envelope_of(unknown) is None
    assert envelope_of(broken) is None


def test_seen_lacks_what_a_snapshot_could_not_see() -> None:
    """Rows applied 5..9 and 12 (10 and 11 were in flight): the catch-up asks for more than
    12, the holes 10 and 11, and anything under 5 not applied since."""
    seen = Seen(low=5, high=4)
    for seq in (5, 6, 7, 8, 9, 12):
        seen.mark(seq)
    _, args = seen.missing_query()
    assert args == [12, [10, 11], 5, []]
    seen.mark(11)
    seen.mark(3)
    _, args = seen.missing_query()
    assert args == [12, [10], 5, [3]]


def test_statements_of_one_key_keep_their_order_in_waves() -> None:
    statements = [("A", ("k1", 1)), ("B", ("k1", 2)), ("A", ("k2", 1)), ("A", ("k1", 3))]
    assert rounds(statements) == [
        ("A", [("k1", 1), ("k2", 1)]),
        ("B", [("k1", 2)]),
        ("A", [("k1", 3)]),
    ]
