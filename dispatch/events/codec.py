"""Events to and from bytes: JSON on the wire, payloads upcast to today's shape on read."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from dispatch.events.envelope import Envelope
from dispatch.events.registry import BY_TYPE, payload_class


class EventDecodeError(ValueError):
    """Raised for bytes that are not a valid event of a known type and version."""


def encode(event: Envelope) -> bytes:
    return event.model_dump_json().encode()


def decode_obj(data: dict[str, Any]) -> Envelope:
    """Validate a decoded JSON object as an envelope, upcasting its payload to today's shape."""
    if not isinstance(data, dict):
        raise EventDecodeError("an event must be a JSON object")
    event_type = data.get("type")
    version = data.get("schema_version")
    if not isinstance(event_type, str) or not isinstance(version, int):
        raise EventDecodeError("event has no 'type' string or 'schema_version' integer")
    cls = payload_class(event_type)
    if cls is None:
        known = ", ".join(sorted(BY_TYPE))
        raise EventDecodeError(f"unknown event type {event_type!r} (known: {known})")
    if version > cls.schema_version:
        raise EventDecodeError(
            f"{event_type} schema_version {version} is newer than this code knows "
            f"({cls.schema_version}); upgrade the reader"
        )
    try:
        payload = cls.model_validate(cls.upcast(version, dict(data.get("payload") or {})))
        return Envelope.model_validate(
            {**data, "schema_version": cls.schema_version, "payload": payload}
        )
    except (ValidationError, ValueError) as exc:
        raise EventDecodeError(f"invalid {event_type} event: {exc}") from exc


def decode(raw: bytes | str) -> Envelope:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:  # also raised for bytes that are not UTF-8
        raise EventDecodeError(f"event is not JSON: {exc}") from exc
    return decode_obj(data)
