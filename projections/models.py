"""What the read-model queries return: small frozen values, never asyncpg Records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

CallerKind = Literal["client", "carer", "unknown"]


@dataclass(frozen=True)
class Team:
    team_id: str
    name: str
    service_model: str
    time_zone: str
    fallback_number: str
    crisis_line_number: str | None


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    team_id: str
    display_name: str
    role: str
    gender: str
    phone: str
    languages: tuple[str, ...]
    left_at: datetime | None = None  # leaves (or left) the team then; None: still on it

    def has_left(self, at: datetime) -> bool:
        """Whether they are off the team at `at` (their replies refused, never paged)."""
        return self.left_at is not None and self.left_at <= at


@dataclass(frozen=True)
class OnDuty:
    """Who covers each layer of a team's rota at one instant (None: nobody).

    covered False: outside the team's covered hours, nobody of the team is on call and
    calls go to the named fallback (another team, or fallback_number).
    """

    primary: StaffMember | None
    backup: StaffMember | None
    covered: bool = True
    fallback_team_id: str | None = None
    fallback_number: str | None = None


@dataclass(frozen=True)
class Caller:
    """Who a phone number belongs to; a carer's call is about (and routed for) their client."""

    kind: CallerKind
    client_id: str | None
    team_id: str | None
    carer_id: str | None = None


@dataclass(frozen=True)
class Dispatch:
    dispatch_id: uuid.UUID
    short_code: str
    team_id: str
    client_id: str | None
    caller_kind: str
    reason: str
    risk_level: str
    assigned_staff_id: str | None
    status: str  # open | acknowledged | resolved
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    outcome: str | None
    correlation_id: uuid.UUID
    escalation_sequence: int = 0  # how many times it has escalated (0: first step)


@dataclass(frozen=True)
class Page:
    notification_id: uuid.UUID
    dispatch_id: uuid.UUID
    step: int
    attempt: int
    channel: str
    staff_id: str
    requested_at: datetime
    status: str  # requested | sent | delivered | failed | cancelled
    provider_sid: str | None
    failure_reason: str | None
    updated_at: datetime


@dataclass(frozen=True)
class ArchivedEvent:
    event_id: uuid.UUID
    type: str
    schema_version: int
    key: str
    occurred_at: datetime
    recorded_at: datetime
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None
    actor: str
    payload: dict[str, Any]
    topic: str | None
    partition: int | None
    offset: int | None
