"""One registry: event type -> payload class and topic; decoding upcasts old versions."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from pydantic import ValidationError

from dispatch.events.catalogue import ALL_PAYLOADS
from dispatch.events.envelope import Envelope, EventPayload
from dispatch.topics import topic_for_event


class EventDecodeError(ValueError):
    """Raised for bytes that are not a valid event of a known type and version."""


@cache
def every_payload() -> tuple[type[EventPayload], ...]:
    """The core catalogue and every area's payloads (loaded on first use: areas import us)."""
    from dispatch.events.areas import AREA_PAYLOADS

    return (*ALL_PAYLOADS, *AREA_PAYLOADS)


@cache
def _payloads() -> dict[str, type[EventPayload]]:
    table = {cls.event_type: cls for cls in every_payload()}
    if len(table) != len(every_payload()):
        raise RuntimeError("two payload classes share an event type")
    return table


def payload_class(event_type: str) -> type[EventPayload]:
    try:
        return _payloads()[event_type]
    except KeyError:
        known = ", ".join(sorted(_payloads()))
        raise EventDecodeError(f"unknown event type {event_type!r} (known: {known})") from None


def topic_of(event: Envelope) -> str:
    return topic_for_event(event.type)


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
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise EventDecodeError(f"event is not JSON: {exc}") from exc
    return decode_obj(data)
