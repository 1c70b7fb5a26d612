"""The worker's heartbeat: every few seconds it records in PostgreSQL that it is alive, which
partitions of the event topics it owns and how far behind it is. /health is red when no
worker has been consuming (partitions owned, no rebalance or table recovery under way)
for HEALTH_WORKER_STALE_S.

faust starts timers only after the first table recovery, so a worker stuck there never
reports consuming.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Iterable
from typing import Any

import faust
import structlog

from dispatch.health.report import WorkerBeat
from dispatch.health.streak import FailureStreak
from dispatch.worker.resources import WorkerServices
from dispatch.worker.timers import Timers
from projections.health import record_worker_beat

log = structlog.get_logger(__name__)


def owned_partitions(app: faust.App, topics: Iterable[str]) -> list[Any]:
    """The partitions of `topics` assigned to this worker now."""
    wanted = set(topics)
    return sorted(
        (tp for tp in app.consumer.assignment() if tp.topic in wanted),
        key=lambda tp: (tp.topic, tp.partition),
    )


def consumer_lag(app: faust.App, partitions: list[Any]) -> int | None:
    """Messages between what this worker has read (else committed) and each partition's
    end, from what the consumer already knows: nothing here waits on the broker."""
    total, known = 0, False
    for tp in partitions:
        try:
            end = app.consumer.highwater(tp)
        except AssertionError:  # unassigned since the assignment was read
            continue
        read = app.monitor.tp_read_offsets.get(tp)
        committed = app.monitor.tp_committed_offsets.get(tp)
        position = read + 1 if read is not None else committed
        if end is None or position is None:
            continue
        total, known = total + max(0, end - position), True
    return total if known else None


def is_settled(app: faust.App) -> bool:
    """Not rebalancing and not recovering tables: the agents are reading their streams."""
    tables: Any = app.tables  # the TableManager: its recovery is not on the declared type
    return not app.rebalancing and not tables.recovery.in_recovery


def register_worker_heartbeat(
    app: faust.App,
    res: WorkerServices,
    timers: Timers,
    *,
    interval_s: float,
    topics: list[str],
    readers_owned: Callable[[], Iterable[Any]] = list,
    readers_lag: Callable[[], int | None] = lambda: None,
) -> None:
    """`readers_owned` and `readers_lag`: the partitions owned by the readers outside
    faust's streams (decisions 032, 052) that the assignment names, and what those readers
    have yet to read, added to faust's own lag."""
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    started_at = res.clock.now()
    writes = FailureStreak(
        log, failed="worker_heartbeat_failed", recovered="worker_heartbeat_recovered"
    )

    @timers.every(interval_s, "worker-heartbeat")
    async def worker_heartbeat() -> None:
        now = res.clock.now()
        try:
            partitions = owned_partitions(app, topics)
            consuming = bool(partitions) and is_settled(app)
            owned = sorted((*partitions, *readers_owned()), key=lambda tp: (tp.topic, tp.partition))
            beat = WorkerBeat(
                worker_id=worker_id,
                beat_at=now,
                consuming_at=now if consuming else None,
                assignment=tuple(f"{tp.topic}:{tp.partition}" for tp in owned),
                lag=sum_known(consumer_lag(app, partitions), readers_lag()) if consuming else None,
                telephony_error=res.link.error if res.link is not None else None,
            )
            services = await res.get()
            await asyncio.wait_for(
                record_worker_beat(services.pool, beat, started_at), max(interval_s, 5.0)
            )
        except Exception as exc:  # PostgreSQL away: /health will say so; retry next tick
            writes.failure(exc, worker_id=worker_id)
            return
        writes.success(worker_id=worker_id)

    _unused: Any = worker_heartbeat


def sum_known(*lags: int | None) -> int | None:
    """The sum of the lags that are known; None when none is."""
    known = [lag for lag in lags if lag is not None]
    return sum(known) if known else None
