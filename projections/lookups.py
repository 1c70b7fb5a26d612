"""The read models as the domain's ports see them: who is on duty, who a target means, a
team's escalation policy. Filled into the domain services by the composition root."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from dispatch.crisis.decide import Responder
from dispatch.crisis.preferences import ClientPreferences
from dispatch.escalation.policy import EscalationPolicy, Target, default_policy
from projections.escalation import team_policy
from projections.models import StaffMember
from projections.queries import ReadModels
from projections.read_memo import ReadMemo

NO_MEMO = ReadMemo(None)  # asks PostgreSQL every time


class ReadModelRota:
    """The rota as the PostgreSQL read model has it (projected from roster events). A staff
    member and a client's preferences are kept in `memo` while it is current (a started
    worker's: projections/read_memo.py)."""

    def __init__(self, read_models: ReadModels, memo: ReadMemo = NO_MEMO) -> None:
        self._rm = read_models
        self._memo = memo

    async def responder(self, team_id: str, at: datetime) -> Responder | None:
        on_duty = await self._rm.on_duty(team_id, at)
        person = on_duty.primary or on_duty.backup
        return Responder(staff_id=person.staff_id, phone=person.phone) if person else None

    async def staff_responder(self, staff_id: str) -> Responder | None:
        person = await self.staff_person(staff_id)
        return Responder(staff_id=person.staff_id, phone=person.phone) if person else None

    async def on_duty_people(self, team_id: str, at: datetime) -> list[StaffMember | None]:
        """(primary, backup) at `at`, for the crisis line's choice by client preference."""
        on_duty = await self._rm.on_duty(team_id, at)
        return [on_duty.primary, on_duty.backup]

    async def staff_person(self, staff_id: str) -> StaffMember | None:
        """Someone to page by name, unless they have left the team."""
        person = await self._staff(staff_id)
        return None if person is None or person.has_left(datetime.now(UTC)) else person

    async def display_name(self, staff_id: str) -> str | None:
        person = await self._staff(staff_id)
        return person.display_name if person else None

    async def client_preferences(self, client_id: str) -> ClientPreferences:
        return await self._memo.ask(
            ("client_preferences", client_id), lambda: self._rm.client_preferences(client_id)
        )

    async def _staff(self, staff_id: str) -> StaffMember | None:
        """A staff member, leavers included (when they leave is checked at each use)."""
        return await self._memo.ask(("staff", staff_id), lambda: self._rm.staff(staff_id))

    async def targets(
        self, team_id: str, targets: tuple[Target, ...], at: datetime
    ) -> dict[Target, list[Responder]]:
        """What each escalation target means for the team at `at`."""
        on_duty = await self._rm.on_duty(team_id, at)  # a layer given to a leaver: nobody
        staff = await self._rm.team_staff(team_id, at)  # leavers are never paged
        people: dict[Target, list[StaffMember]] = {
            "primary": [on_duty.primary] if on_duty.primary else [],
            "backup": [on_duty.backup] if on_duty.backup else [],
            "team_lead": [s for s in staff if s.role == "team_lead"],
            "manager": [s for s in staff if s.role == "manager"],
            "whole_team": [s for s in staff if s.role != "manager"],
        }
        return {
            t: [Responder(staff_id=s.staff_id, phone=s.phone) for s in people[t]] for t in targets
        }


class TeamPolicies:
    """The escalation policy in force for a team: its own, else the built-in default."""

    def __init__(self, pool: asyncpg.Pool, memo: ReadMemo = NO_MEMO) -> None:
        self._pool = pool
        self._memo = memo

    async def policy_for(self, team_id: str) -> EscalationPolicy:
        policy = await self._memo.ask(("policy", team_id), lambda: team_policy(self._pool, team_id))
        return policy or default_policy()
