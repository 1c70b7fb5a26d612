"""Builds the events that seed a test team (team, staff, shifts, clients) in the caller's order."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dispatch.clients.events import ClientEnrolled
from dispatch.events import Envelope, EventPayload, new_event
from dispatch.rota.events import Layer, Role, ShiftAssigned, StaffRegistered, TeamFormed
from dispatch.vocabulary import Gender, ServiceModel


class TeamSeed:
    """Collects a team's seeding events, all at `now` by actor "test", keyed as the stack keys
    them (team events by team id, client events by client id)."""

    def __init__(self, now: datetime, team_id: str) -> None:
        self.now = now
        self.team_id = team_id
        self.events: list[Envelope] = []

    def emit(self, payload: EventPayload, key: str) -> None:
        self.events.append(
            new_event(payload, key=key, occurred_at=self.now, recorded_at=self.now, actor="test")
        )

    def team(
        self,
        *,
        name: str,
        fallback_number: str,
        crisis_line_number: str,
        service_model: ServiceModel = "ACT",
    ) -> None:
        """A team (ACT unless told) in Europe/London with its fallback number and crisis line."""
        self.emit(
            TeamFormed(
                team_id=self.team_id,
                name=name,
                service_model=service_model,
                time_zone="Europe/London",
                fallback_number=fallback_number,
                crisis_line_number=crisis_line_number,
            ),
            self.team_id,
        )

    def staff(
        self, staff_id: str, *, phone: str, role: Role, gender: Gender, display_name: str
    ) -> None:
        self.emit(
            StaffRegistered(
                staff_id=staff_id,
                team_id=self.team_id,
                display_name=display_name,
                role=role,
                gender=gender,
                phone=phone,
            ),
            self.team_id,
        )

    def shift(self, staff_id: str, layer: Layer) -> None:
        """On duty in `layer` from a day before `now` until two days after."""
        self.emit(
            ShiftAssigned(
                team_id=self.team_id,
                staff_id=staff_id,
                layer=layer,
                starts_at=self.now - timedelta(days=1),
                ends_at=self.now + timedelta(days=2),
            ),
            self.team_id,
        )

    def client(self, client_id: str, *, phone: str, **fields: Any) -> None:
        """A client enrolled under its own id; `fields` are further ClientEnrolled fields."""
        self.emit(
            ClientEnrolled(
                client_id=client_id,
                team_id=self.team_id,
                display_name=client_id,
                phone=phone,
                **fields,
            ),
            client_id,
        )
