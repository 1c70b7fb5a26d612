"""Client read models: who is on a team's caseload, their carers, the consent in force
between each client and carer, and carers' own assessments."""

from __future__ import annotations

import asyncpg

from dispatch.clients.consent import CarerConsent, evolve
from dispatch.clients.events import (
    CONSENT_SHARES,
    CarerAssessmentRecorded,
    CarerRegistered,
    ClientEnrolled,
    ConsentGranted,
    ConsentRevoked,
)
from dispatch.events import Envelope
from projections.handlers import handler_table, on
from projections.upsert import upsert_newer


async def _client_enrolled(conn: asyncpg.Connection, e: Envelope, p: ClientEnrolled) -> None:
    await upsert_newer(
        conn,
        "clients",
        ["client_id"],
        {
            "client_id": p.client_id,
            "team_id": p.team_id,
            "display_name": p.display_name,
            "phone": p.phone,
            "preferred_gender": p.preferred_gender,
            "language": p.language,
        },
        e,
    )


async def _carer_registered(conn: asyncpg.Connection, e: Envelope, p: CarerRegistered) -> None:
    await upsert_newer(
        conn,
        "carers",
        ["client_id", "carer_id"],
        {
            "client_id": p.client_id,
            "carer_id": p.carer_id,
            "display_name": p.display_name,
            "phone": p.phone,
            "relationship": p.relationship,
            "consents": bool(p.client_consents_to_share),
        },
        e,
    )
    if p.client_consents_to_share is not None:  # the older flag: all or nothing
        await _consent(conn, e, p.client_id, p.carer_id)
    await _sync_consents(conn, p.client_id, p.carer_id)


# --- consent and carers' assessments --------------------------------------------------------
async def _consent(conn: asyncpg.Connection, e: Envelope, client_id: str, carer_id: str) -> None:
    """The consent in force after `e` (the pure fold's answer), newest event winning."""
    consent: CarerConsent | None = evolve(None, e)
    await upsert_newer(
        conn,
        "carer_consents",
        ["client_id", "carer_id"],
        {
            "client_id": client_id,
            "carer_id": carer_id,
            "shares": [s for s in CONSENT_SHARES if consent and consent.allows(s)],
            "review_by": consent.review_by if consent else None,
            "granted_at": consent.granted_at if consent else None,
            "revoked_at": None if consent else e.occurred_at,
            "recorded_by": getattr(e.payload, "recorded_by", e.actor),
        },
        e,
    )


async def _sync_consents(conn: asyncpg.Connection, client_id: str, carer_id: str) -> None:
    """carers.consents says whether a consent is in force (the risk intake reads it)."""
    await conn.execute(
        """UPDATE carers c SET consents = (cc.revoked_at IS NULL AND cardinality(cc.shares) > 0)
           FROM carer_consents cc
           WHERE cc.client_id = c.client_id AND cc.carer_id = c.carer_id
             AND c.client_id = $1 AND c.carer_id = $2""",
        client_id,
        carer_id,
    )


async def _consent_changed(
    conn: asyncpg.Connection, e: Envelope, p: ConsentGranted | ConsentRevoked
) -> None:
    await _consent(conn, e, p.client_id, p.carer_id)
    await _sync_consents(conn, p.client_id, p.carer_id)


async def _assessed(conn: asyncpg.Connection, e: Envelope, p: CarerAssessmentRecorded) -> None:
    await upsert_newer(
        conn,
        "carer_assessments",
        ["client_id", "carer_id"],
        {
            "client_id": p.client_id,
            "carer_id": p.carer_id,
            "needs": list(p.needs),
            "support": list(p.support),
            "review_by": p.review_by,
            "assessed_by": p.assessed_by,
            "assessed_at": e.occurred_at,
        },
        e,
    )


HANDLERS = handler_table(
    on(ClientEnrolled, _client_enrolled),
    on(CarerRegistered, _carer_registered),
)
CARER_HANDLERS = handler_table(
    on(ConsentGranted, _consent_changed),
    on(ConsentRevoked, _consent_changed),
    on(CarerAssessmentRecorded, _assessed),
)
