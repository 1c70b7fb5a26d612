"""A whole stack of a test's own (embedded PostgreSQL, broker, sandbox, worker), for tests
that stop or break one of its parts; everything it started is stopped by PID."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from dispatch.demo.scenario import seed
from dispatch.settings import Settings
from dispatch.stack.runtime import Stack


@contextmanager
def state_dir() -> Iterator[Path]:
    """A state directory PostgreSQL's own system user can traverse (when we are root)."""
    path = Path(tempfile.mkdtemp(prefix="dispatch-own-stack-"))
    path.chmod(0o711)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@asynccontextmanager
async def own_stack(path: Path, *, log_level: str = "warning") -> AsyncIterator[Stack]:
    """The demo team's stack on one partition, its own embedded PostgreSQL in `path`."""
    settings = Settings(
        database_url="",
        kafka_bootstrap_servers="",
        twilio_api_base_url="",
        state_dir=path,
        topic_partitions=1,
        log_level=log_level,
    )
    stack = Stack(settings, durable=False)
    await stack.start()
    try:
        await seed(stack, stack.clock.now())
        await stack.projector.wait_until_caught_up(timeout=30)
        yield stack
    finally:
        await stack.stop()


@asynccontextmanager
async def fresh_own_stack(*, log_level: str = "warning") -> AsyncIterator[Stack]:
    """`own_stack` in a state directory of its own, removed once the stack has stopped."""
    with state_dir() as path:
        async with own_stack(path, log_level=log_level) as stack:
            yield stack


def worker_log(stack: Stack) -> list[dict[str, Any]]:
    """The worker's JSON log lines, as dicts."""
    lines = stack.workers[-1].log_path.read_text(errors="replace").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]
