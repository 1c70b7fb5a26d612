"""The embedded PostgreSQL after a crash: a stale postmaster.pid is cleared only when it is
stale, and a restart comes back on the same port with the same data."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import psutil
import pytest
from structlog.testing import capture_logs

from dispatch.stack.pg_lock import LOCK_FILE, lock_pid
from dispatch.stack.postgres import EmbeddedPostgres, EmbeddedPostgresError


@pytest.fixture
async def server() -> AsyncIterator[EmbeddedPostgres]:
    """A started durable server with one committed row, in a directory straight under /tmp
    (the server's system user must reach it); stopped by PID and removed afterwards."""
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="dispatch-pg-crash-")))
    try:
        await pg.start()
        conn = await asyncpg.connect(pg.url)
        await conn.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
        await conn.close()
        yield pg
    finally:
        await pg.stop()
        shutil.rmtree(pg.data_dir, ignore_errors=True)


def _family(pid: int) -> list[psutil.Process]:
    postmaster = psutil.Process(pid)
    return [postmaster, *postmaster.children(recursive=True)]


async def _kept(pg: EmbeddedPostgres) -> int:
    conn = await asyncpg.connect(pg.url)
    try:
        kept: int = await conn.fetchval("SELECT n FROM kept")
        return kept
    finally:
        await conn.close()


async def test_a_stale_lock_naming_a_reused_pid_is_cleared_and_the_next_start_works(
    server: EmbeddedPostgres,
) -> None:
    """Killed with SIGKILL, its postmaster.pid now naming another live process: the next start
    sees that process is not our server, clears the file and starts on the same data."""
    data_dir = server.data_dir
    family = _family(server.pid)
    os.killpg(server.pid, signal.SIGKILL)  # the postmaster and every backend
    psutil.wait_procs(family, timeout=10)
    await server.stop()  # reaps the dead postmaster
    lock = data_dir / LOCK_FILE
    assert lock.exists(), "SIGKILL leaves the lock file behind"
    # The dead server's PID given to an unrelated process: PostgreSQL alone would refuse.
    other = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import time; time.sleep(60)"
    )
    holder = psutil.Process(other.pid).name()
    try:
        lines = lock.read_text().split("\n")
        lock.write_text("\n".join([str(other.pid), *lines[1:]]))
        again = EmbeddedPostgres(data_dir)
        with capture_logs() as logs:
            await again.start()
        try:
            assert await _kept(again) == 42
            assert lock_pid(data_dir) == again.pid
        finally:
            await again.stop()
    finally:
        other.kill()
        await other.wait()
    cleared = [e for e in logs if e["event"] == "postgres_stale_lock_cleared"]
    assert [(e["stale_pid"], e["pid_holder"]) for e in cleared] == [(other.pid, f"now {holder}")]


async def test_the_lock_of_a_running_server_is_never_cleared(
    server: EmbeddedPostgres,
) -> None:
    """A second start on a directory whose server runs is refused; the running one is untouched."""
    data_dir = server.data_dir
    second = EmbeddedPostgres(data_dir)
    with pytest.raises(EmbeddedPostgresError, match=f"pid {server.pid}.*still running"):
        await second.start()
    assert lock_pid(data_dir) == server.pid
    assert await _kept(server) == 42


async def test_restart_after_sigkill_keeps_port_and_data_and_leaves_no_orphan(
    server: EmbeddedPostgres,
) -> None:
    """A postmaster killed alone (its backends orphaned) restarts on the same port with its
    rows; no process of the dead server is left."""
    port, old = server.port, _family(server.pid)
    os.kill(server.pid, signal.SIGKILL)
    await server.restart()
    assert server.port == port
    assert server.pid != old[0].pid
    assert await _kept(server) == 42
    _, alive = psutil.wait_procs(old, timeout=5)
    assert alive == []
