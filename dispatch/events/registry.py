"""The one registry: every area's event types, assembled here by name, and their topics.

Each area declares its events in dispatch/<area>/events.py and exports them as one tuple;
this module lists those tuples. Areas import only dispatch.events.envelope, never this
module, so the imports run one way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from dispatch.clients.events import CARER_PAYLOADS, CLIENT_PAYLOADS
from dispatch.crisis.events import CRISIS_PAYLOADS
from dispatch.escalation.events import ESCALATION_PAYLOADS
from dispatch.events.envelope import Envelope, EventPayload
from dispatch.paging.events import PAGING_PAYLOADS
from dispatch.replies.events import REPLY_PAYLOADS
from dispatch.risk.events import RISK_PAYLOADS
from dispatch.rota.events import ROTA_PAYLOADS
from dispatch.team.events import TEAM_PAYLOADS
from dispatch.topics import topic_for_event

PAYLOADS: tuple[type[EventPayload], ...] = (
    *CLIENT_PAYLOADS,
    *CARER_PAYLOADS,
    *CRISIS_PAYLOADS,
    *ESCALATION_PAYLOADS,
    *PAGING_PAYLOADS,
    *REPLY_PAYLOADS,
    *RISK_PAYLOADS,
    *ROTA_PAYLOADS,
    *TEAM_PAYLOADS,
)
"""Every event type of the system."""


def index_by_type(payloads: Iterable[type[EventPayload]]) -> Mapping[str, type[EventPayload]]:
    """Event type name -> payload class; two classes claiming one name is a bug."""
    table: dict[str, type[EventPayload]] = {}
    for cls in payloads:
        if cls.event_type in table:
            raise ValueError(f"two payload classes share the event type {cls.event_type!r}")
        table[cls.event_type] = cls
    return MappingProxyType(table)


BY_TYPE: Mapping[str, type[EventPayload]] = index_by_type(PAYLOADS)


def payload_class(event_type: str) -> type[EventPayload] | None:
    """The payload class of an event type, or None for a type no area declares."""
    return BY_TYPE.get(event_type)


def topic_of(event: Envelope) -> str:
    """The topic an event is published on (infra/topics.yaml)."""
    return topic_for_event(event.type)
