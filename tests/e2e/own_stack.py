"""A whole stack of a test's own (its own database, broker, sandbox), for tests that kill or
starve parts of it; stopped, and its database dropped, when the test is done."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from dispatch.demo.scenario import seed
from dispatch.settings import Settings
from dispatch.stack.runtime import Stack
from tests.e2e.south_team import south_team_events


@asynccontextmanager
async def own_stack(
    pg_server_url: str, state_dir: Path, *, with_worker: bool = True, **settings: Any
) -> AsyncIterator[Stack]:
    """Started with the demo team and the south team (2 s escalation steps) seeded."""
    admin = await asyncpg.connect(pg_server_url)
    db = f"e2e_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{db}"')
    base, _, _ = pg_server_url.rpartition("/")
    stack = Stack(
        Settings(
            database_url=f"{base}/{db}",
            kafka_bootstrap_servers="",
            twilio_api_base_url="",
            state_dir=state_dir,
            topic_partitions=1,
            log_level="warning",
            **settings,
        ),
        durable=False,
    )
    try:
        await stack.start(with_worker=with_worker)
        await seed(stack, stack.clock.now())
        await stack.publisher.publish(south_team_events(stack.clock.now()))
        await stack.projector.wait_until_caught_up(timeout=30)
        yield stack
    finally:
        await stack.stop()
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()
