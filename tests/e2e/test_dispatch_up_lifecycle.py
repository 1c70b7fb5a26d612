"""`dispatch up` as systemd or a container runtime sees it: SIGTERM stops every child and
exits 0; after every process was killed, a start on the same STATE_DIR carries on where the
stack was (risk levels, escalations in flight, nothing paged twice)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import asyncpg
import psutil
import pytest

from dispatch.bus import EventPublisher
from dispatch.clients.events import ContactRecorded
from dispatch.events import new_event
from dispatch.settings import Settings
from dispatch.stack.broker import free_port
from integrations.twilio.sandbox import TwilioSandbox
from tests.e2e import fault_team as team
from tests.e2e.dispatch_up import DispatchUp, gone_by
from tests.e2e.helpers import until

pytestmark = pytest.mark.fault

CLIENT = "c-f5"


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # Straight under /tmp: the embedded PostgreSQL's system user must reach it.
    path = Path(tempfile.mkdtemp(prefix="dispatch-up-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def runs() -> AsyncIterator[list[DispatchUp]]:
    """Every `dispatch up` a test starts; whatever is left of them is killed by PID."""
    started: list[DispatchUp] = []
    yield started
    for up in started:
        await up.kill_everything()


async def test_dispatch_up_pages_through_its_own_sandbox_and_sigterm_stops_every_child(
    state_dir: Path, runs: list[DispatchUp]
) -> None:
    """`dispatch up` with no Twilio named runs the sandbox as a child of its own (decision
    056): a crisis call placed on it pages the on-duty worker. Every child is on record,
    the two servers too, so a next start would stop them had this one been killed outright.
    SIGTERM then stops the worker, the broker, PostgreSQL (with its backends), the fallback
    server and the sandbox; the process exits 0, and nothing is left on record."""
    up = DispatchUp(state_dir, free_port())
    runs.append(up)
    await up.start()
    children = up.children()
    assert set(children) == {"postgres", "broker", "worker-0", "fallback-twiml", "twilio-sandbox"}
    family = up.family_pids()
    sandboxes = [pid for pid in family if "integrations.twilio.sandbox_server" in _argv(pid)]
    assert sandboxes == [children["twilio-sandbox"]], up.twilio
    assert "dispatch.fallback.server" in _argv(children["fallback-twiml"])
    # dispatch up; PostgreSQL, the broker, the worker, the fallback server and the sandbox;
    # PostgreSQL's own processes
    assert len(family) > 6

    await _team_seeded(up, (600, 600, 600))
    async with aiohttp.ClientSession(up.twilio) as phones:
        call = {"from": team.CLIENTS[CLIENT], "to": team.LINE}
        async with phones.post("/sandbox/inbound/call", json=call) as placed:
            assert placed.status == 200, await placed.text()
        primary = {"to": team.PHONES[team.PRIMARY], "wait": "30"}
        async with phones.get("/sandbox/messages", params=primary) as got:
            pages = [m for m in await got.json() if team.code_in(m["body"])]
    assert pages, "no page reached the primary's phone"

    assert await up.terminate() == 0
    assert gone_by(family) == []
    assert not (state_dir / "children.json").exists()


def _argv(pid: int) -> str:
    with contextlib.suppress(psutil.Error):
        return " ".join(psutil.Process(pid).cmdline())
    return ""


@pytest.fixture
async def sandbox() -> AsyncIterator[TwilioSandbox]:
    """The phones live in the test, so they outlive every process of the stack."""
    s = Settings()
    box = TwilioSandbox(s.twilio_account_sid, s.twilio_auth_token.get_secret_value())
    await box.start()
    try:
        yield box
    finally:
        await box.stop()


async def _pages(box: TwilioSandbox, phone: str, code: str) -> int:
    return sum(1 for m in box.messages if m.to == phone and team.code_in(m.body) == code)


async def _page_to(box: TwilioSandbox, phone: str, *, within_s: float) -> str:
    async def code() -> str | None:
        return next(
            (c for m in box.messages if m.to == phone and (c := team.code_in(m.body))), None
        )

    found: str = await until(code, within_s=within_s, what=f"a page to {phone}")
    return found


async def test_after_every_process_is_killed_the_stack_carries_on(
    state_dir: Path, runs: list[DispatchUp], sandbox: TwilioSandbox
) -> None:
    """Every process SIGKILLed, then `dispatch up` on the same STATE_DIR: the client in crisis
    is still in crisis for the worker, the open dispatch escalates from the step it was on
    (backup -> team lead), and neither the primary nor the backup is paged again."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    sandbox.set_webhooks(f"{url}/twilio/voice", f"{url}/twilio/sms")
    first = DispatchUp(state_dir, port, twilio_api_base_url=sandbox.base_url)
    runs.append(first)
    await first.start()
    # Primary 6 s, backup 20 s: the crash comes while the backup's page waits for an ACK.
    await _team_seeded(first, (6, 20, 600))
    db = await asyncpg.connect(first.database_url)
    try:
        status, _ = await sandbox.inbound_call(team.CLIENTS[CLIENT], team.LINE)
        assert status == 200
        code = await _page_to(sandbox, team.PHONES[team.PRIMARY], within_s=30)
        assert await _page_to(sandbox, team.PHONES[team.BACKUP], within_s=30) == code
        await until(lambda: _level(db, "crisis"), within_s=30, what="the client in crisis")
        await until(lambda: _archived(db, code), within_s=30, what="the escalation archived")
    finally:
        await db.close()

    await first.kill_everything()
    second = DispatchUp(state_dir, port, twilio_api_base_url=sandbox.base_url)
    runs.append(second)
    await second.start()

    assert await _page_to(sandbox, team.PHONES[team.LEAD], within_s=60) == code
    publisher = EventPublisher(second.kafka)
    visit = ContactRecorded(client_id=CLIENT, staff_id=team.BACKUP, kind="face_to_face")
    now = datetime.now(UTC)
    await publisher.publish(
        [new_event(visit, key=CLIENT, occurred_at=now, recorded_at=now, actor="test")]
    )
    await publisher.stop()
    db = await asyncpg.connect(second.database_url)
    try:
        # Only a worker that knows the client is in crisis has a crisis to leave on a visit.
        await until(lambda: _left_crisis(db), within_s=30, what="the visit to end the crisis")
        # Two steps taken in all (backup, then team lead): a replayed or re-emitted deadline
        # of a step already left took none.
        steps = await until(lambda: _escalations(db, code, at_least=2), what="both steps")
    finally:
        await db.close()
    assert steps == [1, 2]
    for staff_id in (team.PRIMARY, team.BACKUP, team.LEAD):
        assert await _pages(sandbox, team.PHONES[staff_id], code) == 1, staff_id
    assert await second.terminate() == 0


