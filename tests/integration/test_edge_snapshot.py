"""The edge's snapshot of the read models answers exactly as PostgreSQL does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from dispatch.clients.events import CarerRegistered, ClientEnrolled
from dispatch.demo.seed import CARERS, CLIENT_PHONES, STAFF, TEAM_ID, seed_events
from dispatch.events import new_event
from projections.edge_snapshot import load_edge_snapshot
from projections.project import project
from projections.queries import ReadModels
from tests.e2e.south_team import CLIENTS, LINE, PHONES, south_team_events
from tests.e2e.south_team import TEAM as SOUTH

NOW = datetime(2026, 3, 7, 22, 30, tzinfo=UTC)  # a DST change (US) falls in the horizon
NORTH_LINE = "+15005550001"


async def test_snapshot_gives_the_read_models_answers(pg_pool: asyncpg.Pool) -> None:
    """Every question the webhooks ask (lines, callers, staff phones, preferences, who is
    on duty every 20 minutes across the horizon) gets the same answer from memory."""
    shared_phone = CLIENT_PHONES["c-04"]  # a client's own number is also a carer's
    carer = CarerRegistered(client_id="c-01", carer_id="carer-x", display_name="X",
                            phone=shared_phone, relationship="friend",
                            client_consents_to_share=True)  # fmt: skip
    # The demo enrols its clients through the journey service; here they are plain events.
    enrolled = [
        new_event(
            ClientEnrolled(client_id=client_id, team_id=TEAM_ID, display_name=client_id,
                           phone=phone),
            key=client_id, occurred_at=NOW, recorded_at=NOW, actor="test",
        )
        for client_id, phone in CLIENT_PHONES.items()
    ]  # fmt: skip
    events = [
        *seed_events(NOW, NORTH_LINE),
        *enrolled,
        *south_team_events(NOW),
        new_event(carer, key="c-01", occurred_at=NOW, recorded_at=NOW, actor="test"),
    ]
    async with pg_pool.acquire() as conn, conn.transaction():
        for event in events:
            await project(conn, event)
    read_models = ReadModels(pg_pool)
    snapshot = await load_edge_snapshot(pg_pool, NOW, timedelta(hours=12))

    phones = [*CLIENT_PHONES.values(), *(p for p, _ in CARERS.values()), *CLIENTS.values(),
              *PHONES.values(), *(s.phone for s in STAFF), "+15550000000"]  # fmt: skip
    for phone in phones:
        assert await snapshot.caller_by_phone(phone) == await read_models.caller_by_phone(phone)
        assert await snapshot.staff_by_phone(phone) == await read_models.staff_by_phone(phone)
    assert (await snapshot.caller_by_phone(shared_phone)).kind == "client"
    for number in (NORTH_LINE, LINE, "+15550000000"):
        assert await snapshot.team_for_line(number) == await read_models.team_for_line(number)
    for client_id in [*CLIENT_PHONES, "c-none"]:
        expected = await read_models.client_preferences(client_id)
        assert await snapshot.client_preferences(client_id) == expected
    for team_id in (TEAM_ID, SOUTH, "no-such-team"):
        assert await snapshot.team(team_id) == await read_models.team(team_id)
        for step in range(36):
            at = NOW + timedelta(minutes=20 * step)
            assert await snapshot.on_duty(team_id, at) == await read_models.on_duty(team_id, at)
