"""The embedded broker renewed in a quiet moment, before its fetches slow down.

tansu's memory storage answers a fetch more slowly the more batches a partition holds, and
only a restart empties it (docs/decisions/040). The supervisor already knows how to bring
a broker back empty: park its clients, start it, restore from the archive what the workers
need, resume (dispatch/stack/recovery.py, the plan a killed broker gets). `BrokerRenewal`
says when to run that plan on a live broker: once a partition of an event topic has taken
`broker_renew_after_records` records since the last start or restore, and only while the
stack is quiet, so that no call is likely to wait on it: no dispatch open, nothing waiting
in the ingress spool, and no call accepted and nothing archived for
`broker_renew_quiet_s`. A call that comes during a renewal is kept in the spool and paged
once the workers are back (as during a broker crash), some seconds late. A stack that is
never quiet is not renewed: `/health` turns red at `health_broker_partition_records` as
before, and a human chooses the moment. docs/decisions/043.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from dispatch.health.broker_probe import KafkaMetadataProbe
from dispatch.health.report import Fullest
from dispatch.topics import event_topics

QUIET_SQL = """
SELECT (SELECT count(*) FROM dispatches
         WHERE status <> 'resolved' AND opened_at IS NOT NULL) AS open_dispatches,
       (SELECT count(*) FROM ingress_spool WHERE published_at IS NULL) AS unpublished,
       GREATEST(
           (SELECT recorded_at FROM event_archive ORDER BY archived_seq DESC LIMIT 1),
           (SELECT spooled_at FROM ingress_spool ORDER BY seq DESC LIMIT 1)) AS newest
"""


@dataclass(frozen=True)
class Quiet:
    """What the stack is doing now, as far as a renewal cares."""

    open_dispatches: int
    unpublished: int  # accepted events the relay has not published yet
    newest: datetime | None  # the newest event archived or call accepted: when


def renewal_reason(
    fullest: Fullest | None, quiet: Quiet, now: datetime, *, after_records: int, quiet_s: float
) -> str | None:
    """Why the broker should be renewed now, or None (too little taken, or not quiet)."""
    if after_records <= 0 or fullest is None or fullest.records < after_records:
        return None
    if quiet.open_dispatches or quiet.unpublished:
        return None
    if quiet.newest is not None and (now - quiet.newest).total_seconds() < quiet_s:
        return None
    return (
        f"renewed in a quiet moment: partition {fullest.topic}[{fullest.partition}] took "
        f"{fullest.records} records (renewal at {after_records})"
    )


class BrokerRenewal:
    """Reads the broker's fill and the stack's quiet; `reason()` when it is time."""

    def __init__(
        self,
        probe: KafkaMetadataProbe,
        pool: asyncpg.Pool,
        *,
        after_records: int,
        quiet_s: float,
        every_s: float,
    ) -> None:
        self._probe = probe
        self._pool = pool
        self.after_records = after_records
        self.quiet_s = quiet_s
        self.every_s = every_s  # how often the supervisor asks
        # Event topics only: what calls and pages make them take. The workers' table
        # changelogs take records after every restart (a renewal's too), and no hop of a
        # page fetches from them.
        self._topics = frozenset(event_topics())

    async def reason(self, now: datetime) -> str | None:
        await self._probe.read_history()
        fullest = self._probe.fullest_of(self._topics)
        if fullest is None or fullest.records < self.after_records:
            return None  # the database is not asked while the broker is far from it
        row = await self._pool.fetchrow(QUIET_SQL)
        assert row is not None
        quiet = Quiet(row["open_dispatches"], row["unpublished"], row["newest"])
        return renewal_reason(
            fullest, quiet, now, after_records=self.after_records, quiet_s=self.quiet_s
        )
