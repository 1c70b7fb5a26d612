"""What the risk area reads about clients, as ports: small Protocols and the plain values
they return. projections.risk_queries.RiskQueries implements them; the HTTP API and the
CLI pass it in, so the area never imports the read models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ClientRef:
    """A client and the team whose caseload they are on."""

    client_id: str
    team_id: str


class ClientLookup(Protocol):
    async def client(self, client_id: str) -> ClientRef | None: ...

    async def carer_consents(self, client_id: str, carer_id: str) -> bool | None:
        """Whether the client consents to share with this carer; None: no such carer."""
        ...


class PlanLookup(ClientLookup, Protocol):
    async def has_plan(self, client_id: str) -> bool: ...


@dataclass(frozen=True)
class HuddleRow:
    """One client on the board: where they are, why, and what happened lately."""

    client_id: str
    display_name: str
    level: str
    score: float  # the current score when the board is read (decayed to that moment)
    reasons: tuple[str, ...]
    level_changed_at: datetime | None
    last_contact_at: datetime | None
    last_face_to_face_at: datetime | None
    open_dispatches: tuple[str, ...]  # short codes
    outreach_due: tuple[str, ...]  # ISO dates of tasks created in the last 24 h
    plan_review_due: datetime | None
    plan_review_overdue: bool
    missed_contact_since: datetime | None  # an alerted gap with no face-to-face visit since
    changes_24h: tuple[str, ...]
    contact_target_days: float | None = None  # from the team's service model (None: not yet)
    follow_up_due: datetime | None = None  # the earliest open post-crisis follow-up's deadline
    care_coordinator_id: str | None = None
    care_plan_review_due: datetime | None = None  # None: no care plan (CPA) recorded
    care_plan_review_overdue: bool = False
    transfer: str | None = None  # "to <team>" / "from <team>": a hand-off awaiting its first visit


@dataclass(frozen=True)
class StaffContacts:
    """One staff member's contacts in a period; a visit by several staff counts for each."""

    staff_id: str
    face_to_face: int
    phone: int
    attempted: int
    minutes: int  # the minutes recorded on those contacts (where given)
