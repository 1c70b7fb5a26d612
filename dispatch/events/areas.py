"""Event payloads declared by domain areas outside the core catalogue.

Each area keeps its events beside its domain code (dispatch/<area>/events.py) and adds
its tuple here, so the one registry knows every event type.
"""

from __future__ import annotations

from dispatch.escalation.events import ESCALATION_PAYLOADS
from dispatch.events.envelope import EventPayload
from dispatch.paging.events import PAGING_PAYLOADS
from dispatch.replies.events import REPLY_PAYLOADS
from dispatch.risk.events import RISK_PAYLOADS
from dispatch.rota.events import ROTA_PAYLOADS

AREA_PAYLOADS: tuple[type[EventPayload], ...] = (
    *ESCALATION_PAYLOADS,
    *ROTA_PAYLOADS,
    *RISK_PAYLOADS,
    *PAGING_PAYLOADS,
    *REPLY_PAYLOADS,
)
