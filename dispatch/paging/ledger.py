"""The page ledger: one row per notification id, so a redelivered PageRequested never re-sends.

A row is claimed before the provider is called and marked sent/failed after. A claimed row
with no outcome means a worker died mid-send: the notifier looks the message up at the
provider before sending again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from dispatch.paging.callback_log import Callback, CallbackLog
from dispatch.paging.telephony import ProviderReceipt

LedgerState = Literal["claimed", "sent", "failed"]


@dataclass(frozen=True)
class LedgerEntry:
    notification_id: uuid.UUID
    state: LedgerState
    claimed_at: datetime
    provider_sid: str | None
    provider_status: str | None
    failure_reason: str | None
    claims: int

    @property
    def in_doubt(self) -> bool:
        """Claimed before, by a worker that never recorded the outcome."""
        return self.state == "claimed" and self.claims > 1


@dataclass(frozen=True)
class PagedPerson:
    staff_id: str
    short_code: str | None
    correlation_id: uuid.UUID | None


class PageLedger:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._callbacks = CallbackLog(pool)

    async def get(self, notification_id: uuid.UUID) -> LedgerEntry | None:
        """The page's row, or None if no worker ever claimed it."""
        row = await self._pool.fetchrow(
            """SELECT notification_id, state, claimed_at, provider_sid, provider_status,
                      failure_reason, claims
               FROM page_ledger WHERE notification_id = $1""",
            notification_id,
        )
        return LedgerEntry(**dict(row)) if row else None

    async def claim(
        self,
        *,
        notification_id: uuid.UUID,
        dispatch_id: uuid.UUID,
        channel: str,
        now: datetime,
        short_code: str | None = None,
        staff_id: str | None = None,
        correlation_id: uuid.UUID | None = None,
    ) -> LedgerEntry:
        """Claim a notification before the provider is called; `short_code` (a page's) lets a
        reply to the page find its dispatch as soon as the page can reach a phone."""
        row = await self._pool.fetchrow(
            """
            INSERT INTO page_ledger (notification_id, dispatch_id, channel, state, claimed_at,
                                     claims, updated_at, short_code, staff_id,
                                     correlation_id)
            VALUES ($1, $2, $3, 'claimed', $4, 1, $4, $5, $6, $7)
            ON CONFLICT (notification_id) DO UPDATE
               SET claims = page_ledger.claims + 1, updated_at = EXCLUDED.updated_at
            RETURNING notification_id, state, claimed_at, provider_sid, provider_status,
                      failure_reason, claims
            """,
            notification_id,
            dispatch_id,
            channel,
            now,
            short_code,
            staff_id,
            correlation_id,
        )
        return LedgerEntry(**dict(row))

    async def paged_person(self, notification_id: uuid.UUID) -> PagedPerson | None:
        """Who a page the notifier claimed was for, with its dispatch's code and correlation."""
        row = await self._pool.fetchrow(
            """SELECT staff_id, short_code, correlation_id FROM page_ledger
               WHERE notification_id = $1 AND staff_id IS NOT NULL""",
            notification_id,
        )
        return PagedPerson(**dict(row)) if row else None

    async def dispatch_for_code(self, short_code: str) -> tuple[uuid.UUID, uuid.UUID | None] | None:
        """(dispatch id, its correlation id) of the dispatch most recently paged with this
        code, or None."""
        row = await self._pool.fetchrow(
            """SELECT dispatch_id, correlation_id FROM page_ledger WHERE short_code = $1
               ORDER BY claimed_at DESC LIMIT 1""",
            short_code,
        )
        return (row["dispatch_id"], row["correlation_id"]) if row else None

    async def mark_sent(
        self, notification_id: uuid.UUID, *, sid: str, status: str, now: datetime
    ) -> None:
        await self._pool.execute(
            """UPDATE page_ledger SET state = 'sent', provider_sid = $2, provider_status = $3,
                      updated_at = $4 WHERE notification_id = $1""",
            notification_id,
            sid,
            status,
            now,
        )

    async def mark_failed(
        self, notification_id: uuid.UUID, *, reason: str, sid: str | None, now: datetime
    ) -> None:
        await self._pool.execute(
            """UPDATE page_ledger SET state = 'failed', failure_reason = $2, provider_sid = $3,
                      updated_at = $4 WHERE notification_id = $1 AND state <> 'sent'""",
            notification_id,
            reason,
            sid,
            now,
        )

    # --- which SID is whose (the in-doubt lookup, docs/decisions/012) ----------------------
    async def record_callback(
        self, notification_id: uuid.UUID, *, sid: str, status: str, now: datetime
    ) -> None:
        """A status callback named this notification (its URL's n=) for the provider SID;
        written together with the callbacks that arrive meanwhile (decision 057)."""
        await self._callbacks.record(Callback(sid, notification_id, status, now))

    async def called_back(self, notification_id: uuid.UUID) -> ProviderReceipt | None:
        """The provider's message or call that a status callback named as this notification's."""
        row = await self._pool.fetchrow(
            """SELECT provider_sid, provider_status FROM page_callbacks
               WHERE notification_id = $1 ORDER BY seen_at LIMIT 1""",
            notification_id,
        )
        return ProviderReceipt(row["provider_sid"], row["provider_status"]) if row else None

    async def owners(self, sids: list[str]) -> dict[str, uuid.UUID]:
        """SID -> the notification it is known to belong to (recorded as sent or failed with
        it, or named by a status callback). A SID not in the answer is nobody's yet."""
        rows = await self._pool.fetch(
            """SELECT provider_sid, notification_id FROM page_ledger
               WHERE provider_sid = ANY($1::text[])
               UNION
               SELECT provider_sid, notification_id FROM page_callbacks
               WHERE provider_sid = ANY($1::text[])""",
            sids,
        )
        return {r["provider_sid"]: r["notification_id"] for r in rows}
