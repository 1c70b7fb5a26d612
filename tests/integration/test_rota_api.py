"""The rota HTTP API on PostgreSQL: team-scoped reads, overrides spooled as events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from dispatch.bootstrap import bootstrap
from dispatch.bus import EventPublisher
from dispatch.events.codec import decode
from dispatch.settings import Settings
from dispatch.web.app import make_web_app
from tests.integration.test_rota_projection import apply, icm_rota

LEAD = {"Authorization": "Bearer lead"}
NURSE = {"Authorization": "Bearer nurse"}


@dataclass
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@pytest.fixture
async def client(pg_pool: asyncpg.Pool, pg_url: str) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    """The web app on a projected ICM rota (team t); the spool is never relayed here."""
    await apply(pg_pool, icm_rota())
    settings = Settings(api_tokens="lead:t:team_lead,nurse:t:nurse", database_url=pg_url)
    clock = FixedClock(datetime(2026, 3, 9, 17, 30, tzinfo=UTC))  # 12:30 in New York
    services = await bootstrap(
        settings, clock=clock, pool=pg_pool, publisher=EventPublisher("127.0.0.1:9")
    )
    async with TestClient(TestServer(make_web_app(services))) as test_client:
        yield test_client
    await services.close()


async def test_reads_need_a_token(client: TestClient) -> None:  # type: ignore[type-arg]
    """Without a bearer token the rota is refused."""
    assert (await client.get("/api/oncall")).status == 401
    assert (await client.get("/api/rota")).status == 401


async def test_oncall_now_and_at_any_instant(client: TestClient) -> None:  # type: ignore[type-arg]
    """On call now (the clock), and outside hours the fallback, for the caller's team."""
    now = await (await client.get("/api/oncall", headers=NURSE)).json()
    assert now["covered"] and now["primary"]["staff_id"] == "s4"  # the override
    night = await (await client.get("/api/oncall?at=2026-03-10T02:00Z", headers=NURSE)).json()
    assert not night["covered"] and night["primary"] is None
    assert night["fallback"] == {"team_id": "act-night", "number": None}
    bad = await client.get("/api/oncall?at=2026-03-10T02:00", headers=NURSE)
    assert bad.status == 400 and (await bad.json())["field"] == "at"


async def test_rota_timeline(client: TestClient) -> None:  # type: ignore[type-arg]
    """The rota shows coverage and each layer's timeline from the instant."""
    body = await (await client.get("/api/rota?at=2026-03-09T13:00Z&hours=12", headers=NURSE)).json()
    assert body["time_zone"] == "America/New_York"
    assert body["coverage"] == {"all_day": False, "opens": "08:00", "closes": "20:00"}
    primary = [(s["staff_id"], s["source"]) for s in body["timeline"]["primary"]]
    assert primary == [("s3", "rotation"), ("s4", "override"), ("s3", "rotation"),
                       (None, "fallback")]  # fmt: skip
    bad = await client.get("/api/rota?hours=0", headers=NURSE)
    assert (await bad.json())["field"] == "hours"


async def test_override_is_spooled_once_and_projects(
    client: TestClient,  # type: ignore[type-arg]
    pg_pool: asyncpg.Pool,
) -> None:
    """A team lead's override is spooled once (a retry is a duplicate) and then wins."""
    body = {"layer": "primary", "staff_id": "s2", "starts_at": "2026-03-11T14:00Z",
            "ends_at": "2026-03-11T16:00Z"}  # fmt: skip
    first = await client.post("/api/rota/overrides", json=body, headers=LEAD)
    again = await client.post("/api/rota/overrides", json=body, headers=LEAD)
    assert first.status == again.status == 202
    assert (await first.json()) == (await again.json())
    rows = await pg_pool.fetch("SELECT value FROM ingress_spool")
    assert len(rows) == 1
    await apply(pg_pool, [decode(rows[0]["value"])])
    at = await (await client.get("/api/oncall?at=2026-03-11T15:00Z", headers=NURSE)).json()
    assert at["primary"]["staff_id"] == "s2"


@pytest.mark.parametrize(
    ("headers", "body", "status", "field"),
    [
        (NURSE, {}, 403, None),
        (LEAD, {"layer": "primary", "staff_id": "nobody-here", "starts_at": "2026-03-11T14:00Z",
                "ends_at": "2026-03-11T16:00Z"}, 422, "staff_id"),
        (LEAD, {"layer": "primary", "staff_id": "s2", "starts_at": "2026-03-11T14:00Z",
                "ends_at": "2026-03-11T13:00Z"}, 400, "ends_at"),
        (LEAD, {"layer": "tertiary", "staff_id": "s2", "starts_at": "2026-03-11T14:00Z",
                "ends_at": "2026-03-11T16:00Z"}, 400, "layer"),
        (LEAD, {"layer": "primary", "staff_id": "s2", "starts_at": "2026-03-11T14:00",
                "ends_at": "2026-03-11T16:00Z"}, 400, "starts_at"),
        (LEAD, {"layer": "primary", "staff_id": "s2", "starts_at": "2026-03-11T14:00Z",
                "ends_at": "2026-03-11T16:00Z", "colour": "red"}, 400, "colour"),
        (LEAD, {"layer": "primary", "staff_id": 2, "starts_at": "2026-03-11T14:00Z",
                "ends_at": "2026-03-11T16:00Z"}, 400, "staff_id"),
        (LEAD, {"layer": "primary", "staff_id": "s2", "starts_at": 1773237600,
                "ends_at": "2026-03-11T16:00Z"}, 400, "starts_at"),
    ],
)  # fmt: skip
async def test_refused_overrides_change_nothing(
    client: TestClient,  # type: ignore[type-arg]
    pg_pool: asyncpg.Pool,
    headers: dict[str, str],
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    """A wrong role, a stranger, a reversed or naive span, an unknown field, a number for a
    name or a time: refused as JSON naming the field, nothing spooled."""
    response = await client.post("/api/rota/overrides", json=body, headers=headers)
    assert response.status == status
    assert (await response.json()).get("field") == field
    assert await pg_pool.fetchval("SELECT count(*) FROM ingress_spool") == 0
