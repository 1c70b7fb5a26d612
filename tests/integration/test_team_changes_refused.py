"""Bad changes to a team's roster, rota, carers and consent are refused the same way on the
CLI (exit 2 naming the option) and the API (4xx naming the field), on real PostgreSQL, and
nothing is recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner

from dispatch.bootstrap import bootstrap
from dispatch.bus import EventPublisher
from dispatch.cli import main
from dispatch.clients.events import CarerRegistered, ClientEnrolled
from dispatch.events import Envelope, new_event
from dispatch.events.codec import decode
from dispatch.rota.events import StaffLeft
from dispatch.settings import Settings
from dispatch.web.app import make_web_app
from tests.integration.test_rota_api import FixedClock
from tests.integration.test_rota_projection import apply, icm_rota
from tests.unit.test_rota_support import staff, team

NOW = datetime(2026, 3, 9, 17, 30, tzinfo=UTC)  # 12:30 in New York
LEAD = {"Authorization": "Bearer lead"}
NO_KAFKA = "127.0.0.1:9"  # a refused change never reaches the relay


def _at(payload: Any, key: str, when: datetime) -> Envelope:
    return new_event(payload, key=key, occurred_at=when, recorded_at=when, actor="test")


def team_facts() -> list[Envelope]:
    """Team t (s1-s4; s3 left an hour ago), team u (u1), client c-1 of t with carer k-1."""
    earlier = NOW - timedelta(days=1)
    return [
        *icm_rota(),
        team("u"),
        staff("u1", team_id="u", n=7),
        _at(StaffLeft(staff_id="s3", team_id="t", left_at=NOW - timedelta(hours=1)), "t", earlier),
        _at(ClientEnrolled(client_id="c-1", team_id="t", display_name="c", phone="+15550200001"),
            "c-1", earlier),
        _at(CarerRegistered(client_id="c-1", carer_id="k-1", display_name="k",
                            phone="+15550300001", relationship="parent"), "c-1", earlier),
    ]  # fmt: skip


@pytest.fixture
async def client(pg_pool: asyncpg.Pool, pg_url: str) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    await apply(pg_pool, team_facts())
    settings = Settings(api_tokens="lead:t:team_lead:s1,nurse:t:nurse:s2", database_url=pg_url,
                        reply_decision_wait_s=0)  # fmt: skip
    services = await bootstrap(
        settings, clock=FixedClock(NOW), pool=pg_pool, publisher=EventPublisher(NO_KAFKA)
    )
    async with TestClient(TestServer(make_web_app(services))) as test_client:
        yield test_client
    await services.close()


def _override(staff_id: str, starts: str = "2026-03-10T14:00Z", ends: str = "2026-03-10T16:00Z",
              **more: str) -> tuple[list[str], dict[str, Any]]:  # fmt: skip
    args = ["rota", "override", "--team", "t", "--staff", staff_id, "--from", starts, "--to", ends]
    body: dict[str, Any] = {"layer": "primary", "staff_id": staff_id, "starts_at": starts,
                            "ends_at": ends}  # fmt: skip
    if "override_id" in more:
        args += ["--id", more["override_id"]]
        body["override_id"] = more["override_id"]
    return args, body


OVERRIDES = "/api/rota/overrides"
PAST = (date(2026, 3, 9) - timedelta(days=1)).isoformat()
CASES = [
    # (CLI args, API path, API body, CLI option named, API field, API status)
    (*_override("zed"), OVERRIDES, "--staff", "staff_id", 422),  # unknown staff
    (*_override("u1"), OVERRIDES, "--staff", "staff_id", 422),  # another team's
    (*_override("s4"), OVERRIDES, "--staff", "staff_id", 422),  # s4 is the backup then
    (*_override("s3"), OVERRIDES, "--staff", "staff_id", 422),  # a leaver
    (*_override("s1", override_id="o1"), OVERRIDES, "--id", "override_id", 409),
    (*_override("s1", ends="2026-04-12T16:00Z"), OVERRIDES, "--to", "ends_at", 400),
    (["staff", "join", "--team", "t", "--staff", "s9", "--name", "N", "--role", "nurse",
      "--phone", "+15550100001"],
     {"staff_id": "s9", "display_name": "N", "role": "nurse", "phone": "+15550100001"},
     "/api/staff", "--phone", "phone", 422),  # s2's phone
    (["staff", "join", "--team", "t", "--staff", "u1", "--name", "N", "--role", "nurse",
      "--phone", "+15550100099"],
     {"staff_id": "u1", "display_name": "N", "role": "nurse", "phone": "+15550100099"},
     "/api/staff", "--staff", "staff_id", 409),  # still on team u
    (["staff", "leave", "--team", "t", "--staff", "u1"], {}, "/api/staff/u1/leave",
     "--staff", "staff_id", 404),
    (["staff", "leave", "--team", "t", "--staff", "s3"], {}, "/api/staff/s3/leave",
     "--staff", "staff_id", 409),  # already left
    (["staff", "leave", "--team", "t", "--staff", "s1", "--at", "2026-09-01T00:00Z"],
     {"left_at": "2026-09-01T00:00Z"}, "/api/staff/s1/leave", "--at", "left_at", 400),
    (["staff", "role", "--team", "t", "--staff", "s1", "--role", "nurse"], {"role": "nurse"},
     "/api/staff/s1/role", "--role", "role", 400),  # already a nurse
    (["carer", "add", "c-404", "--carer", "k-2", "--name", "K", "--phone", "+15550300002",
      "--relationship", "friend"],
     {"carer_id": "k-2", "display_name": "K", "phone": "+15550300002", "relationship": "friend"},
     "/api/clients/c-404/carers", "CLIENT_ID", "client_id", 404),
    (["consent", "grant", "c-1", "--carer", "k-1", "--share", "care_plan", "--review-by", PAST],
     {"shares": ["care_plan"], "review_by": PAST}, "/api/clients/c-1/carers/k-1/consent",
     "--review-by", "review_by", 400),
    (["consent", "grant", "c-1", "--carer", "k-9", "--share", "care_plan", "--review-by",
      "2026-06-01"],
     {"shares": ["care_plan"], "review_by": "2026-06-01"},
     "/api/clients/c-1/carers/k-9/consent", "--carer", "carer_id", 404),
    (["consent", "revoke", "c-1", "--carer", "k-9"], {},
     "/api/clients/c-1/carers/k-9/consent/revoke", "--carer", "carer_id", 404),
    (["carer", "assess", "c-1", "--carer", "k-9", "--need", "respite"], {"needs": ["respite"]},
     "/api/clients/c-1/carers/k-9/assessment", "--carer", "carer_id", 404),
]  # fmt: skip


@pytest.mark.parametrize(("args", "body", "path", "option", "field", "status"), CASES)
async def test_the_cli_and_the_api_refuse_alike(
    client: TestClient,  # type: ignore[type-arg]
    pg_pool: asyncpg.Pool,
    pg_url: str,
    args: list[str],
    body: dict[str, Any],
    path: str,
    option: str,
    field: str,
    status: int,
) -> None:
    """The same bad change: exit 2 naming the option, the API's status naming the field,
    nothing spooled by either."""
    env = {"DATABASE_URL": pg_url, "KAFKA_BOOTSTRAP_SERVERS": NO_KAFKA}
    result = await asyncio.to_thread(CliRunner().invoke, main, [*args, "--by", "s1"], env=env)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.output or option in result.output
    response = await client.post(path, json=body, headers=LEAD)
    answer = await response.json()
    assert (response.status, answer.get("field")) == (status, field), answer
    assert await pg_pool.fetchval("SELECT count(*) FROM ingress_spool") == 0


async def test_staff_changes_need_a_team_lead_or_manager(client: TestClient) -> None:  # type: ignore[type-arg]
    """A nurse's token may read the staff list but not change it (403)."""
    nurse = {"Authorization": "Bearer nurse"}
    listed = await (await client.get("/api/staff", headers=nurse)).json()
    assert {s["staff_id"]: s["left_at"] is not None for s in listed["staff"]}["s3"]
    refused = await client.post("/api/staff/s1/role", json={"role": "manager"}, headers=nurse)
    assert refused.status == 403


