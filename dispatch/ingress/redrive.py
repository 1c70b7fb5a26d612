"""Re-drive: a crisis contact whose dispatch has not appeared is published again.

Every crisis call or text opens a dispatch whose id is derived from the contact's event id
(dispatch/crisis/decide.py). A contact spooled more than `after` ago whose dispatch is not
in the dispatches read model was lost somewhere between the spool and the dispatch agent
(a broker that restarted empty, a topic created afresh); its spool row is marked unpublished
again, so the relay publishes it once more. The dispatch agent is idempotent (same ids), so
a contact that was merely slow is decided once. Each re-drive is logged at error level and
counted; `unpaged_contacts` is the query behind it, for health checks and metrics too.

A contact the event archive holds is not re-driven: the projector read it from the broker,
so it is in the log the dispatch agent reads (and a broker restart restores it), and it
is only waiting behind others. Publishing it again would only add work to a worker that
is already behind (docs/decisions/025).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import structlog

from dispatch.clock import Clock
from dispatch.events import derived_id
from dispatch.topics import CLIENT_EVENTS

log = structlog.get_logger(__name__)
CRISIS_CONTACTS = ("CrisisCallReceived", "CrisisTextReceived")


@dataclass(frozen=True)
class UnpagedContact:
    """A crisis contact with no dispatch yet."""

    event_id: uuid.UUID
    event_type: str
    dispatch_id: uuid.UUID
    spooled_at: datetime
    published: bool


async def unpaged_contacts(
    pool: asyncpg.Pool,
    older_than: timedelta,
    *,
    now: datetime,
    lookback: timedelta = timedelta(hours=1),
) -> list[UnpagedContact]:
    """Crisis contacts spooled between `now - lookback` and `now - older_than`, not in the
    event archive, whose dispatch is not in the dispatches read model, oldest first."""
    rows = await pool.fetch(
        """SELECT event_id, convert_from(value, 'UTF8')::jsonb ->> 'type' AS event_type,
                  spooled_at, published_at IS NOT NULL AS published
           FROM ingress_spool
           WHERE topic = $1 AND spooled_at >= $2 AND spooled_at <= $3
             AND convert_from(value, 'UTF8')::jsonb ->> 'type' = ANY($4::text[])
             AND NOT EXISTS (SELECT 1 FROM event_archive a
                             WHERE a.event_id = ingress_spool.event_id)
           ORDER BY seq""",
        CLIENT_EVENTS,
        now - lookback,
        now - older_than,
        list(CRISIS_CONTACTS),
    )
    if not rows:
        return []
    wanted = {derived_id("dispatch", r["event_id"]): r for r in rows}
    opened = await pool.fetch(
        "SELECT dispatch_id FROM dispatches WHERE dispatch_id = ANY($1::uuid[])",
        list(wanted),
    )
    have = {r["dispatch_id"] for r in opened}
    return [
        UnpagedContact(
            event_id=r["event_id"],
            event_type=r["event_type"],
            dispatch_id=dispatch_id,
            spooled_at=r["spooled_at"],
            published=r["published"],
        )
        for dispatch_id, r in wanted.items()
        if dispatch_id not in have
    ]


class Redrive:
    """Runs beside the spool relay: every `interval_s`, re-drives the unpaged contacts."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        *,
        after: timedelta,
        lookback: timedelta = timedelta(hours=1),
        interval_s: float | None = None,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._after = after
        self._lookback = lookback
        self._interval_s = interval_s or min(5.0, after.total_seconds() / 3)
        self._last: dict[uuid.UUID, datetime] = {}
        self.redriven = 0  # contacts published again since start (a figure for metrics)

    async def redrive_once(self) -> list[UnpagedContact]:
        """Publish again, through the relay, each unpaged contact not re-driven within the
        last `after` (a contact still without a dispatch is re-driven again later)."""
        now = self._clock.now()
        found = await unpaged_contacts(self._pool, self._after, now=now, lookback=self._lookback)
        due = [
            c
            for c in found
            if now - self._last.get(c.event_id, datetime.min.replace(tzinfo=now.tzinfo))
            >= self._after
        ]
        self._last = {k: at for k, at in self._last.items() if now - at < self._lookback}
        if not due:
            return []
        await self._pool.execute(
            "UPDATE ingress_spool SET published_at = NULL WHERE event_id = ANY($1::uuid[])",
            [c.event_id for c in due],
        )
        for contact in due:
            self._last[contact.event_id] = now
            self.redriven += 1
            log.error(
                "crisis_contact_redriven",
                alert=True,
                event_id=str(contact.event_id),
                event_type=contact.event_type,
                dispatch_id=str(contact.dispatch_id),
                waited_s=round((now - contact.spooled_at).total_seconds(), 1),
            )
        return due

    def _due(self, event_id: uuid.UUID, now: datetime) -> bool:
        last = self._last.get(event_id)
        return last is None or now - last >= self._after

    async def run(self, wake: asyncio.Event) -> None:
        """Forever: re-drive, wake the relay if anything was re-driven, wait."""
        failures = 0
        while True:
            try:
                if await self.redrive_once():
                    wake.set()
                failures = 0
            except Exception as exc:  # the database is away: the next round tries again
                failures += 1
                if failures % 12 == 1:  # the first failure, then about once a minute
                    log.warning("redrive_failed", error=repr(exc), failures=failures)
            await asyncio.sleep(self._interval_s)
