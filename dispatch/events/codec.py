"""Events to and from bytes: JSON on the wire, payloads upcast to today's shape on read.

`decode` takes the bytes of an event at its type's current version, laid out as `encode`
writes them (`{"event_id":"…","type":"…",`), in one pass: the envelope and its payload are
validated from the JSON together, by an envelope model whose payload is typed as that
type's class (made once per type), and the result is given back as a plain Envelope. It
is the same event as the general path (parse, upcast, validate: `decode_obj`), which
takes everything else, and every error (tests/unit/test_codec_one_pass.py compares the two).
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError, create_model

from dispatch.events.envelope import Envelope, EventPayload, assembled
from dispatch.events.registry import BY_TYPE, payload_class

# What `encode` writes first: the event id (a UUID's 36 characters), then the type.
_ID_HEAD = b'{"event_id":"'
_TYPE_AT = len(_ID_HEAD) + 36
_TYPE_HEAD = b'","type":"'
_TYPE_FROM = _TYPE_AT + len(_TYPE_HEAD)
_TYPED: dict[type[EventPayload], type[Envelope]] = {}


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


def decode(raw: bytes | str, *, event_type: str | None = None) -> Envelope:
    """The event in `raw`. `event_type`: what `type_at_head` already read of these bytes,
    so that it is not read twice."""
    if isinstance(raw, bytes):
        event = _decode_current(raw, event_type or type_at_head(raw))
        if event is not None:
            return event
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:  # also raised for bytes that are not UTF-8
        raise EventDecodeError(f"event is not JSON: {exc}") from exc
    return decode_obj(data)


def type_at_head(raw: bytes) -> str | None:
    """The event type of bytes laid out as `encode` writes them; None for any other layout
    (then only parsing the JSON tells)."""
    if not raw.startswith(_ID_HEAD) or raw[_TYPE_AT:_TYPE_FROM] != _TYPE_HEAD:
        return None
    end = raw.find(b'"', _TYPE_FROM)
    if end < 0:
        return None
    try:
        return raw[_TYPE_FROM:end].decode()
    except UnicodeDecodeError:
        return None


def _decode_current(raw: bytes, event_type: str | None) -> Envelope | None:
    """The event in one validation, when its bytes are laid out as `encode` writes them
    (`event_type` is what `type_at_head` read of them) and it is at its type's current
    version; None for anything else (the general path decides, and words the error)."""
    cls = payload_class(event_type) if event_type is not None else None
    if cls is None:
        return None
    try:
        typed = _typed(cls).__pydantic_validator__.validate_json(raw)
    except ValidationError:
        return None
    fields = typed.__dict__
    if fields["type"] != event_type or fields["schema_version"] != cls.schema_version:
        return None  # another layout after all, or an older version to upcast
    return assembled(Envelope, fields, typed.__pydantic_fields_set__)


def _typed(cls: type[EventPayload]) -> type[Envelope]:
    """The envelope with its payload typed as `cls` (made on first use, then kept)."""
    model = _TYPED.get(cls)
    if model is None:
        model = create_model(f"{cls.__name__}Envelope", __base__=Envelope, payload=(cls, ...))
        _TYPED[cls] = model
    return model