async def test_a_departure_records_its_gaps_and_takes_the_leaver_off_the_rota(
    client: TestClient,  # type: ignore[type-arg]
    pg_pool: asyncpg.Pool,
) -> None:
    """s1 leaving records StaffLeft and a gap for each day the rotation still gives them;
    once applied, nobody covers those days, the board says so, and s1 is never paged."""
    response = await client.post("/api/staff/s1/leave", json={"reason": "retired"}, headers=LEAD)
    assert response.status == 202
    answer = await response.json()
    assert answer["in_force"] is False and answer["gaps"], answer
    rows = await pg_pool.fetch("SELECT value FROM ingress_spool ORDER BY seq")
    events = [decode(r["value"]) for r in rows]
    types = [e.type for e in events]
    assert types[0] == "StaffLeft" and set(types[1:]) == {"CoverageGapDetected"}
    assert {e.actor for e in events} == {"api:team_lead:s1"}
    await apply(pg_pool, events)
    first = answer["gaps"][0]
    at = datetime.fromisoformat(first["starts_at"]) + timedelta(minutes=1)
    on_call = await (await client.get(f"/api/oncall?at={at.isoformat()}", headers=LEAD)).json()
    assert on_call["primary"] is None
    board = await (await client.get("/api/huddle", headers=LEAD)).json()
    assert any("COVERAGE GAP primary" in n["text"] and "s1" in n["text"]
               for n in board["notices"])  # fmt: skip


async def test_a_rota_file_still_listing_a_leaver_is_refused(
    client: TestClient,  # type: ignore[type-arg]
    pg_pool: asyncpg.Pool,
    pg_url: str,
    tmp_path: Path,
) -> None:
    """`rota load` (the path the demo's team takes too) refuses a file that lists s3, who
    left: exit 2 naming the file's entry and `dispatch staff join`, nothing spooled."""
    rota_file = tmp_path / "t.yaml"
    rota_file.write_text(
        "team: {id: t, name: T, service_model: ICM, time_zone: America/New_York,\n"
        "       fallback_number: '+15550009999'}\n"
        "staff:\n"
        "- {id: s1, name: One, role: team_lead, phone: '+15550100101'}\n"
        "- {id: s3, name: Three, role: nurse, phone: '+15550100103'}\n"
    )
    env = {"DATABASE_URL": pg_url, "KAFKA_BOOTSTRAP_SERVERS": NO_KAFKA}
    args = ["rota", "load", str(rota_file), "--by", "s1"]
    result = await asyncio.to_thread(CliRunner().invoke, main, args, env=env)
    assert result.exit_code == 2, result.output
    assert "staff[1].id" in result.output and "'s3' left the team" in result.output
    assert "dispatch staff join" in result.output
    assert await pg_pool.fetchval("SELECT count(*) FROM ingress_spool") == 0
