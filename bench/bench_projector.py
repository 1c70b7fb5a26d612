"""The live projector's lag under a steady producer: does it keep up with 5,000 events/s?

    .venv/bin/python -m bench.bench_projector [--rate 5000] [--seconds 20] [--quick]

Prints figures; asserts nothing about time. An embedded broker (tansu, 4 partitions per
topic) and an embedded PostgreSQL are started for the run (and stopped by PID); the
projector (projections/projector.py, as `dispatch up` runs it) consumes every event topic.
A producer, in a process of its own, publishes generated histories
(tests/integration/replay_history.py: teams, clients, incidents with pages and replies) at
the given rate, in batches every 20 ms, each acknowledged by the broker (acks=all). Every
250 ms the archive is counted: the lag at that instant is how long ago the newest event the
projector has applied was published (events are applied in the order they are published,
per partition). Printed: the lag's p50, p99 and maximum while producing, how long the
projector took to finish after the last batch was acknowledged, and the CPU time the
projector's process and PostgreSQL's processes used per 1,000 events over that time (from
the producer's start until caught up): on a shared machine the lag follows the load, the
CPU time much less.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import gc
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' history generator

from bench.report import Figure, markdown
from dispatch.bus import EventPublisher
from dispatch.events import Envelope
from dispatch.logs import configure_logging
from dispatch.stack.broker import EmbeddedBroker
from dispatch.stack.postgres import EmbeddedPostgres
from dispatch.topics import event_topics
from projections.migrations import migrate
from projections.pool import connect
from projections.projector import Projector
from tests.integration.replay_history import Shape, history

TICK_S = 0.02
SAMPLE_S = 0.25


def workload(events: int) -> list[Envelope]:
    out: list[Envelope] = []
    number = 1
    while len(out) < events:
        shape = Shape(teams=4, staff_per_team=6, clients_per_team=20, incidents=800,
                      episodes=2000, days=30, duplicates=0.0, seed=number,
                      number=number)  # fmt: skip
        out += history(shape)
        number += 1
    return out[:events]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def own_cpu_s() -> float:
    """CPU seconds (user + system) of this process, the projector's, so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process and its living children (PostgreSQL's postmaster and its
    backends, which stay for the run: the pool's connections)."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def produce(servers: str, rate: int, seconds: float, out: Connection) -> None:
    """The producer, in a process of its own: sends ("ready", n), then ("sent", events
    acknowledged so far, wall time) after each batch, then ("done", seconds)."""

    async def run() -> None:
        events = workload(int(rate * seconds))
        publisher = EventPublisher(servers)
        await publisher.start()
        out.send(("ready", len(events)))
        per_tick = max(1, int(rate * TICK_S))
        started = time.monotonic()
        for k, at in enumerate(range(0, len(events), per_tick)):
            await asyncio.sleep(max(0.0, started + k * TICK_S - time.monotonic()))
            await publisher.publish(events[at : at + per_tick])
            out.send(("sent", min(at + per_tick, len(events)), time.time()))
        out.send(("done", time.monotonic() - started))
        await publisher.stop()

    asyncio.run(run())


async def measure(rate: int, seconds: float) -> list[Figure]:
    work = Path(tempfile.mkdtemp(prefix="bench-projector-"))
    pg_dir = Path(tempfile.mkdtemp(prefix="bench-projector-pg-"))
    pg, broker = EmbeddedPostgres(pg_dir, durable=False), EmbeddedBroker(work / "broker")
    producer: multiprocessing.process.BaseProcess | None = None
    try:
        await pg.start()
        await broker.start()
        pool = await connect(pg.url, min_size=2, max_size=4)
        async with pool.acquire() as conn:
            await migrate(conn)
        topics = event_topics()
        projector = Projector(pool, broker.bootstrap_servers, topics)
        await projector.start()
        gc.collect()
        gc.freeze()  # as dispatch up's stack does once started (dispatch/stack/runtime.py)
        published: list[tuple[int, float]] = []  # (events acknowledged so far, when)
        lags: list[float] = []
        receive, send = multiprocessing.get_context("spawn").Pipe(duplex=False)
        producer = multiprocessing.get_context("spawn").Process(
            target=produce, args=(broker.bootstrap_servers, rate, seconds, send), daemon=True
        )
        producer.start()
        _, total = await asyncio.to_thread(receive.recv)
        cpu_from = own_cpu_s(), tree_cpu_s(pg.pid)
        sending = True

        async def sample() -> None:
            while sending:
                await asyncio.sleep(SAMPLE_S)
                applied = await pool.fetchval("SELECT count(*) FROM event_archive")
                now = time.time()
                counts = [n for n, _ in published]
                i = bisect.bisect_left(counts, applied)
                # the newest event applied was published (acknowledged) at published[i]
                lags.append(now - published[i][1] if i < len(published) else 0.0)

        sampler = asyncio.create_task(sample())
        while (message := await asyncio.to_thread(receive.recv))[0] == "sent":
            published.append((message[1], message[2]))
        produced_s = message[1]
        ended = time.monotonic()
        while await pool.fetchval("SELECT count(*) FROM event_archive") < total:
            await asyncio.sleep(0.05)
        drained = time.monotonic() - ended
        own_ms = (own_cpu_s() - cpu_from[0]) / total * 1e6
        pg_ms = (tree_cpu_s(pg.pid) - cpu_from[1]) / total * 1e6
        sending = False
        await sampler
        await projector.stop()
        await pool.close()
    finally:
        if producer is not None:
            producer.join(timeout=10)
            if producer.is_alive():
                producer.terminate()  # by its own handle: the process this run started
        await broker.stop()
        await pg.stop()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(pg_dir, ignore_errors=True)
    achieved = total / produced_s
    p50, p99, worst = percentile(lags, 0.5), percentile(lags, 0.99), max(lags, default=0.0)
    print(f"  produced {total:,} events in {produced_s:.1f} s ({achieved:,.0f} events/s); "
          f"lag p50 {p50:.2f} s, p99 {p99:.2f} s, max {worst:.2f} s; "
          f"caught up {drained:.2f} s after the last")  # fmt: skip
    print(f"  CPU per 1,000 events: projector process {own_ms:.0f} ms, "
          f"PostgreSQL {pg_ms:.0f} ms")  # fmt: skip
    note = f"{achieved:,.0f} events/s produced for {produced_s:.0f} s, 4 partitions"
    return [
        Figure("projector", "lag p99 under a steady producer", p99, "s", target="< 1 s",
               met=p99 < 1.0 and achieved >= 0.95 * rate, note=note),
        Figure("projector", "lag max; caught up after the last event", worst, "s",
               target="< 1 s", met=worst < 1.0, note=f"caught up in {drained:.2f} s"),
    ]  # fmt: skip


async def figures(quick: bool) -> list[Figure]:
    """For `python -m bench`: 5,000 events/s for 20 s; quick: for 2 s."""
    return await measure(5000, 2.0 if quick else 20.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="2 s instead of 20")
    args = parser.parse_args()
    configure_logging(level="info")  # as `dispatch up` runs the projector
    found = asyncio.run(measure(args.rate, 2.0 if args.quick else args.seconds))
    print(markdown(found))


if __name__ == "__main__":
    main()
