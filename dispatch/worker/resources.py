"""What the worker's agents need (database, rota, telephony), created once inside the loop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from dispatch.clock import Clock, SystemClock
from dispatch.crisis.decide import Responder
from dispatch.crisis.preferences import ClientPreferences
from dispatch.crisis.service import CrisisLine
from dispatch.escalation.policy import EscalationPolicy, Target, default_policy
from dispatch.escalation.service import EscalationService
from dispatch.paging.ledger import PageLedger
from dispatch.paging.notifier import Notifier
from dispatch.paging.telephony import Telephony
from dispatch.settings import Settings
from projections.escalation import team_policy
from projections.models import StaffMember
from projections.pool import connect
from projections.queries import ReadModels


class ReadModelRota:
    """The rota as the Postgres read model has it (projected from roster events)."""

    def __init__(self, read_models: ReadModels) -> None:
        self._rm = read_models

    async def responder(self, team_id: str, at: datetime) -> Responder | None:
        on_duty = await self._rm.on_duty(team_id, at)
        person = on_duty.primary or on_duty.backup
        return Responder(staff_id=person.staff_id, phone=person.phone) if person else None

    async def staff_responder(self, staff_id: str) -> Responder | None:
        person = await self._rm.staff(staff_id)
        return Responder(staff_id=person.staff_id, phone=person.phone) if person else None

    async def on_duty_people(self, team_id: str, at: datetime) -> list[StaffMember | None]:
        """(primary, backup) at `at`, for the crisis line's choice by client preference."""
        on_duty = await self._rm.on_duty(team_id, at)
        return [on_duty.primary, on_duty.backup]

    async def staff_person(self, staff_id: str) -> StaffMember | None:
        return await self._rm.staff(staff_id)

    async def client_preferences(self, client_id: str) -> ClientPreferences:
        return await self._rm.client_preferences(client_id)

    async def targets(
        self, team_id: str, targets: tuple[Target, ...], at: datetime
    ) -> dict[Target, list[Responder]]:
        """What each escalation target means for the team at `at`."""
        on_duty = await self._rm.on_duty(team_id, at)
        staff = await self._rm.team_staff(team_id)
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

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def policy_for(self, team_id: str) -> EscalationPolicy:
        return await team_policy(self._pool, team_id) or default_policy()


@dataclass
class Services:
    pool: asyncpg.Pool
    crisis_line: CrisisLine
    escalation: EscalationService
    notifier: Notifier
    telephony: Telephony


class WorkerResources:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        telephony: Telephony | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock or SystemClock()
        self._telephony = telephony
        self._services: Services | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Services:
        async with self._lock:
            if self._services is None:
                self._services = await self._build()
            return self._services

    async def _build(self) -> Services:
        from integrations.twilio.client import TwilioTelephony

        s = self._settings
        pool = await connect(s.database_url)
        telephony = self._telephony or TwilioTelephony.from_settings(s)
        read_models = ReadModels(pool)
        rota = ReadModelRota(read_models)
        return Services(
            pool=pool,
            crisis_line=CrisisLine(rota, self._clock, policies=TeamPolicies(pool)),
            escalation=EscalationService(rota, self._clock),
            notifier=Notifier(
                telephony=telephony,
                ledger=PageLedger(pool),
                clock=self._clock,
                status_callback_base=s.public_base_url or None,
                validity_s=s.page_validity_seconds,
                dispatches=read_models,
            ),
            telephony=telephony,
        )

    async def close(self) -> None:
        async with self._lock:
            if self._services is not None:
                await self._services.telephony.close()
                await self._services.pool.close()
                self._services = None
