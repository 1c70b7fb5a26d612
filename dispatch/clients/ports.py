"""What the client journey reads, as ports: the client's own record (folded from their
events), teams, staff and carers' consent. projections.journey_queries implements them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dispatch.clients.record import ClientRecord
from dispatch.vocabulary import ServiceModel


@dataclass(frozen=True)
class TeamRef:
    team_id: str
    service_model: ServiceModel


@dataclass(frozen=True)
class StaffRef:
    staff_id: str
    team_id: str


class JourneyLookup(Protocol):
    async def record(self, client_id: str) -> ClientRecord:
        """The client's journey folded from their events (an empty record: unknown)."""
        ...

    async def team(self, team_id: str) -> TeamRef | None: ...

    async def staff(self, staff_id: str) -> StaffRef | None: ...

    async def carer_consents(self, client_id: str, carer_id: str) -> bool | None:
        """Whether the client consents to share with this carer; None: no such carer."""
        ...


class JourneyRefused(ValueError):
    """A change that records nothing: the field at fault and why. `status` is what the API
    answers (400 bad input, 404 a client or referral not in the caller's team); the command
    line exits 2 either way."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status