async def _team_seeded(up: DispatchUp, step_timeouts_s: tuple[int, int, int]) -> None:
    """The fault team published on the run's broker, and projected: the web edge knows it."""
    publisher = EventPublisher(up.kafka)
    await publisher.publish(team.fault_team_events(datetime.now(UTC), step_timeouts_s))
    await publisher.stop()
    db = await asyncpg.connect(up.database_url)
    try:
        await until(lambda: _team_known(db), within_s=30, what="staff and client projected")
    finally:
        await db.close()


async def _team_known(db: asyncpg.Connection) -> bool:
    """The web edge knows the team's staff and the caller as a client (not an unknown number)."""
    return bool(
        await db.fetchval(
            """SELECT EXISTS (SELECT 1 FROM staff WHERE team_id = $1)
                  AND EXISTS (SELECT 1 FROM clients WHERE client_id = $2)""",
            team.TEAM,
            CLIENT,
        )
    )


async def _level(db: asyncpg.Connection, level: str) -> bool:
    found = await db.fetchval("SELECT level FROM client_risk WHERE client_id = $1", CLIENT)
    return bool(found == level)


async def _archived(db: asyncpg.Connection, code: str) -> bool:
    """The dispatch's escalation and both pages are in the archive."""
    counts = await db.fetchrow(
        """SELECT count(*) FILTER (WHERE a.type = 'DispatchEscalated') AS escalated,
                  count(*) FILTER (WHERE a.type = 'PageSent') AS sent
           FROM event_archive a JOIN dispatches d ON d.correlation_id = a.correlation_id
           WHERE d.short_code = $1""",
        code,
    )
    return bool(counts["escalated"] >= 1 and counts["sent"] >= 2)


async def _escalations(db: asyncpg.Connection, code: str, *, at_least: int) -> list[int] | None:
    """The steps the dispatch escalated to, once at least `at_least` are archived."""
    rows = await db.fetch(
        """SELECT (a.payload->>'sequence')::int AS step
           FROM event_archive a JOIN dispatches d ON d.correlation_id = a.correlation_id
           WHERE d.short_code = $1 AND a.type = 'DispatchEscalated' ORDER BY step""",
        code,
    )
    return [r["step"] for r in rows] if len(rows) >= at_least else None


async def _left_crisis(db: asyncpg.Connection) -> bool:
    return bool(
        await db.fetchval(
            "SELECT count(*) FROM risk_changes WHERE client_id = $1 AND from_level = 'crisis'",
            CLIENT,
        )
    )
