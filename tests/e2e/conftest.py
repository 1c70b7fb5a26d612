"""One whole stack for the end-to-end tests: embedded broker, PostgreSQL, sandbox, worker.

Topics have one partition here so that "a later event was processed" proves "every earlier
event was processed": the tests wait on a sentinel instead of sleeping.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from dispatch.demo.scenario import seed
from dispatch.settings import Settings
from dispatch.stack.runtime import Stack
from integrations.twilio.sandbox import SandboxPhones
from tests.e2e.south_team import south_team_events


@pytest.fixture(scope="session")
async def stack(
    pg_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    admin = await asyncpg.connect(pg_server_url)
    db = f"e2e_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{db}"')
    base, _, _ = pg_server_url.rpartition("/")
    settings = Settings(
        database_url=f"{base}/{db}",
        kafka_bootstrap_servers="",  # always an embedded broker of its own
        twilio_api_base_url="",
        state_dir=tmp_path_factory.mktemp("stack"),
        topic_partitions=1,
        broker_commit_interval_s=60.0,  # a killed worker always has uncommitted work
        voice_redial_delay_s=1.0,  # an unanswered voice page is dialled again after ~1 s
        log_level="warning",
        api_tokens="north-lead-token:act-north:team_lead,other-team-token:act-south:team_lead",
    )
    stack = Stack(settings, durable=False)
    await stack.start()
    await seed(stack, stack.clock.now())
    await stack.publisher.publish(south_team_events(stack.clock.now()))
    await stack.projector.wait_until_caught_up(timeout=30)
    try:
        yield stack
    finally:
        await stack.stop()
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def phones(stack: Stack) -> AsyncIterator[SandboxPhones]:
    """The sandbox's phones: place calls and send texts as callers and staff."""
    p = SandboxPhones(stack.settings.twilio_api_base_url)
    yield p
    await p.close()
