"""Client read models: who is on a team's caseload (and who is moving or has left),
their carers, the consent in force between each client and carer, carers' own
assessments, referrals and care plans."""

from __future__ import annotations

import asyncpg

from dispatch.clients.consent import CarerConsent, evolve
from dispatch.clients.events import (
    CONSENT_SHARES,
    CarePlanRecorded,
    CarePlanReviewed,
    CarerAssessmentRecorded,
    CarerRegistered,
    ClientDischarged,
    ClientEnrolled,
    ClientReReferred,
    ClientTransferRequested,
    ConsentGranted,
    ConsentRevoked,
    ReferralAccepted,
    ReferralDeclined,
    ReferralReceived,
    TransferCompleted,
)
from dispatch.events import Envelope
from projections.handlers import handler_table, on
from projections.upsert import upsert_newer

# The columns a later journey event may change on a client's row (checked: never user text).
CLIENT_COLUMNS = frozenset(
    {"team_id", "status", "care_coordinator_id", "contact_target_days", "enrolled_at",
     "discharged_at", "transfer_to_team_id", "transfer_requested_at"}
)  # fmt: skip


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
            "status": "enrolled",
            "care_coordinator_id": p.care_coordinator_id,
            "cultural_needs": p.cultural_needs,
            "other_phones": list(p.other_phones),
            "contact_target_days": p.contact_target_days,
            "enrolled_at": e.occurred_at,
            "transfer_to_team_id": None,
            "transfer_requested_at": None,
        },
        e,
    )


async def _change_client(
    conn: asyncpg.Connection, e: Envelope, client_id: str, values: dict[str, object]
) -> None:
    """Change some columns of an existing client row, unless a newer event wrote it."""
    unknown = set(values) - CLIENT_COLUMNS
    if unknown:
        raise ValueError(f"not a client column: {sorted(unknown)}")
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(values, start=4))
    await conn.execute(
        f"""UPDATE clients SET {sets}, updated_at = $2, updated_by_event = $3
            WHERE client_id = $1 AND (updated_at, updated_by_event) < ($2, $3)""",  # noqa: S608
        client_id,
        e.occurred_at,
        e.event_id,
        *values.values(),
    )


async def _transfer_requested(
    conn: asyncpg.Connection, e: Envelope, p: ClientTransferRequested
) -> None:
    moving = {"transfer_to_team_id": p.to_team_id, "transfer_requested_at": e.occurred_at}
    await _change_client(conn, e, p.client_id, moving)


async def _transfer_completed(conn: asyncpg.Connection, e: Envelope, p: TransferCompleted) -> None:
    await _change_client(
        conn,
        e,
        p.client_id,
        {
            "team_id": p.to_team_id,
            "care_coordinator_id": p.care_coordinator_id,
            "contact_target_days": p.contact_target_days,
            "transfer_to_team_id": None,
            "transfer_requested_at": None,
        },
    )


async def _discharged(conn: asyncpg.Connection, e: Envelope, p: ClientDischarged) -> None:
    left = {"status": "discharged", "discharged_at": e.occurred_at, "transfer_to_team_id": None}
    await _change_client(conn, e, p.client_id, left)


async def _re_referred(conn: asyncpg.Connection, e: Envelope, p: ClientReReferred) -> None:
    await _change_client(
        conn,
        e,
        p.client_id,
        {
            "team_id": p.team_id,
            "status": "enrolled",
            "enrolled_at": e.occurred_at,
            "care_coordinator_id": p.care_coordinator_id,
            "contact_target_days": p.contact_target_days,
        },
    )


async def _referral_received(conn: asyncpg.Connection, e: Envelope, p: ReferralReceived) -> None:
    await conn.execute(
        """INSERT INTO referrals (referral_id, client_id, team_id, display_name, source,
                                  source_team, criteria_met, note, status, received_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9)
           ON CONFLICT (referral_id) DO NOTHING""",
        p.referral_id,
        p.client_id,
        p.team_id,
        p.display_name,
        p.source,
        p.source_team,
        list(p.criteria_met),
        p.note,
        e.occurred_at,
    )


async def _referral_decided(
    conn: asyncpg.Connection, e: Envelope, p: ReferralAccepted | ReferralDeclined
) -> None:
    declined = isinstance(p, ReferralDeclined)
    await conn.execute(
        """UPDATE referrals SET status = $2, decided_at = $3, decline_reason = $4
           WHERE referral_id = $1 AND status = 'open'""",
        p.referral_id,
        "declined" if declined else "accepted",
        e.occurred_at,
        p.reason if isinstance(p, ReferralDeclined) else None,
    )


async def _care_plan(conn: asyncpg.Connection, e: Envelope, p: CarePlanRecorded) -> None:
    values = {
        "client_id": p.client_id,
        "team_id": p.team_id,
        "care_coordinator_id": p.care_coordinator_id,
        "summary": p.summary,
        "goals": list(p.goals),
        "recorded_at": e.occurred_at,
        "reviewed_at": e.occurred_at,
    }
    await upsert_newer(conn, "care_plans", ["client_id"], values, e)


async def _care_plan_reviewed(conn: asyncpg.Connection, e: Envelope, p: CarePlanReviewed) -> None:
    await conn.execute(
        """UPDATE care_plans SET reviewed_at = $2, goals = COALESCE($4::text[], goals),
                                 updated_at = $2, updated_by_event = $3
           WHERE client_id = $1 AND (updated_at, updated_by_event) < ($2, $3)""",
        p.client_id,
        e.occurred_at,
        e.event_id,
        None if p.goals is None else list(p.goals),
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
    on(ClientTransferRequested, _transfer_requested),
    on(TransferCompleted, _transfer_completed),
    on(ClientDischarged, _discharged),
    on(ClientReReferred, _re_referred),
    on(ReferralReceived, _referral_received),
    on(ReferralAccepted, _referral_decided),
    on(ReferralDeclined, _referral_decided),
    on(CarePlanRecorded, _care_plan),
    on(CarePlanReviewed, _care_plan_reviewed),
    on(CarerRegistered, _carer_registered),
)
CARER_HANDLERS = handler_table(
    on(ConsentGranted, _consent_changed),
    on(ConsentRevoked, _consent_changed),
    on(CarerAssessmentRecorded, _assessed),
)
