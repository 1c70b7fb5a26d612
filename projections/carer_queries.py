"""The carers' questions: is this a carer of the client, what consent is in force, is the
client in crisis now, and which consents and carers' assessments are due for review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

from dispatch.clients.consent import CarerConsent
from dispatch.clients.notices import BoardNotice, assessment_notice, consent_review_notice


@dataclass(frozen=True)
class CarerRow:
    """A carer of a client, as the read model has them."""

    carer_id: str
    display_name: str
    phone: str
    relationship: str


class CarerQueries:
    """The carers' read models, answering dispatch.clients.intake.CarerLookup."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def client_team(self, client_id: str) -> str | None:
        team_id: str | None = await self._pool.fetchval(
            "SELECT team_id FROM clients WHERE client_id = $1", client_id
        )
        return team_id

    async def is_carer(self, client_id: str, carer_id: str) -> bool:
        found: bool = await self._pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM carers WHERE client_id = $1 AND carer_id = $2)",
            client_id,
            carer_id,
        )
        return found

    async def carers_of(self, client_id: str) -> list[CarerRow]:
        """The client's carers, by id."""
        rows = await self._pool.fetch(
            """SELECT carer_id, display_name, phone, relationship FROM carers
               WHERE client_id = $1 ORDER BY carer_id""",
            client_id,
        )
        return [CarerRow(**dict(r)) for r in rows]

    async def consent(self, client_id: str, carer_id: str) -> CarerConsent | None:
        """The consent in force now (None: none was given, or it was revoked)."""
        row = await self._pool.fetchrow(
            """SELECT shares, granted_at, review_by FROM carer_consents
               WHERE client_id = $1 AND carer_id = $2 AND revoked_at IS NULL
                 AND cardinality(shares) > 0""",
            client_id,
            carer_id,
        )
        if row is None:
            return None
        return CarerConsent(
            client_id, carer_id, frozenset(row["shares"]), row["granted_at"], row["review_by"]
        )

    async def crisis_open(self, client_id: str) -> bool:
        """Whether a dispatch about the client is open or being handled."""
        found: bool = await self._pool.fetchval(
            """SELECT EXISTS (SELECT 1 FROM dispatches WHERE client_id = $1
                              AND status <> 'resolved' AND opened_at IS NOT NULL)""",
            client_id,
        )
        return found

    async def notices(self, team_id: str, today: date) -> list[BoardNotice]:
        """Consents in force past their review date and carers' assessments due, for the
        team's clients."""
        consents = await self._pool.fetch(
            """SELECT cc.client_id, cc.carer_id, cc.review_by FROM carer_consents cc
               JOIN clients c ON c.client_id = cc.client_id AND c.team_id = $1
               WHERE cc.revoked_at IS NULL AND cc.review_by < $2
               ORDER BY cc.review_by, cc.client_id, cc.carer_id""",
            team_id,
            today,
        )
        assessments = await self._pool.fetch(
            """SELECT a.client_id, a.carer_id, a.review_by FROM carer_assessments a
               JOIN clients c ON c.client_id = a.client_id AND c.team_id = $1
               ORDER BY a.review_by, a.client_id, a.carer_id""",
            team_id,
        )
        found = [
            *(consent_review_notice(r["client_id"], r["carer_id"], r["review_by"], today)
              for r in consents),
            *(assessment_notice(r["client_id"], r["carer_id"], r["review_by"], today)
              for r in assessments),
        ]  # fmt: skip
        return [n for n in found if n is not None]
