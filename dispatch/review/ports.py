"""What the review reads and writes, as ports. projections.review_queries implements the
archive; the ingress spool records the audit of every read of client data."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from dispatch.events import Envelope
from dispatch.review.facts import Archived


class ReviewArchive(Protocol):
    """Archived events, each list in event-time order, causes first."""

    async def dispatch_opened(self, short_code: str) -> Archived | None:
        """The newest DispatchOpened with this code (codes are reused over time)."""
        ...

    async def openings(self, team_id: str, start: datetime, end: datetime) -> Sequence[Archived]:
        """The team's DispatchOpened events that started in [start, end)."""
        ...

    async def correlated(
        self, correlation_ids: Sequence[uuid.UUID], keys: Sequence[str]
    ) -> Sequence[Archived]:
        """Events of these correlations, and events keyed by these keys (a dispatch's events
        are keyed by its id: a delivery report recorded before its dispatch was projected
        carries a correlation of its own)."""
        ...

    async def about_clients(
        self,
        client_ids: Sequence[str],
        start: datetime | None,
        end: datetime | None,
        types: Sequence[str] | None = None,
    ) -> Sequence[Archived]:
        """Events about the clients (their own stream, any event naming them, and the life
        of their dispatches) that happened in [start, end)."""
        ...

    async def team_stream(self, team_id: str) -> Sequence[Archived]:
        """The team's own stream (roster, rota, policy, meetings), without the audit."""
        ...

    async def membership(self, team_id: str) -> Sequence[Archived]:
        """Every join and leave of anyone who was ever on the team."""
        ...

    async def known_by(self, at: datetime, team_id: str | None) -> Sequence[Archived]:
        """Everything that happened or was recorded by `at` (for one team: its stream, its
        clients' streams and its dispatches)."""
        ...

    async def client_team(self, client_id: str) -> str | None:
        """The team whose caseload the client is on, or was last on: their latest enrolment,
        completed transfer or re-referral (None: no such client)."""
        ...


class Recorder(Protocol):
    async def record(self, events: Sequence[Envelope]) -> bool: ...
