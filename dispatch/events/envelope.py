"""The one event envelope every fact in the system travels in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, SerializeAsAny

# Namespace for ids derived from other ids (a retry re-derives the same id).
ID_NAMESPACE = uuid.UUID("6f1c1b1e-3c1a-4f4e-9d7a-5b0f3c2a9e10")


def derived_id(*parts: object) -> uuid.UUID:
    """A deterministic UUID from its parts: the same inputs always give the same id."""
    return uuid.uuid5(ID_NAMESPACE, "/".join(str(p) for p in parts))


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
    """Wrap a payload in an envelope; a caused event inherits its cause's correlation id."""
    eid = event_id or uuid.uuid4()
    if correlation_id is None:
        correlation_id = cause.correlation_id if cause is not None else eid
    return Envelope(
        event_id=eid,
        type=payload.event_type,
        schema_version=payload.schema_version,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        key=key,
        correlation_id=correlation_id,
        causation_id=cause.event_id if cause is not None else None,
        actor=actor,
        payload=payload,
    )
