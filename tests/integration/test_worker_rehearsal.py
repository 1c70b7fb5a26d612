"""A worker rehearses a crisis call before it says it is ready (dispatch/worker/rehearsal.py):
on real PostgreSQL and the real twilio SDK against the sandbox, the call is decided and its
page read for, and nothing is recorded, claimed or sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from structlog.testing import capture_logs

from dispatch.bootstrap import Services, bootstrap
from dispatch.bus import EventPublisher
from dispatch.settings import Settings
from dispatch.worker.rehearsal import REHEARSAL_TEAM, rehearse
from integrations.twilio.client import TwilioTelephony
from integrations.twilio.sandbox import TwilioSandbox
from tests.integration.test_rota_api import FixedClock
from tests.integration.test_rota_projection import apply, icm_rota

NOW = datetime(2026, 3, 9, 17, 30, tzinfo=UTC)  # 12:30 in New York: s4 covers the primary
NO_KAFKA = "127.0.0.1:9"  # nothing listens: an append would fail
TABLES = ("ingress_spool", "event_archive", "dispatches", "pages", "page_ledger")


@pytest.fixture
async def services(
    pg_pool: asyncpg.Pool, pg_url: str, telephony: TwilioTelephony
) -> AsyncIterator[Services]:
    built = await bootstrap(
        Settings(database_url=pg_url),
        clock=FixedClock(NOW),
        pool=pg_pool,
        publisher=EventPublisher(NO_KAFKA),
        telephony=telephony,
    )
    yield built
    await built.close()


async def rows(pool: asyncpg.Pool) -> dict[str, int]:
    return {t: await pool.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}  # noqa: S608


async def test_a_rehearsal_decides_a_call_for_the_person_on_duty_and_sends_nothing(
    pg_pool: asyncpg.Pool, services: Services, twilio_sandbox: TwilioSandbox
) -> None:
    await apply(pg_pool, icm_rota())
    before = await rows(pg_pool)
    with capture_logs() as logs:
        done = await rehearse(services, timeout_s=10)
    assert done is not None
    assert done.team_id == "t"
    assert done.decided[:2] == ("DispatchOpened", "EscalationPlanFrozen")
    assert done.pages == 1  # the page the person dialled would get
    assert await rows(pg_pool) == before  # no call recorded, no dispatch, no page claimed
    assert list(twilio_sandbox.messages) == [] and list(twilio_sandbox.calls) == []
    assert [e["event"] for e in logs] == ["worker_rehearsed"]


async def test_with_no_team_known_it_rehearses_a_call_nobody_can_be_paged_for(
    pg_pool: asyncpg.Pool, services: Services, twilio_sandbox: TwilioSandbox
) -> None:
    before = await rows(pg_pool)
    done = await rehearse(services, timeout_s=10)
    assert done is not None
    assert done.team_id == REHEARSAL_TEAM and done.pages == 0
    assert "DispatchOpened" in done.decided
    assert await rows(pg_pool) == before
    assert list(twilio_sandbox.messages) == []


async def test_a_rehearsal_that_fails_is_logged_once_and_returns_nothing(
    pg_pool: asyncpg.Pool, services: Services
) -> None:
    await pg_pool.close()  # the database is gone from under the worker
    with capture_logs() as logs:
        done = await rehearse(services, timeout_s=10)
    assert done is None
    failed = [e for e in logs if e["event"] == "worker_rehearsal_failed"]
    assert len(failed) == 1 and failed[0]["log_level"] == "warning"
    assert "pool" in failed[0]["error"].lower()
