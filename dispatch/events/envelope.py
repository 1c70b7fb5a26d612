"""The one event envelope every fact in the system travels in."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, SerializeAsAny

# Namespace for ids derived from other ids (a retry re-derives the same id).
ID_NAMESPACE = uuid.UUID("6f1c1b1e-3c1a-4f4e-9d7a-5b0f3c2a9e10")


_NAMESPACE = ID_NAMESPACE.bytes
_VERSION_5 = (0x8000 << 48) | (5 << 76)  # RFC 4122's variant and version 5 bits
_NOT_VERSION = ~(0xC000 << 48) & ~(0xF000 << 64)
_new = object.__new__
_set = object.__setattr__


def derived_id(*parts: object) -> uuid.UUID:
    """A deterministic UUID from its parts: the same inputs always give the same id.

    It is `uuid.uuid5(ID_NAMESPACE, "/".join(str(p) for p in parts))`, made without
    UUID.__init__'s checks (a risk decision derives several ids: this was a tenth of the
    risk agent's fold); tests/unit/test_envelope.py holds the two equal."""
    name = "/".join([str(p) for p in parts]).encode()
    digest = hashlib.sha1(_NAMESPACE + name, usedforsecurity=False).digest()  # as uuid5
    made: uuid.UUID = _new(uuid.UUID)
    _set(made, "int", (int.from_bytes(digest[:16]) & _NOT_VERSION) | _VERSION_5)
    _set(made, "is_safe", uuid.SafeUUID.unknown)
    return made


Model = TypeVar("Model", bound=BaseModel)


def assembled(cls: type[Model], fields: dict[str, Any], fields_set: set[str]) -> Model:
    """`cls.model_construct(...)`, less its generality, for a model with no private
    attributes and no extra fields whose values are already typed (an envelope's columns
    from PostgreSQL, a decoded envelope's fields, a fold's state): the fields are set as
    they are, unvalidated. model_construct's generality was most of a replay's time."""
    made: Model = _new(cls)
    _set(made, "__dict__", fields)
    _set(made, "__pydantic_fields_set__", fields_set)
    _set(made, "__pydantic_extra__", None)
    _set(made, "__pydantic_private__", None)
    return made


class EventPayload(BaseModel):
    """Base of every event's payload: frozen, plain values, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    @classmethod
    def upcast(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        """Turn a payload stored at an older schema version into the current shape."""
        if version != cls.schema_version:
            raise ValueError(f"{cls.event_type} has no upcaster from version {version}")
        return data


class Envelope(BaseModel):
    """An immutable fact: what happened (payload), when, to whom (key) and why (causation)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    type: str
    schema_version: int
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime
    key: str
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    actor: str
    payload: SerializeAsAny[EventPayload]

    def log_context(self) -> dict[str, str]:
        """The ids every log line about this event carries."""
        return {
            "event_id": str(self.event_id),
            "event_type": self.type,
            "correlation_id": str(self.correlation_id),
        }


def new_event(
    payload: EventPayload,
    *,
    key: str,
    occurred_at: datetime,
    recorded_at: datetime,
    actor: str,
    event_id: uuid.UUID | None = None,
    cause: Envelope | None = None,
    correlation_id: uuid.UUID | None = None,
) -> Envelope:
    """Wrap a payload in an envelope; a caused event inherits its cause's correlation id.

    Fields that are already what the envelope holds (UUIDs, plain strs, aware datetimes, a
    payload model) are put together without validating them again; anything else (an id
    as text, a naive datetime) goes through the model's validation, which converts it or
    refuses it exactly as before. Validation was a tenth of a risk decision's time."""
    eid = event_id or uuid.uuid4()
    if correlation_id is None:
        correlation_id = cause.correlation_id if cause is not None else eid
    causation_id = cause.event_id if cause is not None else None
    fields: dict[str, Any] = {
        "event_id": eid,
        "type": payload.event_type,
        "schema_version": payload.schema_version,
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "key": key,
        "correlation_id": correlation_id,
        "causation_id": causation_id,
        "actor": actor,
        "payload": payload,
    }
    if (
        type(eid) is uuid.UUID
        and type(correlation_id) is uuid.UUID
        and (causation_id is None or type(causation_id) is uuid.UUID)
        and type(key) is str
        and type(actor) is str
        and _aware(occurred_at)
        and _aware(recorded_at)
        and isinstance(payload, EventPayload)
    ):
        return assembled(Envelope, fields, set(ENVELOPE_FIELDS))
    return Envelope(**fields)


ENVELOPE_FIELDS = frozenset(Envelope.model_fields)  # an envelope made whole sets them all


def _aware(at: object) -> bool:
    return type(at) is datetime and at.utcoffset() is not None
