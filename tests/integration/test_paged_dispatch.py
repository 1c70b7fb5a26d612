"""Someone who acts on the page they have just been sent finds its dispatch, even when the
projector has not applied it yet (dispatch/web/paged_dispatch.py), on real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from dispatch.bootstrap import Services, bootstrap
from dispatch.bus import EventPublisher
from dispatch.crisis.decide import Responder, open_dispatch
from dispatch.crisis.events import DispatchOpened
from dispatch.events import Envelope
from dispatch.paging.events import PageRequested
from dispatch.settings import Settings
from dispatch.web.paged_dispatch import paged_dispatch
from dispatch.worker.rehearsal import rehearsal_call
from tests.fixtures.postgres import project_all
from tests.integration.test_rota_api import FixedClock

NOW = datetime(2026, 3, 9, 17, 30, tzinfo=UTC)
NO_KAFKA = "127.0.0.1:9"


@pytest.fixture
async def services(pg_pool: asyncpg.Pool, pg_url: str) -> AsyncIterator[Services]:
    built = await bootstrap(
        Settings(database_url=pg_url),
        clock=FixedClock(NOW),
        pool=pg_pool,
        publisher=EventPublisher(NO_KAFKA),
    )
    yield built
    await built.close()


def decided(team_id: str) -> tuple[Envelope, PageRequested, str]:
    """A dispatch of `team_id` just decided: DispatchOpened, its SMS page, its code."""
    call = rehearsal_call(team_id, "s1", NOW)
    opened, *pages = open_dispatch(
        call, responder=Responder(staff_id="s1", phone="+15550100001"), now=NOW
    )
    page = next(p.payload for p in pages if isinstance(p.payload, PageRequested))
    assert isinstance(opened.payload, DispatchOpened) and isinstance(page, PageRequested)
    return opened, page, opened.payload.short_code


async def paged(services: Services, page: PageRequested, code: str) -> None:
    """The notifier's claim: from here on the page can reach a phone."""
    await services.ledger.claim(
        notification_id=page.notification_id,
        dispatch_id=page.dispatch_id,
        channel="sms",
        now=NOW,
        short_code=code,
        staff_id=page.staff_id,
    )


async def test_a_paged_dispatch_not_projected_yet_is_found_once_it_is(
    pg_pool: asyncpg.Pool, services: Services
) -> None:
    opened, page, code = decided("t")
    await paged(services, page, code)
    looking = asyncio.create_task(paged_dispatch(services, code, team_id="t"))
    await asyncio.sleep(0.3)
    assert not looking.done()  # no "no such dispatch": it waits for the projector
    await project_all(pg_pool, [opened])  # which applies it now
    row = await looking
    assert row is not None and row.short_code == code and row.team_id == "t"


async def test_a_code_nobody_was_paged_with_is_not_found(services: Services) -> None:
    assert await paged_dispatch(services, "ZZZZZ", team_id="t") is None


async def test_another_teams_dispatch_is_not_found(
    pg_pool: asyncpg.Pool, services: Services
) -> None:
    opened, page, code = decided("u")
    await paged(services, page, code)
    await project_all(pg_pool, [opened])
    assert await paged_dispatch(services, code, team_id="t") is None
    found = await paged_dispatch(services, code, team_id="u")
    assert found is not None and found.dispatch_id == page.dispatch_id
