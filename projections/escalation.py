"""Read models of escalation: team policies, and each dispatch's escalation step."""

from __future__ import annotations

import asyncpg

from dispatch.escalation.events import (
    DispatchEscalated,
    EscalationDeadlineReached,
    EscalationPlanFrozen,
    EscalationPolicySet,
    EscalationRequested,
    EscalationTargetUnreachable,
)
from dispatch.escalation.policy import EscalationPolicy
from dispatch.events import Envelope, EventPayload
from projections.handlers import handler_table, on
from projections.upsert import upsert_newer


async def _policy_set(conn: asyncpg.Connection, e: Envelope, p: EscalationPolicySet) -> None:
    values = {"team_id": p.team_id, "policy": p.policy.model_dump_json()}
    await upsert_newer(conn, "escalation_policies", ["team_id"], values, e)


async def _escalated(conn: asyncpg.Connection, e: Envelope, p: DispatchEscalated) -> None:
    await conn.execute(
        """UPDATE dispatches SET escalation_sequence = $2, escalated_at = $3, exhausted = $4
           WHERE dispatch_id = $1 AND escalation_sequence < $2""",
        p.dispatch_id,
        p.sequence,
        e.occurred_at,
        p.exhausted,
    )


HANDLERS = handler_table(
    on(EscalationPolicySet, _policy_set),
    on(DispatchEscalated, _escalated),
)
ARCHIVE_ONLY: frozenset[type[EventPayload]] = frozenset(
    {
        EscalationPlanFrozen,
        EscalationDeadlineReached,
        EscalationRequested,
        EscalationTargetUnreachable,
    }
)


async def team_policy(pool: asyncpg.Pool, team_id: str) -> EscalationPolicy | None:
    """The team's current policy, or None (the built-in default applies)."""
    raw: str | None = await pool.fetchval(
        "SELECT policy::text FROM escalation_policies WHERE team_id = $1", team_id
    )
    return EscalationPolicy.model_validate_json(raw) if raw else None
