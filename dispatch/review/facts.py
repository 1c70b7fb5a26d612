"""What the review reads: archived events as stored, in event-time order, causes first.

An archived event keeps its payload as plain JSON, so the review can list event types no
area of this code declares (another team's new events, an older deployment's): those are
shown by type, never dropped. The pure folds need typed events; `envelope_of` decodes one,
upcasting old schema versions, and gives None for a type this code does not know.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from dispatch.events import Envelope
from dispatch.events.codec import EventDecodeError, decode_obj


class Archived(Protocol):
    """One row of the event archive (projections.models.ArchivedEvent has this shape)."""

    @property
    def event_id(self) -> uuid.UUID: ...
    @property
    def type(self) -> str: ...
    @property
    def schema_version(self) -> int: ...
    @property
    def key(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def correlation_id(self) -> uuid.UUID: ...
    @property
    def causation_id(self) -> uuid.UUID | None: ...
    @property
    def actor(self) -> str: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...


class ReviewModel(BaseModel):
    """A result of the review: immutable, serialised as JSON by the API and the CLI."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _cause_depth(f: Archived, causes: Mapping[uuid.UUID, uuid.UUID | None]) -> int:
    """How many of the tied events (`causes`: id -> its cause) stand before `f` in its chain
    of causes (bounded, so a cycle cannot loop)."""
    n, cause = 0, f.causation_id
    while cause is not None and cause in causes and n < len(causes):
        n, cause = n + 1, causes[cause]
    return n


def event_time_order(facts: Iterable[Archived]) -> list[Archived]:
    """By occurred_at, then recorded_at; events equal on both (one decision's events share
    its stamps) are put after their cause, then by type name and event id, so the order is
    the same on every replay whatever ids a run drew."""
    ordered = sorted(facts, key=lambda f: (f.occurred_at, f.recorded_at))
    out: list[Archived] = []
    for _, tied in groupby(ordered, key=lambda f: (f.occurred_at, f.recorded_at)):
        group = list(tied)
        causes = {f.event_id: f.causation_id for f in group}
        out += sorted(group, key=lambda f: (_cause_depth(f, causes), f.type, str(f.event_id)))
    return out


def envelope_of(fact: Archived) -> Envelope | None:
    """The typed event, upcast to today's shape; None for a type this code does not know."""
    try:
        return decode_obj(
            {
                "event_id": str(fact.event_id),
                "type": fact.type,
                "schema_version": fact.schema_version,
                "occurred_at": fact.occurred_at.isoformat(),
                "recorded_at": fact.recorded_at.isoformat(),
                "key": fact.key,
                "correlation_id": str(fact.correlation_id),
                "causation_id": str(fact.causation_id) if fact.causation_id else None,
                "actor": fact.actor,
                "payload": dict(fact.payload),
            }
        )
    except EventDecodeError:
        return None


def text(fact: Archived, field: str) -> str | None:
    """A payload field as text (None when absent or null)."""
    value = fact.payload.get(field)
    return None if value is None else str(value)


def of_type(facts: Iterable[Archived], *types: str) -> list[Archived]:
    return [f for f in facts if f.type in types]


def first(facts: Sequence[Archived], *types: str) -> Archived | None:
    return next((f for f in facts if f.type in types), None)


def seconds(start: datetime | None, end: datetime | None) -> float | None:
    """end - start in seconds (None when either is unknown)."""
    if start is None or end is None:
        return None
    return (end - start).total_seconds()
