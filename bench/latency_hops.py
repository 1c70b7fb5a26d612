"""Where ring-to-page time goes, hop by hop, from what the system records anyway.

For each call: the spool row (spooled_at: the webhook's durable insert; published_at:
the relay's broker ack), the dispatch agent's DispatchOpened (recorded_at: decided, before
its appends), the page ledger's claim (claimed_at: the notifier is about to send) and the
sandbox's arrival time. Every clock is this machine's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise
from typing import Protocol

import asyncpg

from dispatch.events import derived_id

HOPS = (
    "ring -> spooled (webhook)",
    "spooled -> published (relay, broker ack)",
    "published -> decided (fetch, dispatch agent)",
    "decided -> claimed (appends, notifier reads)",
    "claimed -> Twilio (claim commit, REST request)",
)


class Rung(Protocol):
    @property
    def call_sid(self) -> str: ...

    @property
    def placed_at(self) -> float: ...


async def call_hops(
    pool: asyncpg.Pool, calls: Sequence[Rung], arrived: dict[str, float]
) -> dict[int, list[float]]:
    """Each call's milliseconds in each hop (HOPS), by its place in `calls`, for the calls
    whose times are all known."""
    contact_ids = {c.call_sid: derived_id("twilio-call", c.call_sid) for c in calls}
    rows = await pool.fetch(
        """SELECT s.event_id, s.spooled_at, s.published_at, o.recorded_at AS decided_at,
                  l.claimed_at
           FROM ingress_spool s
           LEFT JOIN event_archive o ON o.causation_id = s.event_id AND o.type = 'DispatchOpened'
           LEFT JOIN page_ledger l ON l.dispatch_id = (o.payload->>'dispatch_id')::uuid
           WHERE s.event_id = ANY($1::uuid[])""",
        list(contact_ids.values()),
    )
    by_id = {r["event_id"]: r for r in rows}
    out: dict[int, list[float]] = {}
    for n, call in enumerate(calls):
        row = by_id.get(contact_ids[call.call_sid])
        if row is None or call.call_sid not in arrived:
            continue
        marks = [row["spooled_at"], row["published_at"], row["decided_at"], row["claimed_at"]]
        if any(m is None for m in marks):
            continue
        times = [call.placed_at, *(_epoch(m) for m in marks), arrived[call.call_sid]]
        if any(b < a for a, b in pairwise(times)):
            continue  # e.g. the re-drive published the call before the relay marked its row
        out[n] = [(b - a) * 1000 for a, b in pairwise(times)]
    return out


def _epoch(at: datetime) -> float:
    return at.timestamp()
