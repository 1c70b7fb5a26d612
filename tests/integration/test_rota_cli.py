"""The rota commands against the real broker and PostgreSQL: load, project, show, export."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import yaml
from aiokafka import AIOKafkaConsumer
from click.testing import CliRunner

from dispatch.cli import main
from dispatch.events import Envelope
from dispatch.events.codec import decode
from dispatch.topics import ROSTER_EVENTS
from projections.pool import connect
from projections.project import project
from tests.unit.test_rota_file import GOOD


async def read_team_events(bootstrap: str, team_id: str, count: int) -> list[Envelope]:
    """The team's events on the roster topic, read from the start until `count` arrived."""
    consumer = AIOKafkaConsumer(
        ROSTER_EVENTS, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[Envelope] = []
    deadline = time.monotonic() + 30
    try:
        while len(found) < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                found += [decode(r.value) for r in records if r.key == team_id.encode()]
    finally:
        await consumer.stop()
    return found


async def project_all(url: str, events: list[Envelope]) -> None:
    pool: asyncpg.Pool = await connect(url, max_size=2)
    try:
        async with pool.acquire() as conn, conn.transaction():
            for event in events:
                await project(conn, event)
    finally:
        await pool.close()


def test_load_publish_project_show_export(
    tmp_path: Path, kafka_bootstrap: str, pg_url: str
) -> None:
    """A loaded file reaches Kafka; projected, `oncall`, `show` and `export` answer from it."""
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["team"]["id"] = "icm-cli"
    rota_file = tmp_path / "rota.yaml"
    rota_file.write_text(yaml.safe_dump(data))
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "DATABASE_URL": pg_url}
    runner = CliRunner()

    loaded = runner.invoke(main, ["rota", "load", str(rota_file), "--by", "s-lead"], env=env)
    assert loaded.exit_code == 0, loaded.output
    events = asyncio.run(read_team_events(kafka_bootstrap, "icm-cli", 6))
    assert len(events) == 6 and events[0].type == "TeamFormed"
    assert {e.actor for e in events} == {"cli:s-lead"}  # who loaded it
    asyncio.run(project_all(pg_url, events))

    def run(*args: str) -> str:
        result = runner.invoke(main, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    assert run("oncall", "--team", "icm-cli", "--at", "2026-03-03T11:00Z") == (
        "primary: b   backup: nobody\n"
    )
    assert "fallback act-north" in run("oncall", "--team", "icm-cli", "--at", "2026-03-03T22:00Z")
    shown = run("rota", "show", "--team", "icm-cli", "--at", "2026-03-03T09:00Z", "--hours", "24")
    assert "from Tue 2026-03-03 10:00 GMT  b (override)" in shown
    assert "caseload: 0 clients / 2 staff" in shown

    exported = yaml.safe_load(run("rota", "export", "--team", "icm-cli"))
    assert exported["coverage"] == {"hours": "08:00-20:00", "fallback_team": "act-north"}
    assert [r["id"] for r in exported["rotations"]] == ["day"]
    missing = runner.invoke(main, ["oncall", "--team", "nope"], env=env)
    assert missing.exit_code == 1 and "--team: no team 'nope'" in missing.output
