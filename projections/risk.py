"""Read models of client risk: levels, their history, signals, contacts, plans, tasks."""

from __future__ import annotations

import datetime as dt

import asyncpg

from dispatch.clients.events import ContactRecorded
from dispatch.events import Envelope, EventPayload
from dispatch.risk.events import (
    ClientRecordsViewed,
    ContactTargetSet,
    FollowUpClosed,
    FollowUpOpened,
    HospitalAdmissionRecorded,
    HospitalDischargeRecorded,
    MissedContactAlerted,
    OutreachTaskClosed,
    OutreachTaskCreated,
    PlanReviewOverdue,
    RelapsePlanRecorded,
    RelapsePlanRevised,
    RelapseSignalObserved,
    RiskLevelChanged,
)
from projections.handlers import handler_table, on
from projections.upsert import upsert_newer


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
    await upsert_newer(
        conn,
        "client_risk",
        ["client_id"],
        {
            "client_id": p.client_id,
            "team_id": p.team_id,
            "level": p.to_level,
            "score": p.score,
            "reasons": list(p.reasons),
        },
        e,
        stamp=("changed_at", "changed_by_event"),
    )


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


async def _contact(conn: asyncpg.Connection, e: Envelope, p: ContactRecorded) -> None:
    await conn.execute(
        """INSERT INTO client_contacts (event_id, client_id, staff_id, kind, occurred_at,
                                        staff_ids, place, minutes, team_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING""",
        e.event_id,
        p.client_id,
        p.staff_id,
        p.kind,
        e.occurred_at,
        list(p.staff_ids),
        p.where,
        p.minutes,
        p.team_id,
    )


async def _plan(
    conn: asyncpg.Connection, e: Envelope, p: RelapsePlanRecorded | RelapsePlanRevised
) -> None:
    values = {"client_id": p.client_id, "plan": p.model_dump_json()}
    await upsert_newer(
        conn, "relapse_plans", ["client_id"], values, e, stamp=("reviewed_at", "updated_by_event")
    )


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


# Open work closes once: the first closing event stamps the row, a replay changes nothing.
CLOSE_OUTREACH = """UPDATE outreach_tasks SET closed_at = $2, closed_by = $3, closed_by_event = $4
                    WHERE task_id = $1 AND closed_at IS NULL"""
CLOSE_FOLLOW_UP = """UPDATE follow_ups SET closed_at = $2, closed_by = $3, closed_by_event = $4
                     WHERE follow_up_id = $1 AND closed_at IS NULL"""


async def _closed(
    conn: asyncpg.Connection, e: Envelope, p: OutreachTaskClosed | FollowUpClosed
) -> None:
    if isinstance(p, OutreachTaskClosed):
        sql, item = CLOSE_OUTREACH, p.task_id
    else:
        sql, item = CLOSE_FOLLOW_UP, p.follow_up_id
    await conn.execute(sql, item, e.occurred_at, p.closed_by, e.event_id)


async def _follow_up_opened(conn: asyncpg.Connection, e: Envelope, p: FollowUpOpened) -> None:
    await conn.execute(
        """INSERT INTO follow_ups (follow_up_id, client_id, team_id, dispatch_id, reason,
                                   opened_at, due_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (follow_up_id) DO NOTHING""",
        p.follow_up_id,
        p.client_id,
        p.team_id,
        p.dispatch_id,
        p.reason,
        e.occurred_at,
        p.due_at,
    )


async def _stay(conn: asyncpg.Connection, e: Envelope, client_id: str, admitted: bool) -> None:
    values = {"client_id": client_id, "admitted": admitted}
    await upsert_newer(conn, "hospital_stays", ["client_id"], values, e)


async def _admitted(conn: asyncpg.Connection, e: Envelope, p: HospitalAdmissionRecorded) -> None:
    await _stay(conn, e, p.client_id, True)


async def _discharged(conn: asyncpg.Connection, e: Envelope, p: HospitalDischargeRecorded) -> None:
    await _stay(conn, e, p.client_id, False)


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


async def _contact_target(conn: asyncpg.Connection, e: Envelope, p: ContactTargetSet) -> None:
    await upsert_newer(
        conn,
        "client_contact_targets",
        ["client_id"],
        {
            "client_id": p.client_id,
            "team_id": p.team_id,
            "service_model": p.service_model,
            "target_days": p.target_days,
        },
        e,
        stamp=("set_at", "set_by_event"),
    )


HANDLERS = handler_table(
    on(RiskLevelChanged, _risk_level_changed),
    on(RelapseSignalObserved, _signal),
    on(ContactRecorded, _contact),
    on(RelapsePlanRecorded, _plan),
    on(RelapsePlanRevised, _plan),
    on(OutreachTaskCreated, _outreach),
    on(OutreachTaskClosed, _closed),
    on(FollowUpOpened, _follow_up_opened),
    on(FollowUpClosed, _closed),
    on(HospitalAdmissionRecorded, _admitted),
    on(HospitalDischargeRecorded, _discharged),
    on(MissedContactAlerted, _missed_contact),
    on(PlanReviewOverdue, _plan_review_overdue),
    on(ContactTargetSet, _contact_target),
)
# Reads of client records are an audit trail: the archive is their only copy.
ARCHIVE_ONLY: frozenset[type[EventPayload]] = frozenset({ClientRecordsViewed})
