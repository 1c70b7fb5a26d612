"""The event envelope: round trips, unknown types and upcasting."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from dispatch.clients.events import ClientEnrolled
from dispatch.crisis.events import CrisisCallReceived
from dispatch.events import derived_id, new_event
from dispatch.events.codec import EventDecodeError, decode, encode
from dispatch.events.envelope import ID_NAMESPACE, Envelope, EventPayload
from dispatch.events.registry import index_by_type, topic_of

T0 = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)


def _call() -> Any:
    return new_event(
        CrisisCallReceived(
            call_sid="CA1",
            caller_number="+15550000001",
            caller_kind="client",
            client_id="c-1",
            team_id="t-1",
            dialled_staff_id="s-1",
        ),
        key="c-1",
        occurred_at=T0,
        recorded_at=T0,
        actor="twilio",
    )


def test_round_trip_is_exact() -> None:
    """An event decoded from its bytes equals the event that was encoded."""
    event = _call()
    assert decode(encode(event)) == event
    assert decode(encode(event)).payload.call_sid == "CA1"


def test_events_are_frozen() -> None:
    """Nobody can change a recorded fact in place."""
    event = _call()
    with pytest.raises(ValidationError):
        event.key = "other"  # type: ignore[misc]


def test_a_new_event_is_the_envelope_validation_would_make() -> None:
    """An event made from typed values equals the envelope the model validates from them;
    an id given as text is converted as validation converts it; a datetime without a zone
    is refused, as validation refuses it."""
    event = _call()
    assert event == Envelope.model_validate(event.__dict__)
    assert event.__pydantic_fields_set__ == set(Envelope.model_fields)
    assert encode(event) == encode(Envelope.model_validate(event.__dict__))
    as_text = new_event(
        event.payload,
        key="c-1",
        occurred_at=T0,
        recorded_at=T0,
        actor="twilio",
        event_id=str(event.event_id),  # type: ignore[arg-type]  # what a caller might pass
    )
    assert as_text.event_id == event.event_id and isinstance(as_text.event_id, uuid.UUID)
    with pytest.raises(ValidationError, match="timezone"):
        new_event(
            event.payload, key="c-1", occurred_at=T0.replace(tzinfo=None), recorded_at=T0,
            actor="twilio",
        )  # fmt: skip


def test_unknown_type_is_a_clear_error() -> None:
    """Bytes naming an event type we do not know are refused with the type's name."""
    data = json.loads(encode(_call()))
    data["type"] = "CrisisCallTeleported"
    with pytest.raises(EventDecodeError, match="CrisisCallTeleported"):
        decode(json.dumps(data))


def test_unknown_payload_field_is_refused() -> None:
    """A payload with a field the schema does not have is refused, naming the field."""
    data = json.loads(encode(_call()))
    data["payload"]["diagnosis"] = "x"
    with pytest.raises(EventDecodeError, match="diagnosis"):
        decode(json.dumps(data))


def test_newer_schema_version_is_refused() -> None:
    """A reader never guesses at a schema version newer than it knows."""
    data = json.loads(encode(_call()))
    data["schema_version"] = 99
    with pytest.raises(EventDecodeError, match="newer"):
        decode(json.dumps(data))


def test_not_json_is_a_clear_error() -> None:
    """Garbage on a topic is reported as not JSON, not as a crash."""
    with pytest.raises(EventDecodeError, match="not JSON"):
        decode(b"\x00garbage")


def test_old_version_is_upcast_on_read() -> None:
    """A payload stored at version 1 is upcast to the class's current version when read."""

    class NoteTaken(EventPayload):
        event_type: ClassVar[str] = "NoteTaken"
        schema_version: ClassVar[int] = 2
        text: str
        author: str

        @classmethod
        def upcast(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
            if version == 1:
                return {**data, "author": "unknown"}
            return super().upcast(version, data)

    assert NoteTaken.upcast(1, {"text": "hi"}) == {"text": "hi", "author": "unknown"}
    with pytest.raises(ValueError, match="no upcaster"):
        ClientEnrolled.upcast(0, {})


def test_caused_event_inherits_correlation() -> None:
    """A page caused by a call carries the call's correlation id and names it as its cause."""
    call = _call()
    enrolled = new_event(
        ClientEnrolled(client_id="c-1", team_id="t-1", display_name="A", phone=None),
        key="c-1",
        occurred_at=T0,
        recorded_at=T0,
        actor="x",
        cause=call,
    )
    assert enrolled.correlation_id == call.correlation_id
    assert enrolled.causation_id == call.event_id


def test_two_payloads_claiming_one_event_type_are_refused() -> None:
    """Two areas cannot declare the same event type name: the registry refuses at once."""

    class Twin(EventPayload):
        event_type: ClassVar[str] = "CrisisCallReceived"

    with pytest.raises(ValueError, match="CrisisCallReceived"):
        index_by_type((CrisisCallReceived, Twin))


def test_a_crisis_call_is_routed_to_the_client_topic() -> None:
    """A crisis call is published on the client events topic."""
    assert topic_of(_call()) == "act.client-events"


@given(st.lists(st.one_of(st.text(), st.integers(), st.uuids()), min_size=1, max_size=4))
def test_derived_ids_are_uuid5_of_their_parts(parts: list[object]) -> None:
    """The same id as the standard library's uuid5 of the parts joined by "/", so ids
    derived before (archived, on the broker) are derived again the same."""
    made = derived_id(*parts)
    expected = uuid.uuid5(ID_NAMESPACE, "/".join(str(p) for p in parts))
    assert made == expected
    assert str(made) == str(expected)
    assert made.version == 5
    assert made.variant == uuid.RFC_4122
    assert hash(made) == hash(expected)
