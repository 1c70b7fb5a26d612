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
from dispatch.events import Envelope
from projections.project import ARCHIVE_ONLY, handles

ARCHIVE_ONLY.update(
    {
        EscalationPlanFrozen,
        EscalationDeadlineReached,
        EscalationRequested,
        EscalationTargetUnreachable,
    }
)


@handles(EscalationPolicySet)
async def _policy_set(conn: asyncpg.Connection, e: Envelope, p: EscalationPolicySet) -> None:
    await conn.execute(
        """INSERT INTO escalation_policies AS t (team_id, policy, updated_at, updated_by_event)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (team_id) DO UPDATE SET policy = EXCLUDED.policy,
               updated_at = EXCLUDED.updated_at, updated_by_event = EXCLUDED.updated_by_event
           WHERE (t.updated_at, t.updated_by_event)
                 < (EXCLUDED.updated_at, EXCLUDED.updated_by_event)""",
        p.team_id,
        p.policy.model_dump_json(),
        e.occurred_at,
        e.event_id,
    )


@handles(DispatchEscalated)
async def _escalated(conn: asyncpg.Connection, e: Envelope, p: DispatchEscalated) -> None:
    await conn.execute(
        """UPDATE dispatches SET escalation_sequence = $2, escalated_at = $3, exhausted = $4
           WHERE dispatch_id = $1 AND escalation_sequence < $2""",
        p.dispatch_id,
        p.sequence,
        e.occurred_at,
        p.exhausted,
    )


async def team_policy(pool: asyncpg.Pool, team_id: str) -> EscalationPolicy | None:
    """The team's current policy, or None (the built-in default applies)."""
    raw: str | None = await pool.fetchval(
        "SELECT policy::text FROM escalation_policies WHERE team_id = $1", team_id
    )
    return EscalationPolicy.model_validate_json(raw) if raw else None
