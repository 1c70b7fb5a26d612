"""Replay speed: `dispatch replay` over N archived events, beside its ceiling and its peer.

    .venv/bin/python -m bench.bench_replay [--events 1000000] [--library-events 20000]
                                           [--batch 10000] [--check] [--quick]

Prints figures; asserts nothing about time. In one run, on one PostgreSQL (DATABASE_URL's,
else an embedded one started for the run and stopped by PID), three figures in events/s:
1. `dispatch replay` rebuilding every read model from N archived events (generated histories:
   teams, clients' journeys and risk, crisis incidents with pages, escalations and replies,
   the generator of tests/integration/replay_history.py) and swapping them in;
2. the plain-SQL ceiling over the same archive (bench/replay_ceiling.py): one cursor, one
   grouped upsert per batch into a single table, asyncpg;
3. the `eventsourcing` library (bench/bench_eventsourcing.py) rebuilding an equivalent
   projection from its own PostgreSQL store, on fewer events (it commits once per event).
Each runs in a throwaway database, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' history generator
from bench import replay_ceiling
from bench.report import Figure, markdown
from dispatch.stack.postgres import EmbeddedPostgres
from projections.migrations import migrate
from projections.replay import Replay, Swapped
from tests.integration.replay_history import Shape, delivered, history

CHUNK = Shape(teams=4, staff_per_team=6, clients_per_team=20, incidents=800, episodes=2000,
              days=30, duplicates=0.0, partitions=6)  # fmt: skip  # about 18,000 events
COLUMNS = ("event_id", "type", "schema_version", "key", "occurred_at", "recorded_at",
           "correlation_id", "causation_id", "actor", "payload", "topic", "partition",
           "offset")  # fmt: skip


@asynccontextmanager
async def server() -> AsyncIterator[str]:
    """DATABASE_URL's server, else an embedded one for the run."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    data_dir = Path(tempfile.mkdtemp(prefix="bench-replay-pg-"))
    pg = EmbeddedPostgres(data_dir, durable=False)
    try:
        await pg.start()
        yield pg.url
    finally:
        await pg.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


async def archive(url: str, events: int) -> int:
    """Write about `events` generated events into the archive; returns how many."""
    conn = await asyncpg.connect(url)
    written, number, offsets = 0, 1, {}
    try:
        await migrate(conn)
        while written < events:
            shape = Shape(**{**CHUNK.__dict__, "seed": number, "number": number})
            rows = []
            for event, pos in delivered(history(shape), shape)[: events - written]:
                offset = offsets.get((pos.topic, pos.partition), 0)
                offsets[(pos.topic, pos.partition)] = offset + 1
                rows.append((event.event_id, event.type, event.schema_version, event.key,
                             event.occurred_at, event.recorded_at, event.correlation_id,
                             event.causation_id, event.actor, event.payload.model_dump_json(),
                             pos.topic, pos.partition, offset))  # fmt: skip
            await conn.copy_records_to_table("event_archive", records=rows, columns=COLUMNS)
            written += len(rows)
            number += 1
            print(f"\r  archived {written:,} events", end="", flush=True)
        print()
        return written
    finally:
        await conn.close()


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@asynccontextmanager
async def database(url: str) -> AsyncIterator[str]:
    name = f"bench_replay_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(url, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def measure(
    events: int, library_events: int, batch: int, check: bool = False
) -> list[Figure]:
    """The three figures of one run (see the module's doc)."""
    async with server() as url:
        async with database(url) as target:
            started = time.monotonic()
            written = await archive(target, events)
            print(f"  generated and archived {written:,} events in "
                  f"{time.monotonic() - started:.0f} s")  # fmt: skip
            replay = Replay(target, batch=batch)
            started = time.monotonic()
            result = await replay.run(check=check)
            seconds = time.monotonic() - started
            t = replay.tally
            rate = t.done / seconds
            held = f"projector held {result.paused_s:.3f} s" if isinstance(result, Swapped) else (
                f"{sum(not d.equal for d in result)} read models differ")  # fmt: skip
            print(f"  replay: {t.done:,} events in {seconds:.1f} s = {rate:,.0f} events/s "
                  f"({t.refused} refused, {t.not_understood} unread; {held})")  # fmt: skip
            done, ceiling_s = await replay_ceiling.rebuild(target, batch)
            ceiling = done / ceiling_s
            print(f"  plain SQL ceiling: {done:,} events in {ceiling_s:.1f} s = "
                  f"{ceiling:,.0f} events/s")  # fmt: skip
        library, stored = await peer(url, library_events)
    note = f"{t.done:,} events, batch {batch}"
    return [
        Figure("replay", "every read model rebuilt and swapped in", rate, "events/s",
               ceiling_name="plain SQL, one table", ceiling=ceiling,
               target=">= 50,000 events/s and >= 0.9 of the ceiling",
               met=rate >= 50_000 and rate >= 0.9 * ceiling, note=note),
        Figure("replay", "every read model, against the eventsourcing library", rate,
               "events/s", ceiling_name=f"eventsourcing {library_version()}", ceiling=library,
               target=">= 50x the library", met=None if library is None else rate >= 50 * library,
               note=f"library on {stored:,} events" if library else "pip install -e '.[bench]'"),
    ]  # fmt: skip


def library_version() -> str:
    try:
        return version("eventsourcing")
    except PackageNotFoundError:
        return "(not installed)"


async def peer(url: str, events: int) -> tuple[float | None, int]:
    """The eventsourcing library's events/s on `events` (None without the bench extra)."""
    try:
        from bench import bench_eventsourcing
    except ImportError:
        print("  eventsourcing library: not installed (pip install -e '.[bench]')")
        return None, 0
    async with database(url) as target:
        stored = await asyncio.to_thread(bench_eventsourcing.store, target, events)
        library = await asyncio.to_thread(bench_eventsourcing.rebuild, target, stored)
    print(f"  eventsourcing library: {stored:,} events at {library:,.0f} events/s")
    return library, stored


async def figures(quick: bool) -> list[Figure]:
    """For `python -m bench`: 1,000,000 events (library 20,000), then the live projector's
    lag under 5,000 events/s for 20 s (bench/bench_projector.py); quick: 20,000 events
    (library 2,000), no projector run (`python -m bench.bench_projector --quick` has one)."""
    if quick:
        return await measure(20_000, 2_000, 10_000)
    from bench import bench_projector

    return [*await measure(1_000_000, 20_000, 10_000), *await bench_projector.figures(False)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--library-events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--check", action="store_true", help="compare instead of swapping")
    parser.add_argument("--quick", action="store_true", help="20,000 events, library 2,000")
    args = parser.parse_args()
    if args.quick:
        args.events, args.library_events = 20_000, 2_000
    found = asyncio.run(measure(args.events, args.library_events, args.batch, args.check))
    print(markdown(found))


if __name__ == "__main__":
    main()
