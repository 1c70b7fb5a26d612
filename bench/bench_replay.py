"""Replay speed: `dispatch replay` over N archived events, in events per second.

    .venv/bin/python bench/bench_replay.py [--events 1000000] [--batch 1000] [--check]

Prints figures; asserts nothing about time. The events are generated histories (teams,
clients' journeys and risk, crisis incidents with pages, escalations and replies: the
generator of tests/integration/replay_history.py), written straight into the event archive
of a throwaway database with their Kafka positions, on the PostgreSQL of DATABASE_URL, else
on an embedded one started for the run (and stopped by PID). The database is dropped at
the end. The replay then rebuilds every read model from that archive and swaps them in,
exactly as `dispatch replay` does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' history generator

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


async def main(events: int, batch: int, check: bool) -> None:
    async with server() as url:
        name = f"bench_replay_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(url)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            target = with_database(url, name)
            started = time.monotonic()
            written = await archive(target, events)
            print(
                f"generated and archived {written:,} events in {time.monotonic() - started:.0f} s"
            )
            replay = Replay(target, batch=batch)
            result = await replay.run(check=check)
            t = replay.tally
            print(f"replay: {t.done:,} events in {t.seconds:.1f} s = {t.rate:,.0f} events/s "
                  f"(batch {batch}; {t.refused} refused, {t.not_understood} unread)")  # fmt: skip
            if isinstance(result, Swapped):
                print(f"swap: the projector would have waited {result.paused_s:.3f} s")
            else:
                print(f"check: {sum(not d.equal for d in result)} read models differ")
            sizes = await admin.fetchval("SELECT pg_database_size($1)", name)
            figures = {"events": t.done, "seconds": round(t.seconds, 1),
                       "events_per_s": round(t.rate), "database_mb": sizes // 2**20}  # fmt: skip
            print(json.dumps(figures))
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--check", action="store_true", help="compare instead of swapping")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.batch, args.check))
