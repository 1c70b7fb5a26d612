"""The web console's client page reads what no other read answers for one client: the care
plan in force and its review, the relapse-prevention plan's review, and the open work about
them (outreach tasks, post-crisis follow-ups, dispatches not yet resolved). Risk, the plan's
content, carers and consent come from the existing reads (console_board, risk_queries,
carer_queries); history (risk changes, contacts) from the review's archive reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class CarePlan:
    care_coordinator_id: str
    coordinator_name: str | None
    summary: str
    goals: tuple[str, ...]
    recorded_at: datetime
    reviewed_at: datetime


@dataclass(frozen=True)
class OpenTask:
    """One piece of open work about the client: what, since when, due when."""

    kind: str  # outreach | follow_up | dispatch
    label: str
    since: datetime | None
    due: datetime | None  # an outreach task's: its UTC day, at midnight
    code: str | None = None  # a dispatch's short code


@dataclass(frozen=True)
class ClientPlans:
    care_plan: CarePlan | None
    relapse_plan_reviewed_at: datetime | None
    in_hospital: bool
    open_work: tuple[OpenTask, ...]


OPEN_WORK = """
    SELECT 'outreach' AS kind, array_to_string(reasons, '; ') AS label, created_at AS since,
           due_by::timestamp AT TIME ZONE 'UTC' AS due, NULL AS code
      FROM outreach_tasks WHERE client_id = $1 AND closed_at IS NULL
    UNION ALL
    SELECT 'follow_up', reason, opened_at, due_at, NULL
      FROM follow_ups WHERE client_id = $1 AND closed_at IS NULL
    UNION ALL
    SELECT 'dispatch', reason || ' (' || status || ')', opened_at, NULL, short_code
      FROM dispatches WHERE client_id = $1 AND status <> 'resolved' AND opened_at IS NOT NULL
    ORDER BY since NULLS LAST, kind"""


class ClientPageQueries:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def plans(self, client_id: str) -> ClientPlans:
        """The care plan, the relapse plan's review, hospital and open work of one client."""
        async with self._pool.acquire() as conn:
            care = await conn.fetchrow(
                """SELECT cp.care_coordinator_id, s.display_name AS coordinator_name,
                          cp.summary, cp.goals, cp.recorded_at, cp.reviewed_at
                   FROM care_plans cp LEFT JOIN staff s ON s.staff_id = cp.care_coordinator_id
                   WHERE cp.client_id = $1""",
                client_id,
            )
            relapse = await conn.fetchval(
                "SELECT reviewed_at FROM relapse_plans WHERE client_id = $1", client_id
            )
            admitted = await conn.fetchval(
                "SELECT admitted FROM hospital_stays WHERE client_id = $1", client_id
            )
            work = await conn.fetch(OPEN_WORK, client_id)
        plan = None
        if care is not None:
            plan = CarePlan(
                care_coordinator_id=care["care_coordinator_id"],
                coordinator_name=care["coordinator_name"],
                summary=care["summary"],
                goals=tuple(care["goals"]),
                recorded_at=care["recorded_at"],
                reviewed_at=care["reviewed_at"],
            )
        return ClientPlans(
            care_plan=plan,
            relapse_plan_reviewed_at=relapse,
            in_hospital=bool(admitted),
            open_work=tuple(
                OpenTask(r["kind"], r["label"], r["since"], r["due"], r["code"]) for r in work
            ),
        )
