"""An in-memory system for import tests: the events recorded so far answer the lookups the
import's services read (journey, carers, roster) and the import's archive port."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dispatch.clients.consent import consent_at
from dispatch.clients.events import CarerRegistered
from dispatch.clients.ports import StaffRef, TeamRef
from dispatch.clients.record import ClientRecord, fold
from dispatch.events import Envelope
from dispatch.interop.batch import Batch, Lookups

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
TEAM = "act-imp"


@dataclass
class FixedClock:
    at: datetime = NOW

    def now(self) -> datetime:
        return self.at


@dataclass
class World:
    """Teams, staff and the events recorded: JourneyLookup, CarerLookup, ImportArchive."""

    teams: dict[str, TeamRef] = field(
        default_factory=lambda: {TEAM: TeamRef(TEAM, "ACT"), "aot-imp": TeamRef("aot-imp", "AOT")}
    )
    staff_refs: dict[str, StaffRef] = field(
        default_factory=lambda: {
            "s-imp-lead": StaffRef("s-imp-lead", TEAM),
            "s-imp-nurse": StaffRef("s-imp-nurse", TEAM),
            "s-imp-social": StaffRef("s-imp-social", TEAM),
            "s-aot": StaffRef("s-aot", "aot-imp"),
        }
    )
    events: list[Envelope] = field(default_factory=list)

    def of(self, key: str) -> list[Envelope]:
        return [e for e in self.events if e.key == key]

    async def record(self, client_id: str) -> ClientRecord:
        return fold(client_id, self.of(client_id))

    async def team(self, team_id: str) -> TeamRef | None:
        return self.teams.get(team_id)

    async def staff(self, staff_id: str) -> StaffRef | None:
        return self.staff_refs.get(staff_id)

    async def is_carer(self, client_id: str, carer_id: str) -> bool:
        return any(isinstance(p := e.payload, CarerRegistered) and p.carer_id == carer_id
                   for e in self.of(client_id))  # fmt: skip

    async def carer_consents(self, client_id: str, carer_id: str) -> bool | None:
        if not await self.is_carer(client_id, carer_id):
            return None
        at = NOW
        return consent_at(self.of(client_id), client_id=client_id, carer_id=carer_id, at=at) \
            is not None  # fmt: skip

    async def client_team(self, client_id: str) -> str | None:
        record = await self.record(client_id)
        return record.team_id if record.status != "none" else None

    async def known(self, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        return {e.event_id for e in self.events} & set(event_ids)

    async def client_events(self, client_id: str) -> list[Envelope]:
        return self.of(client_id)

    def batch(self) -> Batch:
        return Batch(Lookups(journey=self, carers=self, roster=NoRoster(), clock=FixedClock()))


class NoRoster:
    """A roster nobody reads in these tests (staff rows are tested on the real stack)."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the roster was read: {name}")
