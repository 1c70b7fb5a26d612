"""What health and metrics read through: PostgreSQL, the broker, the event archive, and a
supervisor when the process has one. Implemented in projections/health.py and probes.py."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dispatch.health.report import BrokerReading, ContactReading, SpoolReading, WorkerBeat


class HealthReadings(Protocol):
    async def ping(self) -> None:
        """Raise unless PostgreSQL answers a trivial query."""
        ...

    async def worker_beats(self) -> Sequence[WorkerBeat]:
        """The workers that wrote a heartbeat most recently (a few, newest first)."""
        ...

    async def spool(self) -> SpoolReading:
        """How many accepted events wait for the broker, and since when."""
        ...

    async def unpaged_contacts(self, since: datetime) -> ContactReading:
        """Crisis contacts accepted at or after `since` with no page sent for their
        dispatch, and nobody holding the dispatch (acknowledged or resolved)."""
        ...


class BrokerReadings(Protocol):
    async def read(self) -> BrokerReading:
        """Raise unless the broker answers a metadata request; which event topics it lacks."""
        ...


@dataclass(frozen=True)
class FirstPage:
    """A crisis contact and the first page sent for its dispatch."""

    dispatch_id: uuid.UUID
    contact_type: str
    contact_at: datetime  # the contact's occurred_at (the ring)
    paged_at: datetime  # the first PageSent's recorded_at


@dataclass(frozen=True)
class StepMove:
    """A dispatch moved to its next step on a deadline (DispatchEscalated, reason timeout)."""

    event_id: uuid.UUID
    deadline_at: datetime  # its occurred_at: the deadline it answered
    moved_at: datetime  # its recorded_at


class ArchiveObservations(Protocol):
    async def first_pages(self, since: datetime) -> Sequence[FirstPage]:
        """Crisis contacts since `since` that have had a page sent."""
        ...

    async def step_moves(self, since: datetime) -> Sequence[StepMove]:
        """Steps moved on a deadline since `since`."""
        ...

    async def redrives(self, since: datetime) -> Sequence[tuple[uuid.UUID, datetime]]:
        """(event id, deadline) of the deadlines the escalation auditor re-drove, for
        deadlines since `since`."""
        ...


class RestartSource(Protocol):
    """A supervisor's restart counts by part (worker, broker, postgres...)."""

    def restart_counts(self) -> Mapping[str, int]: ...
