"""Projection handlers and their registry: which function folds which event into rows.

Each read-model module exposes its `HANDLERS` (built with `handler_table(on(...), ...)`)
and, where it has them, the `ARCHIVE_ONLY` event types no read model folds;
projections.project assembles them by name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

import asyncpg

from dispatch.events import Envelope, EventPayload

P = TypeVar("P", bound=EventPayload)
Handler = Callable[[asyncpg.Connection, Envelope, Any], Awaitable[None]]
HandlerTable = Mapping[type[EventPayload], Handler]


def on(
    cls: type[P], handler: Callable[[asyncpg.Connection, Envelope, P], Awaitable[None]]
) -> tuple[type[EventPayload], Handler]:
    """Pair an event type with the handler of its payload (the types must match)."""
    return cls, handler


def handler_table(*pairs: tuple[type[EventPayload], Handler]) -> HandlerTable:
    """A read-only table of handlers; one event type handled twice is a bug."""
    table: dict[type[EventPayload], Handler] = {}
    for cls, handler in pairs:
        if cls in table:
            raise ValueError(f"{cls.event_type} has two handlers")
        table[cls] = handler
    return MappingProxyType(table)


@dataclass(frozen=True)
class ReadModelRegistry:
    """Every read model's handlers, and the event types kept in the archive only."""

    handlers: HandlerTable
    archive_only: frozenset[type[EventPayload]]

    @classmethod
    def assemble(
        cls,
        tables: Iterable[HandlerTable],
        archive_only: Iterable[Iterable[type[EventPayload]]] = (),
    ) -> ReadModelRegistry:
        """Merge the areas' tables; an event type handled twice, or both handled and
        archive-only, is refused."""
        handlers = handler_table(*(pair for table in tables for pair in table.items()))
        kept = frozenset(t for types in archive_only for t in types)
        both = sorted(t.event_type for t in kept & handlers.keys())
        if both:
            raise ValueError(f"handled and archive-only at once: {', '.join(both)}")
        return cls(handlers, kept)

    def handler(self, payload_type: type[EventPayload]) -> Handler | None:
        return self.handlers.get(payload_type)
