"""Read models of client risk: levels, their history, signals, contacts, plans, tasks."""

from __future__ import annotations

import datetime as dt

import asyncpg

from dispatch.clients.events import ContactRecorded
from dispatch.events import Envelope
from dispatch.risk.events import (
    ClientRecordsViewed,
    ContactTargetSet,
    HospitalAdmissionRecorded,
    HospitalDischargeRecorded,
    MissedContactAlerted,
    OutreachTaskCreated,
    PlanReviewOverdue,
    RelapsePlanRecorded,
    RelapsePlanRevised,
    RelapseSignalObserved,
    RiskLevelChanged,
)
from projections.project import ARCHIVE_ONLY, handles

# Reads of client records are an audit trail: the archive is their only copy.
ARCHIVE_ONLY.add(ClientRecordsViewed)


@handles(RiskLevelChanged)
async def _risk_level_changed(conn: asyncpg.Connection, e: Envelope, p: RiskLevelChanged) -> None:
    await conn.execute(
        """INSERT INTO risk_changes (event_id, client_id, team_id, from_level, to_level, score,
                                     reasons, occurred_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO NOTHING""",
        e.event_id,
        p.client_id,
        p.team_id,
        p.from_level,
        p.to_level,
        p.score,
        list(p.reasons),
        e.occurred_at,
    )
    await conn.execute(
        """INSERT INTO client_risk AS r (client_id, team_id, level, score, reasons, changed_at,
                                         changed_by_event)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (client_id) DO UPDATE SET
               team_id = EXCLUDED.team_id, level = EXCLUDED.level, score = EXCLUDED.score,
               reasons = EXCLUDED.reasons, changed_at = EXCLUDED.changed_at,
               changed_by_event = EXCLUDED.changed_by_event
           WHERE (r.changed_at, r.changed_by_event)
                 < (EXCLUDED.changed_at, EXCLUDED.changed_by_event)""",
        p.client_id,
        p.team_id,
        p.to_level,
        p.score,
        list(p.reasons),
        e.occurred_at,
        e.event_id,
    )


@handles(RelapseSignalObserved)
async def _signal(conn: asyncpg.Connection, e: Envelope, p: RelapseSignalObserved) -> None:
    await conn.execute(
        """INSERT INTO relapse_signals (event_id, client_id, source, sign, severity, actor,
                                        occurred_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING""",
        e.event_id,
        p.client_id,
        p.source,
        p.sign,
        p.severity,
        e.actor,
        e.occurred_at,
    )


@handles(ContactRecorded)
async def _contact(conn: asyncpg.Connection, e: Envelope, p: ContactRecorded) -> None:
    await conn.execute(
        """INSERT INTO client_contacts (event_id, client_id, staff_id, kind, occurred_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING""",
        e.event_id,
        p.client_id,
        p.staff_id,
        p.kind,
        e.occurred_at,
    )


async def _plan(
    conn: asyncpg.Connection, e: Envelope, p: RelapsePlanRecorded | RelapsePlanRevised
) -> None:
    await conn.execute(
        """INSERT INTO relapse_plans AS pl (client_id, plan, reviewed_at, updated_by_event)
           VALUES ($1, $2::jsonb, $3, $4)
           ON CONFLICT (client_id) DO UPDATE SET
               plan = EXCLUDED.plan, reviewed_at = EXCLUDED.reviewed_at,
               updated_by_event = EXCLUDED.updated_by_event
           WHERE (pl.reviewed_at, pl.updated_by_event)
                 < (EXCLUDED.reviewed_at, EXCLUDED.updated_by_event)""",
        p.client_id,
        p.model_dump_json(),
        e.occurred_at,
        e.event_id,
    )


@handles(RelapsePlanRecorded)
async def _plan_recorded(conn: asyncpg.Connection, e: Envelope, p: RelapsePlanRecorded) -> None:
    await _plan(conn, e, p)


@handles(RelapsePlanRevised)
async def _plan_revised(conn: asyncpg.Connection, e: Envelope, p: RelapsePlanRevised) -> None:
    await _plan(conn, e, p)


@handles(OutreachTaskCreated)
async def _outreach(conn: asyncpg.Connection, e: Envelope, p: OutreachTaskCreated) -> None:
    await conn.execute(
        """INSERT INTO outreach_tasks (task_id, client_id, team_id, reasons, due_by,
                                       notified_staff_id, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (task_id) DO NOTHING""",
        p.task_id,
        p.client_id,
        p.team_id,
        list(p.reasons),
        dt.date.fromisoformat(p.due_by),
        p.notified_staff_id,
        e.occurred_at,
    )


async def _stay(conn: asyncpg.Connection, e: Envelope, client_id: str, admitted: bool) -> None:
    await conn.execute(
        """INSERT INTO hospital_stays AS h (client_id, admitted, updated_at, updated_by_event)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (client_id) DO UPDATE SET admitted = EXCLUDED.admitted,
               updated_at = EXCLUDED.updated_at, updated_by_event = EXCLUDED.updated_by_event
           WHERE (h.updated_at, h.updated_by_event)
                 < (EXCLUDED.updated_at, EXCLUDED.updated_by_event)""",
        client_id,
        admitted,
        e.occurred_at,
        e.event_id,
    )


@handles(HospitalAdmissionRecorded)
async def _admitted(conn: asyncpg.Connection, e: Envelope, p: HospitalAdmissionRecorded) -> None:
    await _stay(conn, e, p.client_id, True)


@handles(HospitalDischargeRecorded)
async def _discharged(conn: asyncpg.Connection, e: Envelope, p: HospitalDischargeRecorded) -> None:
    await _stay(conn, e, p.client_id, False)


@handles(MissedContactAlerted)
async def _missed_contact(conn: asyncpg.Connection, e: Envelope, p: MissedContactAlerted) -> None:
    await conn.execute(
        """INSERT INTO missed_contact_alerts (event_id, client_id, team_id, since, overdue_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING""",
        e.event_id,
        p.client_id,
        p.team_id,
        p.since,
        e.occurred_at,
    )


@handles(PlanReviewOverdue)
async def _plan_review_overdue(conn: asyncpg.Connection, e: Envelope, p: PlanReviewOverdue) -> None:
    await conn.execute(
        """INSERT INTO plan_review_alerts (event_id, client_id, team_id, reviewed_at, overdue_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING""",
        e.event_id,
        p.client_id,
        p.team_id,
        p.reviewed_at,
        e.occurred_at,
    )


@handles(ContactTargetSet)
async def _contact_target(conn: asyncpg.Connection, e: Envelope, p: ContactTargetSet) -> None:
    await conn.execute(
        """INSERT INTO client_contact_targets AS t (client_id, team_id, service_model,
                                                    target_days, set_at, set_by_event)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (client_id) DO UPDATE SET
               team_id = EXCLUDED.team_id, service_model = EXCLUDED.service_model,
               target_days = EXCLUDED.target_days, set_at = EXCLUDED.set_at,
               set_by_event = EXCLUDED.set_by_event
           WHERE (t.set_at, t.set_by_event) < (EXCLUDED.set_at, EXCLUDED.set_by_event)""",
        p.client_id,
        p.team_id,
        p.service_model,
        p.target_days,
        e.occurred_at,
        e.event_id,
    )
