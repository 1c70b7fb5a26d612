"""The web app on a real PostgreSQL (no broker: events stay in the ingress spool), with the
demo team projected and a clock a test can move, for the console's tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient, TestServer

from dispatch.bootstrap import Services, bootstrap
from dispatch.bus import EventPublisher
from dispatch.demo.seed import seed_events
from dispatch.events import Envelope
from dispatch.events.codec import decode
from dispatch.settings import Settings
from dispatch.web.app import make_web_app
from dispatch.web.console.passwords import hash_password
from projections.console_accounts import NewAccount
from projections.project import project

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
PASSWORD = "blue kettle orchard lamp"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class MovableClock:
    at: datetime = NOW

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by


@asynccontextmanager
async def console_app(
    pool: asyncpg.Pool, tmp_path: Any, telephony: Any = None
) -> AsyncIterator[tuple[TestClient[Any, Any], Services, MovableClock]]:
    clock = MovableClock()
    async with pool.acquire() as conn, conn.transaction():
        for event in seed_events(NOW - timedelta(days=1), "+15005550001"):
            await project(conn, event)
    settings = Settings(rota_cache_refresh_s=0, state_dir=tmp_path, reply_decision_wait_s=0)
    services = await bootstrap(settings, clock=clock, pool=pool, telephony=telephony,
                               publisher=EventPublisher("127.0.0.1:9"))  # fmt: skip
    async with TestClient(TestServer(make_web_app(services))) as client:
        yield client, services, clock
    await services.close()


async def add_account(services: Services, account_id: str, role: str = "staff") -> None:
    await services.accounts.create(
        NewAccount(account_id=account_id, staff_id=account_id, team_id=None, role=role,
                   created_at=NOW, created_by="test", password_hash=hash_password(PASSWORD))
    )  # fmt: skip


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found, page
    return found.group(1)


async def sign_in(client: TestClient[Any, Any], account_id: str, password: str = PASSWORD) -> Any:
    """GET the form (its CSRF cookie and field), then POST it; the response (not followed)."""
    form = await client.get("/console/login")
    token = csrf_of(await form.text())
    return await client.post(
        "/console/login",
        allow_redirects=False,
        data={"csrf": token, "account": account_id, "password": password},
    )


async def spooled(pool: asyncpg.Pool, event_type: str) -> list[Envelope]:
    """The events of this type the app has accepted into the ingress spool, in order."""
    rows = await pool.fetch("SELECT value FROM ingress_spool ORDER BY seq")
    return [e for e in (decode(bytes(r["value"])) for r in rows) if e.type == event_type]
