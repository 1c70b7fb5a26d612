"""The embedded PostgreSQL: a child process we start, reach, stop by PID and restart."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest

from dispatch.stack.postgres import EmbeddedPostgres, EmbeddedPostgresError


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Straight under /tmp: the server's system user must be able to reach it.
    path = Path(tempfile.mkdtemp(prefix="dispatch-pg-test-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _gone(procs: list[psutil.Process]) -> bool:
    _, alive = psutil.wait_procs(procs, timeout=5)
    return not alive


async def test_start_connect_stop_leaves_no_process(data_dir: Path) -> None:
    """A started server answers on its URL; stop() leaves neither the postmaster nor a backend."""
    server = EmbeddedPostgres(data_dir, durable=False)
    await server.start()
    try:
        assert server.url.startswith("postgresql://postgres@127.0.0.1:")
        assert server.url.endswith("/dispatch")
        conn = await asyncpg.connect(server.url)
        try:
            assert await conn.fetchval("SELECT current_database()") == "dispatch"
            assert await conn.fetchval("SHOW fsync") == "off"
        finally:
            await conn.close()
        postmaster = psutil.Process(server.pid)
        family = [postmaster, *postmaster.children(recursive=True)]
        assert len(family) > 1  # checkpointer, walwriter, ... are its children
    finally:
        await server.stop()
    assert not psutil.pid_exists(family[0].pid)
    assert _gone(family)


async def test_restart_on_same_directory_keeps_data(data_dir: Path) -> None:
    """Rows committed before a stop are there after a restart on the same data directory."""
    first = EmbeddedPostgres(data_dir)
    await first.start()
    try:
        assert first.initdb_seconds is not None
        conn = await asyncpg.connect(first.url)
        await conn.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
        await conn.close()
    finally:
        await first.stop()
    second = EmbeddedPostgres(data_dir)
    await second.start()
    try:
        assert second.initdb_seconds is None  # the directory was not new
        conn = await asyncpg.connect(second.url)
        assert await conn.fetchval("SELECT n FROM kept") == 42
        assert await conn.fetchval("SHOW fsync") == "on"
        await conn.close()
    finally:
        await second.stop()


async def test_port_in_use_fails_with_log_tail_and_no_process(data_dir: Path) -> None:
    """A start that cannot bind its port raises with the server's own words and leaves nothing."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = EmbeddedPostgres(data_dir, port=port, durable=False)
        with pytest.raises(EmbeddedPostgresError, match="could not bind"):
            await server.start()
    assert _serving(data_dir) == []


def _serving(data_dir: Path) -> list[int]:
    """PIDs of processes whose command line names data_dir."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        if str(data_dir) in " ".join(proc.info["cmdline"] or []):
            found.append(proc.info["pid"])
    return found


async def test_long_data_dir_path_falls_back_to_tcp_only() -> None:
    """A data directory too deep for a unix socket path still starts, on TCP alone."""
    root = Path(tempfile.mkdtemp(prefix="dispatch-pg-long-"))
    deep = root / ("d" * 60) / ("e" * 60)
    deep.parent.mkdir(parents=True)
    for path in (root, deep.parent):
        path.chmod(0o755)
    server = EmbeddedPostgres(deep, durable=False)
    try:
        await server.start()
        assert server.socket_dir is None
        conn = await asyncpg.connect(server.url)
        assert await conn.fetchval("SELECT 1") == 1
        await conn.close()
    finally:
        await server.stop()
        shutil.rmtree(root, ignore_errors=True)
