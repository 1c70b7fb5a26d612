"""An import decided whole before anything is recorded: the events decided so far, and the
lookups the services read, answering as if those events were recorded already (a carer row
after its client's enrolment row sees the client on the team).

`Pending` is the journey service's event sink during an import: it keeps the events instead
of spooling them. Nothing here reads a database; the lookups it wraps do."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dispatch.clients.events import CarerRegistered, ConsentGranted, ConsentRevoked
from dispatch.clients.intake import CarerLookup
from dispatch.clients.ports import JourneyLookup, StaffRef, TeamRef
from dispatch.clients.record import ClientRecord, evolve
from dispatch.events import Envelope, derived_id
from dispatch.rota.events import OverrideScheduled, StaffJoined
from dispatch.rota.staff_intake import RosterLookup, StaffPerson
from dispatch.rota.state import Entry, TeamRota


class Pending:
    """The events an import has decided, in order; `mark` and `drop_since` undo a row or a
    resource that was refused half-way."""

    def __init__(self) -> None:
        self.events: list[Envelope] = []

    async def record(self, events: Sequence[Envelope]) -> bool:
        self.events.extend(events)
        return True

    def add(self, events: Sequence[Envelope]) -> None:
        self.events.extend(events)

    def mark(self) -> int:
        return len(self.events)

    def since(self, mark: int) -> list[Envelope]:
        return self.events[mark:]

    def drop_since(self, mark: int) -> None:
        del self.events[mark:]

    def replace_since(self, mark: int, events: Sequence[Envelope]) -> None:
        self.events[mark:] = list(events)

    def of(self, key: str) -> list[Envelope]:
        return [e for e in self.events if e.key == key]


class JourneyOverlay:
    """JourneyLookup: the client's record with the pending events folded on top."""

    def __init__(self, base: JourneyLookup, pending: Pending) -> None:
        self._base = base
        self._pending = pending

    async def record(self, client_id: str) -> ClientRecord:
        record = await self._base.record(client_id)
        for event in self._pending.of(client_id):
            record = evolve(record, event)
        return record

    async def team(self, team_id: str) -> TeamRef | None:
        return await self._base.team(team_id)

    async def staff(self, staff_id: str) -> StaffRef | None:
        return await self._base.staff(staff_id)

    async def carer_consents(self, client_id: str, carer_id: str) -> bool | None:
        consents = await self._base.carer_consents(client_id, carer_id)
        for e in self._pending.of(client_id):
            p = e.payload
            if getattr(p, "carer_id", None) != carer_id:
                continue
            if isinstance(p, ConsentGranted | ConsentRevoked):
                consents = isinstance(p, ConsentGranted)
            elif isinstance(p, CarerRegistered) and consents is None:
                consents = bool(p.client_consents_to_share)
        return consents


class CarerOverlay:
    """CarerLookup: a client enrolled, or a carer registered, earlier in the same import."""

    def __init__(self, base: CarerLookup, journey: JourneyOverlay, pending: Pending) -> None:
        self._base = base
        self._journey = journey
        self._pending = pending

    async def client_team(self, client_id: str) -> str | None:
        if self._pending.of(client_id):
            record = await self._journey.record(client_id)
            if record.enrolled:
                return record.team_id
        return await self._base.client_team(client_id)

    async def is_carer(self, client_id: str, carer_id: str) -> bool:
        mine = any(isinstance(p := e.payload, CarerRegistered) and p.carer_id == carer_id
                   for e in self._pending.of(client_id))  # fmt: skip
        return mine or await self._base.is_carer(client_id, carer_id)


@dataclass(frozen=True)
class Joiner:
    """Someone who joins earlier in the same import (StaffPerson)."""

    staff_id: str
    team_id: str
    left_at: datetime | None = None


class RosterOverlay:
    """RosterLookup: staff who join earlier in the same import hold their ids and phones."""

    def __init__(self, base: RosterLookup, pending: Pending) -> None:
        self._base = base
        self._pending = pending

    def _joined(self) -> list[StaffJoined]:
        return [p for e in self._pending.events if isinstance(p := e.payload, StaffJoined)]

    async def team_rota(self, team_id: str, start: datetime, end: datetime) -> TeamRota:
        return await self._base.team_rota(team_id, start, end)

    async def staff(self, staff_id: str) -> StaffPerson | None:
        joined = [j for j in self._joined() if j.staff_id == staff_id]
        if joined:
            return Joiner(joined[-1].staff_id, joined[-1].team_id)
        return await self._base.staff(staff_id)

    async def phone_holder(self, phone: str, at: datetime) -> StaffPerson | None:
        joined = [j for j in self._joined() if j.phone == phone]
        if joined:
            return Joiner(joined[-1].staff_id, joined[-1].team_id)
        return await self._base.phone_holder(phone, at)

    async def override_entry(
        self, team_id: str, override_id: str
    ) -> Entry[OverrideScheduled] | None:
        return await self._base.override_entry(team_id, override_id)


def stamped_id(origin: Sequence[object], position: int) -> uuid.UUID:
    """The id of the event at `position` among those imported from `origin`."""
    return derived_id("import", *origin, position)


def restamp(events: Sequence[Envelope], *origin: object) -> list[Envelope]:
    """The events with ids derived from where they came from (`origin`: a FHIR resource's
    type, id and version) and their position, so the same resource always makes the same
    ids; ids the events named among themselves (cause, correlation, a contact completing a
    transfer) follow."""
    renamed = {e.event_id: stamped_id(origin, i) for i, e in enumerate(events)}

    def moved(value: uuid.UUID | None) -> uuid.UUID | None:
        return renamed.get(value, value) if value is not None else None

    out = []
    for e in events:
        p = e.payload
        links = {name: renamed[v] for name in type(p).model_fields
                 if isinstance(v := getattr(p, name), uuid.UUID) and v in renamed}  # fmt: skip
        out.append(e.model_copy(update={
            "event_id": renamed[e.event_id],
            "correlation_id": moved(e.correlation_id),
            "causation_id": moved(e.causation_id),
            "payload": p.model_copy(update=links) if links else p,
        }))  # fmt: skip
    return out
