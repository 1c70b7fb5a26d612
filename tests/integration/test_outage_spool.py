"""The ingress spool with PostgreSQL refusing: events go to the local file, then into
PostgreSQL once it is back, each exactly once and in the order they were accepted."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from structlog.testing import capture_logs

from dispatch.bus import EventPublisher
from dispatch.clock import SystemClock
from dispatch.events.codec import decode
from dispatch.ingress.fallback_file import FallbackFile
from dispatch.ingress.outage_spool import OutageSpool
from dispatch.ingress.spool import IngressSpool
from dispatch.stack.broker import free_port
from tests.integration.test_ingress_spool import call

NOWHERE = EventPublisher("127.0.0.1:9")  # the relay is not started: nothing is published


async def spooled_ids(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch("SELECT value FROM ingress_spool ORDER BY seq")
    return [decode(bytes(r["value"])).payload.call_sid for r in rows]  # type: ignore[union-attr]


async def test_refused_inserts_go_to_the_file_and_move_in_order(
    pg_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """PostgreSQL refusing: record() still returns (from the fsync'ed file); once it is
    back, the file is moved into the spool in acceptance order and deleted."""
    dead = await asyncpg.create_pool(f"postgresql://postgres@127.0.0.1:{free_port()}/x", min_size=0)
    fallback = FallbackFile(tmp_path)
    down = OutageSpool(dead, NOWHERE, SystemClock(), fallback=fallback, db_timeout_s=1)
    with pytest.raises(ConnectionRefusedError):  # a command's spool: the person retries
        await down.record([call("CA-file-0")])
    down.use_file_when_down()  # as start() does in the web edge
    with capture_logs() as logs:
        assert await down.record([call("CA-file-1")]) is True
        assert await down.record([call("CA-file-2")]) is True
        assert await down.record([call("CA-file-1")]) is False  # Twilio's retry
    assert down.using_file and await down.file_backlog() == 3
    assert {"event": "spool_database_down_using_file", "error": "ConnectionRefusedError",
            "file": str(tmp_path / "pending.jsonl"), "log_level": "error"} in logs  # fmt: skip
    await dead.close()

    back = OutageSpool(pg_pool, NOWHERE, SystemClock(), fallback=FallbackFile(tmp_path))
    assert await back.move_once() == 3
    assert await spooled_ids(pg_pool) == ["CA-file-1", "CA-file-2"]
    assert not back.using_file and FallbackFile(tmp_path).empty()
    assert await back.record([call("CA-direct")]) is True
    assert await spooled_ids(pg_pool) == ["CA-file-1", "CA-file-2", "CA-direct"]


async def test_a_move_interrupted_half_way_is_finished_without_doubles(
    pg_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """The process died after claiming the file and inserting part of it: the next one
    moves the whole file again and each event is spooled once (ON CONFLICT DO NOTHING)."""
    fallback = FallbackFile(tmp_path)
    events = [call(f"CA-crash-{i}") for i in range(4)]
    fallback.append([e.model_dump_json().encode() for e in events])
    assert fallback.claim()  # the dying process had claimed the file...
    await IngressSpool(pg_pool, NOWHERE, SystemClock()).record(events[:2])  # ...and inserted two
    restarted = OutageSpool(pg_pool, NOWHERE, SystemClock(), fallback=FallbackFile(tmp_path))
    assert await restarted.move_once() == 4
    assert await spooled_ids(pg_pool) == [f"CA-crash-{i}" for i in range(4)]
    assert fallback.empty()


async def test_an_unreadable_line_is_set_aside_not_lost(
    pg_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """A torn line cannot be spooled: it is kept for a person, and the events around it move."""
    fallback = FallbackFile(tmp_path)
    fallback.append([call("CA-before").model_dump_json().encode(), b'{"torn": '])
    fallback.append([call("CA-after").model_dump_json().encode()])
    spool = OutageSpool(pg_pool, NOWHERE, SystemClock(), fallback=fallback)
    with capture_logs() as logs:
        assert await spool.move_once() == 2
    assert await spooled_ids(pg_pool) == ["CA-before", "CA-after"]
    assert (tmp_path / "unreadable.jsonl").read_bytes() == b'{"torn": \n'
    assert [line["event"] for line in logs if line["log_level"] == "error"] == [
        "spool_file_line_unreadable"
    ]
